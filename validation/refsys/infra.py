"""The reference system's processes: a throwaway PostgreSQL cluster and a Redis, both on
loopback on their own ports, and the four services; every process started here is stopped by
`System.stop`, which the study calls on any exit.
"""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import psycopg
import redis

HERE = os.path.dirname(os.path.abspath(__file__))
PORTS = {
    "frontend": {"az-a": 18101, "az-b": 18102},
    "catalog": {"az-a": 18111, "az-b": 18112},
    "cart": {"az-a": 18121, "az-b": 18122},
    "pricing": 18131,
    "redis": 16379,
    "catalog-db": 15432,
}
DB_USER = "refsys"


def wait_port(port, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds:.0f} s")


def pg_bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"PostgreSQL's {name} not found (apt-get install postgresql)")
    return path


def as_pg_user(argv):
    """initdb and postgres refuse to run as root: run them as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--"] + argv if os.geteuid() == 0 else argv


class System:
    def __init__(self, workdir, model_path, log):
        self.workdir, self.model_path, self.log = workdir, model_path, log
        # Under /tmp, not the work tree: the `postgres` user must reach it, and a checkout
        # under /root is closed to it.
        self.pgdata = os.path.join(tempfile.mkdtemp(prefix="refsys-pg-"), "data")
        self.procs = {}
        self.pg_started = False
        self.env = dict(os.environ, REFSYS_PORTS=json.dumps(PORTS),
                        TRACE_FILE=os.path.join(workdir, "traces.jsonl"))

    # --- PostgreSQL -------------------------------------------------------------------------
    def start_postgres(self):
        os.makedirs(self.pgdata)
        if os.geteuid() == 0:
            shutil.chown(os.path.dirname(self.pgdata), "postgres", "postgres")
            shutil.chown(self.pgdata, "postgres", "postgres")
        self._quiet(as_pg_user([pg_bin("initdb"), "-D", self.pgdata, "-U", DB_USER,
                                "--auth=trust", "--no-sync"]))
        opts = (f"-p {PORTS['catalog-db']} -k {self.pgdata} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c max_connections=40")
        self._quiet(as_pg_user([pg_bin("pg_ctl"), "-D", self.pgdata, "-o", opts, "-w",
                                "-l", os.path.join(self.pgdata, "log"), "start"]))
        self.pg_started = True
        with self.pg("postgres") as conn:
            conn.execute("CREATE DATABASE catalog")
        with self.pg("catalog") as conn:
            conn.execute("CREATE TABLE items (id int PRIMARY KEY, name text, price numeric)")
            conn.execute("INSERT INTO items SELECT g, 'item ' || g, g * 0.25 "
                         "FROM generate_series(1, 1000) g")
            conn.execute("CREATE TABLE fault_delay (seconds float8 NOT NULL)")
            conn.execute("INSERT INTO fault_delay VALUES (0)")

    def pg(self, db):
        return psycopg.connect(host="127.0.0.1", port=PORTS["catalog-db"], dbname=db,
                               user=DB_USER, autocommit=True, connect_timeout=5)

    def set_pg_delay(self, seconds):
        with self.pg("catalog") as conn:
            conn.execute("UPDATE fault_delay SET seconds = %s", (seconds,))

    def stop_postgres(self):
        if self.pg_started:
            subprocess.run(as_pg_user([pg_bin("pg_ctl"), "-D", self.pgdata, "-m", "immediate",
                                       "-w", "stop"]), stdout=self.log, stderr=self.log)
            self.pg_started = False
        shutil.rmtree(os.path.dirname(self.pgdata), ignore_errors=True)

    # --- Redis ------------------------------------------------------------------------------
    def start_redis(self):
        self.spawn("redis", ["redis-server", "--port", str(PORTS["redis"]), "--bind",
                             "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--daemonize", "no", "--dir", self.workdir])
        wait_port(PORTS["redis"])
        client = redis.Redis(host="127.0.0.1", port=PORTS["redis"])
        client.mset({f"cart:{k}": "x" * (k % 64) for k in range(1, 1001)})
        client.close()

    # --- the services -----------------------------------------------------------------------
    def start_service(self, name, zone=None):
        argv = [sys.executable, os.path.join(HERE, f"{name}.py"), "--model", self.model_path]
        if zone:
            argv += ["--zone", zone]
        if name == "catalog":
            argv += ["--dbuser", DB_USER]
        key = f"{name}-{zone}" if zone else name
        self.spawn(key, argv)
        wait_port(PORTS[name][zone] if zone else PORTS[name])

    def start_all(self):
        self.start_postgres()
        self.start_redis()
        self.start_service("pricing")
        for name in ("catalog", "cart", "frontend"):
            for zone in ("az-a", "az-b"):
                self.start_service(name, zone)

    def spawn(self, key, argv):
        self.procs[key] = (subprocess.Popen(argv, env=self.env, stdout=self.log,
                                            stderr=self.log), argv)

    def signal(self, key, sig):
        self.procs[key][0].send_signal(sig)

    def kill(self, key):
        proc, _ = self.procs[key]
        proc.kill()
        proc.wait()

    def restart(self, key):
        _, argv = self.procs[key]
        self.spawn(key, argv)

    def stop(self):
        for key, (proc, _) in list(self.procs.items()):
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.terminate()
        for key, (proc, _) in list(self.procs.items()):
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()
        self.stop_postgres()

    def _quiet(self, argv):
        done = subprocess.run(argv, stdout=self.log, stderr=self.log)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}); see the log")
