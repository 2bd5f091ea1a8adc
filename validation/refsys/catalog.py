"""catalog: GET /item does its own work (a sleep, exponential, mean 4 ms) and reads one row
from PostgreSQL. The query sleeps for `fault_delay.seconds` inside PostgreSQL (pg_sleep), 0
normally: the PostgreSQL-slowdown fault sets it with an UPDATE, so the delay is real server
time on a real backend. The call's timeout is PostgreSQL's statement_timeout, set per
connection from the model; one connection per worker thread.
"""

import random
import sys
import threading

import psycopg
from opentelemetry.trace import SpanKind, Status, StatusCode

import common
import config

QUERY = ("SELECT i.name, i.price, pg_sleep(d.seconds) FROM items i, fault_delay d "
         "WHERE i.id = %s")


def main():
    args = common.arg_map(sys.argv)
    model = config.load_model(args["model"])
    zone, ports = args["zone"], config.ports()
    me = config.node(model, "catalog")
    tracer = common.make_tracer("catalog", f"catalog-{zone}", zone)
    timeout_s, _, _ = config.call(model, "catalog", "catalog-db")
    local = threading.local()
    rng = random.Random()

    def connection():
        if getattr(local, "conn", None) is None or local.conn.closed:
            local.conn = psycopg.connect(
                host=common.LOOPBACK, port=ports["catalog-db"], dbname="catalog",
                user=args["dbuser"], autocommit=True, connect_timeout=2,
                options=f"-c statement_timeout={int(timeout_s * 1000)}")
        return local.conn

    def query(item):
        with tracer.start_as_current_span(
                "SELECT catalog.items", kind=SpanKind.CLIENT,
                attributes={"db.system": "postgresql", "peer.service": "catalog-db",
                            "server.address": common.LOOPBACK,
                            "server.port": ports["catalog-db"]}) as span:
            try:
                with connection().cursor() as cur:
                    cur.execute(QUERY, (item,))
                    return cur.fetchone()
            except psycopg.Error as err:
                span.set_status(Status(StatusCode.ERROR, type(err).__name__))
                if local.conn is not None and local.conn.broken:
                    local.conn = None
                return None

    def app(path):
        if not path.startswith("/item"):
            return 404, "no such path"
        common.sleep_exponential(rng, 0.004)
        row = query(rng.randrange(1, 1001))
        if row is None:
            return 503, "database failed"
        return 200, f"{row[0]} {row[1]}"

    common.serve(ports["catalog"][zone], app, tracer, me["workers"], me["queue"])


if __name__ == "__main__":
    main()
