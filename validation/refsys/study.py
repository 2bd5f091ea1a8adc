"""The sim-to-real study: start the reference system, run each fault for real (under the same
open-loop load, several repetitions) and in simulation (several seeds), and compare per window.

Usage: study.py --bin BLASTRADIUS --out DIR [--smoke] [--reanalyse]

The faults, their offsets and durations come from validation/scenarios/*.toml: the real
timeline of one repetition is a warm-up, then per fault its `before`, `during` and `after`
windows back to back, each as long as in the scenario. A *fault run* is one fault in one
repetition.

Two calibrations of the model, both from fault-free load only:

- per run (the headline): each fault run's model is measured from that run's own `before`
  window (fault-free, just before its fault), so a real run is compared with a simulation of
  the system as it was minutes, not a quarter of an hour, earlier — the machine is shared and
  its load drifts. The before window then agrees partly by construction; the during and after
  windows and the fault's shift (during minus before) are the claims;
- once at the start (the previous method, kept for comparison): a steady run before the
  first repetition.

The load average (/proc/loadavg) is recorded at the start and end of the steady run, of every
repetition and of every fault run, and reported beside them. The timed-out attempts' overshoot
(how late a real timeout fires) is measured from the fault runs' traces and reported.

Results go to DIR: the steady traces, every request record, the traces (system/), the
calibrated models (model.toml; runs/FAULT-repN/model.toml), the simulator's reports,
runs.json (times and load averages), comparison.json and comparison.md (also printed). With
--smoke: one fault, one repetition, a smaller rate, and exit 1 when a (per-run calibrated)
prediction misses twice its target and lies outside the seeds' spread. --reanalyse reads the
records and traces already in DIR and runs only the calibrations, simulations and comparison
(DIR/model.toml is kept).
"""

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import tomllib
import urllib.request
from collections import defaultdict

import calibrate as calib
import config
import infra

HERE = os.path.dirname(os.path.abspath(__file__))
VALIDATION = os.path.dirname(HERE)
WINDOWS = ("before", "during", "after")
FULL = {"faults": ["redis-crash", "redis-pause", "postgres-slow", "catalog-kill",
                   "pricing-errors"], "reps": 3, "seeds": [1, 2, 3, 4, 5], "rate": None,
        "steady_s": 20.0, "warm_s": 10.0}
SMOKE = {"faults": ["redis-pause"], "reps": 1, "seeds": [1, 2, 3], "rate": 10,
         "steady_s": 15.0, "warm_s": 10.0}
# Targets: success ratio in percentage points, p50 and p99 relative, recovery in seconds.
TARGETS = {"success": 1.0, "p50": 0.15, "p99": 0.25, "recovery": 5.0}


def log(msg):
    print(f"[study {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def loadavg():
    """The machine's load averages (1, 5, 15 minutes) now, with the UTC time."""
    try:
        with open("/proc/loadavg") as f:
            one, five, fifteen = (float(x) for x in f.read().split()[:3])
    except OSError:
        one = five = fifteen = None
    return {"utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()), "1m": one, "5m": five,
            "15m": fifteen}


# --- scenarios ------------------------------------------------------------------------------

def read_scenario(name):
    path = os.path.join(VALIDATION, "scenarios", f"{name}.toml")
    with open(path, "rb") as f:
        sc = tomllib.load(f)
    fault = sc["fault"][0]
    warm = config.seconds(sc["warmup"])
    start = config.seconds(fault["start"])
    during = config.seconds(fault.get("duration") or fault["restart_after"])
    total = config.seconds(sc["duration"])
    return {"name": name, "path": path, "fault": fault, "warm": warm,
            "before": start - warm, "during": during, "after": total - start - during}


# --- real faults ----------------------------------------------------------------------------

def fault_actions(system, sc):
    """(inject, clear) for the real system, with the scenario's own parameters."""
    f, name = sc["fault"], sc["name"]
    if name == "redis-crash":
        def clear():
            system.restart("redis")
            infra.wait_port(infra.PORTS["redis"])
        return (lambda: system.kill("redis")), clear
    if name == "redis-pause":
        return (lambda: system.signal("redis", signal.SIGSTOP),
                lambda: system.signal("redis", signal.SIGCONT))
    if name == "postgres-slow":
        delay = config.seconds(f["latency"]["value"])
        return (lambda: system.set_pg_delay(delay)), (lambda: system.set_pg_delay(0.0))
    if name == "catalog-kill":
        key = f"catalog-{f['zone']}"
        return (lambda: system.kill(key)), (lambda: system.restart(key))
    if name == "pricing-errors":
        port = infra.PORTS["pricing"]
        def share(s):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/fault?errors={s}", timeout=5).read()
        return (lambda: share(f["share"])), (lambda: share(0))
    raise KeyError(name)


def timeline(scenarios, warm_s):
    """Each fault's segment start, from the load's origin."""
    t, out = warm_s, []
    for sc in scenarios:
        out.append(t)
        t += sc["before"] + sc["during"] + sc["after"]
    return out, t


def loadgen(out, rate, duration, seed, start_file):
    frontends = infra.PORTS["frontend"]
    argv = [sys.executable, os.path.join(HERE, "loadgen.py"), "--rate", str(rate),
            "--duration", str(duration), "--max", str(int(rate * duration * 3) + 100),
            "--timeout", "2", "--seed", str(seed),
            "--frontends", f"{frontends['az-a']},{frontends['az-b']}", "--zones", "az-a,az-b",
            "--out", out, "--start-file", start_file]
    return subprocess.Popen(argv)


def load_origin(start_file, proc):
    while not os.path.exists(start_file) or os.path.getsize(start_file) == 0:
        if proc.poll() is not None:
            raise RuntimeError("the load generator exited before starting")
        time.sleep(0.01)
    with open(start_file) as f:
        return float(f.read())


def run_real(system, scenarios, plan, rate, rep, out_dir):
    """One repetition: its records, and its times and load averages (at its start and end and
    at every fault run's start and end)."""
    starts, total = timeline(scenarios, plan["warm_s"])
    records_path = os.path.join(out_dir, f"real-rep{rep}.jsonl")
    start_file = os.path.join(out_dir, f".start-rep{rep}")
    info = {"rep": rep, "start": loadavg(), "segments": []}
    proc = loadgen(records_path, rate, total, 1000 + rep, start_file)
    origin = load_origin(start_file, proc)
    for sc, seg in zip(scenarios, starts):
        inject, clear = fault_actions(system, sc)
        sleep_until(origin + seg)
        now = loadavg()
        if info["segments"]:
            info["segments"][-1]["end"] = now
        info["segments"].append({"fault": sc["name"], "start": now})
        sleep_until(origin + seg + sc["before"])
        log(f"rep {rep}: {sc['name']} starts")
        inject()
        sleep_until(origin + seg + sc["before"] + sc["during"])
        clear()
        log(f"rep {rep}: {sc['name']} ends")
    sleep_until(origin + total)
    info["segments"][-1]["end"] = info["end"] = loadavg()
    if proc.wait() != 0:
        raise RuntimeError("the load generator failed")
    log(f"rep {rep}: load average {info['start']['1m']} at its start, {info['end']['1m']} at "
        "its end")
    with open(records_path) as f:
        return [json.loads(line) for line in f], info


def sleep_until(t):
    delay = t - time.monotonic()
    if delay > 0:
        time.sleep(delay)


# --- metrics, the same for both sides -------------------------------------------------------

def nearest_rank(values, q):
    values = sorted(values)
    if not values:
        return None
    k = max(0, min(len(values) - 1, int(-(-q * len(values) // 1)) - 1))
    return values[k]


def real_windows(records, seg, sc):
    """Per window by send time: success ratio and p50/p99 of the answered requests."""
    out, t = {}, seg
    for w in WINDOWS:
        length = sc[w]
        sel = [r for r in records if t <= r["sent"] < t + length]
        answered = [r["latency"] for r in sel if r["outcome"] in ("ok", "degraded")]
        out[w] = {"requests": len(sel), "success": len(answered) / max(len(sel), 1),
                  "p50": nearest_rank(answered, 0.5), "p99": nearest_rank(answered, 0.99)}
        t += length
    return out


def real_buckets(records, seg, sc):
    """Per second by end time over the fault's segment: (completed, errors, p99)."""
    n = int(sc["before"] + sc["during"] + sc["after"])
    lat, done, err = [[] for _ in range(n)], [0] * n, [0] * n
    for r in records:
        i = int(r["end"] - seg)
        if 0 <= i < n:
            done[i] += 1
            if r["outcome"] in ("ok", "degraded"):
                lat[i].append(r["latency"])
            else:
                err[i] += 1
    return done, err, [nearest_rank(v, 0.99) for v in lat]


def recovery(done, err, p99, sc):
    """Seconds from the fault's end until the per-second error share and p99 stay in the
    before window's band (its worst second, errors + 2 points, p99 x 1.2), two seconds out
    of band in a row needed to call a second not recovered (one is chance at this rate).
    The same function reads the simulator's per-second series and the real records."""
    b, end = int(sc["before"]), int(sc["before"] + sc["during"])
    share = [e / d if d else 0.0 for d, e in zip(done, err)]
    err_band = max(share[:b]) + 0.02
    p99_band = 1.2 * max(v for v in p99[:b] if v is not None)
    out = [share[i] > err_band or (p99[i] is not None and p99[i] > p99_band)
           for i in range(len(done))]
    last_bad = None
    for i in range(end, len(out) - 1):
        if out[i] and out[i + 1]:
            last_bad = i + 1
    if last_bad is None:
        return 0.0
    if last_bad >= len(out) - 1:
        return None  # not recovered by the end of the after window
    return float(last_bad + 1 - end)


# --- simulation -----------------------------------------------------------------------------

def run_sim(binary, sc, seed, sim_dir):
    doc_path = os.path.join(sim_dir, f"{sc['name']}-seed{seed}.json")
    done = subprocess.run([binary, "run", os.path.join(sim_dir, f"{sc['name']}.toml"),
                           "--seed", str(seed), "--format", "json"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"blastradius run {sc['name']} failed: {done.stderr.decode()}")
    with open(doc_path, "wb") as f:
        f.write(done.stdout)
    doc = json.loads(done.stdout)
    page = doc["workloads"]["page"]
    windows = {}
    for w in WINDOWS:
        metrics = {m["metric"]: m["experiment"] for m in page["deviation"][w]}
        windows[w] = {"success": metrics["availability"], "p50": metrics["p50"] / 1e9,
                      "p99": metrics["p99"] / 1e9}
    series = page["experiment"]["series"]
    step = series["step_ns"] / 1e9
    assert step == 1.0, f"series step {step} s, expected 1 s"
    first = int(sc["warm"])
    n = int(sc["before"] + sc["during"] + sc["after"])
    done_s = series["completed"][first:first + n]
    err_s = series["errors"][first:first + n]
    p99_s = [v / 1e9 if c - e > 0 else None
             for v, c, e in zip(series["p99_ns"][first:first + n], done_s, err_s)]
    status = doc["recovery"][0]["status"]
    own = status.get("after_ns", 0) / 1e9 if status["status"] == "recovered" else None
    return {"windows": windows, "recovery": recovery(done_s, err_s, p99_s, sc),
            "simulator_recovery": own}


def prepare_sim(sim_dir, scenarios):
    os.makedirs(sim_dir, exist_ok=True)
    for sc in scenarios:
        shutil.copy(sc["path"], os.path.join(sim_dir, f"{sc['name']}.toml"))


# --- calibration per fault run, and the timeouts' overshoot --------------------------------

def run_dir(out_dir, name, rep):
    return os.path.join(out_dir, "runs", f"{name}-rep{rep}")


def traces_path(out_dir):
    return os.path.join(out_dir, "system", "traces.jsonl")


def segment_records(records, seg, sc, windows=WINDOWS):
    """The records sent in the given windows of a fault run whose segment starts at `seg`."""
    t, lo, hi = seg, None, None
    for w in WINDOWS:
        if w in windows:
            lo = t if lo is None else lo
            hi = t + sc[w]
        t += sc[w]
    return [r for r in records if lo <= r["sent"] < hi]


def calibrate_runs(scenarios, plan, out_dir, records_by_rep):
    """Each fault run's model, measured (calibrate.py, as the steady run's) from the requests
    sent in its own `before` window and their traces — fault-free, just before its fault.
    Written to runs/FAULT-repN/{model.toml,calibration.json}; returns the summaries.
    (A killed catalog loses its last second of spans, sent from the end of its before window:
    those requests give no catalog or catalog-db sample.)"""
    starts, _ = timeline(scenarios, plan["warm_s"])
    windows = {}
    for rep, records in records_by_rep.items():
        for sc, seg in zip(scenarios, starts):
            windows[(sc["name"], rep)] = segment_records(records, seg, sc, ("before",))
    owner = {calib.trace_id_of(r): key for key, recs in windows.items() for r in recs}
    by_run = defaultdict(dict)
    for sid, span in calib.read_spans(traces_path(out_dir), set(owner)).items():
        by_run[owner[span["trace"]]][sid] = span
    out = {}
    for (name, rep), recs in windows.items():
        d = run_dir(out_dir, name, rep)
        os.makedirs(d, exist_ok=True)
        out[f"{name}-rep{rep}"] = calib.calibrate(
            by_run[(name, rep)], recs, os.path.join(VALIDATION, "model.toml"),
            os.path.join(d, "model.toml"), os.path.join(d, "calibration.json"), plan["rate"])
    return out


def measure_overshoot(scenarios, plan, out_dir, records_by_rep):
    """Per fault run and call edge: how late the timed-out attempts ended after the timeout
    (ms: count, p50, p90, p99, max). Reported only: the model's timeouts are exact and it has
    no key for a late one; the timeouts happen only under the faults, so feeding them back
    would fit the model to the faults' results."""
    starts, _ = timeline(scenarios, plan["warm_s"])
    owner = {}
    for rep, records in records_by_rep.items():
        for sc, seg in zip(scenarios, starts):
            for r in segment_records(records, seg, sc):
                owner[calib.trace_id_of(r)] = (sc["name"], rep)
    by_run = defaultdict(dict)
    for sid, span in calib.read_spans(traces_path(out_dir), set(owner),
                                      errors_only=True).items():
        by_run[owner[span["trace"]]][sid] = span
    model = config.load_model(os.path.join(VALIDATION, "model.toml"))
    out, pooled = [], defaultdict(list)
    for sc in scenarios:
        for rep in sorted(records_by_rep):
            for edge, ms in sorted(calib.overshoot(by_run[(sc["name"], rep)], model).items()):
                out.append({"fault": sc["name"], "rep": rep, "edge": edge, **overshoot_stats(ms)})
                pooled[(sc["name"], edge)] += ms
    if len(records_by_rep) == 1:
        return out
    total = [{"fault": f, "rep": None, "edge": e, **overshoot_stats(sorted(ms))}
             for (f, e), ms in pooled.items()]
    return out + total


def overshoot_stats(ms):
    return {"n": len(ms), "p50": nearest_rank(ms, 0.5), "p90": nearest_rank(ms, 0.9),
            "p99": nearest_rank(ms, 0.99), "max": ms[-1] if ms else None}


# --- comparison -----------------------------------------------------------------------------

def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"mean": statistics.fmean(values), "min": min(values), "max": max(values),
            "n": len(values)}


def error_of(metric, predicted, observed):
    if predicted is None or observed is None:
        return None
    if metric == "success":
        return (predicted - observed) * 100.0
    if metric == "recovery":
        return predicted - observed
    return (predicted - observed) / observed if observed else None


def compare(name, per_run, start, reals, factor):
    """Rows per window and metric. `per_run`: per repetition (in the order of `reals`), the
    seeds' simulations of that fault run's own calibrated model — the headline, pooled over
    runs x seeds; `start`: the seeds' simulations of the model calibrated once at the start."""
    pooled = [s for sims in per_run for s in sims]

    def values(sims, w, metric):
        return [s["recovery"] if metric == "recovery" else s["windows"][w][metric] for s in sims]

    cells = [(w, m) for w in WINDOWS for m in ("success", "p50", "p99")] + [("after", "recovery")]
    rows = []
    for w, metric in cells:
        observed = values(reals, w, metric)
        r = row(name, w, metric, values(pooled, w, metric), observed, factor)
        once = row(name, w, metric, values(start, w, metric), observed, factor)
        r["start_calibrated"] = {k: once[k] for k in ("predicted", "error", "met",
                                                      "inside_spread")}
        r["per_run"] = []
        for k, (sims, o) in enumerate(zip(per_run, observed)):
            p = spread(values(sims, w, metric))
            r["per_run"].append({"run": k + 1, "predicted": p, "observed": o,
                                 "error": error_of(metric, p and p["mean"], o)})
        if metric == "recovery":
            r["not_recovered"] = {"predicted": values(pooled, w, metric).count(None),
                                  "observed": observed.count(None)}
            r["simulator_recovery"] = spread([s["simulator_recovery"] for s in pooled])
        rows.append(r)
    return rows


def shifts(name, per_run, start, reals):
    """The fault's own effect on latency: during minus before, in each simulation and each
    real run (the drift of the machine between runs cancels; the calibration's does not)."""
    def shift(windows, metric):
        a, b = windows["during"][metric], windows["before"][metric]
        return None if a is None or b is None else a - b

    out = []
    for metric in ("p50", "p99"):
        p = spread([shift(s["windows"], metric) for sims in per_run for s in sims])
        q = spread([shift(s["windows"], metric) for s in start])
        o = spread([shift(r["windows"], metric) for r in reals])
        out.append({"fault": name, "metric": metric, "predicted": p, "start_calibrated": q,
                    "observed": o,
                    "error": p["mean"] - o["mean"] if p and o else None,
                    "start_error": q["mean"] - o["mean"] if q and o else None})
    return out


def row(name, window, metric, predicted, observed, factor):
    p, o = spread(predicted), spread(observed)
    err = error_of(metric, p and p["mean"], o and o["mean"])
    target = TARGETS[metric] * factor
    # The observed mean inside the predictions' range: a miss the simulation's own spread
    # covers (seeds, and with per-run calibration the runs' calibrations; a p99 of a hundred
    # requests is nearly their maximum).
    inside = (p is not None and o is not None and p["n"] > 1
              and p["min"] <= o["mean"] <= p["max"])
    return {"fault": name, "window": window, "metric": metric, "predicted": p, "observed": o,
            "error": err, "target": target,
            "met": err is not None and abs(err) <= target + 1e-12, "inside_spread": inside}


def fmt(metric, v):
    if v is None:
        return "—"
    if metric == "success":
        return f"{v * 100:.2f}%"
    if metric == "recovery":
        return f"{v:.0f} s"
    return f"{v * 1000:.1f} ms"


def fmt_spread(metric, s):
    if s is None:
        return "—"
    if s["n"] == 1:
        return fmt(metric, s["mean"])
    return f"{fmt(metric, s['mean'])} [{fmt(metric, s['min'])}, {fmt(metric, s['max'])}]"


def fmt_error(metric, e):
    if e is None:
        return "—"
    if metric == "success":
        return f"{e:+.2f} pp"
    if metric == "recovery":
        return f"{e:+.0f} s"
    return f"{e * 100:+.1f}%"


def fmt_ms(v, signed=False):
    if v is None:
        return "—"
    return f"{v * 1000:+.1f} ms" if signed else f"{v * 1000:.1f} ms"


def fmt_load(la):
    if not la or la.get("1m") is None:
        return "—"
    return f"{la['1m']:.2f} / {la['5m']:.2f} / {la['15m']:.2f}"


def tally(rows, key=None):
    def met(r):
        return r["start_calibrated"]["met"] if key == "start" else r["met"]
    later = [r for r in rows if r["window"] != "before"]
    return (sum(met(r) for r in rows), len(rows), sum(met(r) for r in later), len(later))


def markdown(rows, factor):
    head = ("| fault | window | metric | predicted, calibrated per run (mean [min, max] over "
            "runs × seeds) | observed (mean [min, max] over runs) | error | target | met "
            "| in spread | calibrated once at start: predicted | error | met |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|\n")
    lines = []
    for r in rows:
        m, once = r["metric"], r["start_calibrated"]
        target = (f"±{r['target']:.0f} pp" if m == "success" and r["target"] >= 1
                  else f"±{r['target']:.1f} pp" if m == "success"
                  else f"±{r['target']:.0f} s" if m == "recovery"
                  else f"±{r['target'] * 100:.0f}%")
        lines.append(f"| {r['fault']} | {r['window']} | {m} | {fmt_spread(m, r['predicted'])} "
                     f"| {fmt_spread(m, r['observed'])} | {fmt_error(m, r['error'])} "
                     f"| {target} | {'yes' if r['met'] else '**no**'} "
                     f"| {'yes' if r['inside_spread'] else 'no'} "
                     f"| {fmt(m, once['predicted'] and once['predicted']['mean'])} "
                     f"| {fmt_error(m, once['error'])} | {'yes' if once['met'] else '**no**'} |")
    met, n, met_later, n_later = tally(rows)
    s_met, _, s_later, _ = tally(rows, "start")
    covered = sum(r["inside_spread"] and not r["met"] for r in rows)
    scale = "" if factor == 1 else f" (targets x{factor:g}: the smoke's)"
    return (head + "\n".join(lines)
            + f"\n\nCalibrated per run: {met} of {n} within target{scale}; {covered} of the "
            f"misses inside the predictions' spread. Without the before windows (the per-run "
            f"calibration's own data: they agree partly by construction): {met_later} of "
            f"{n_later}.\nCalibrated once at start: {s_met} of {n} within target; without "
            f"the before windows {s_later} of {n_later}.\n")


def markdown_shifts(shift_rows):
    head = ("| fault | metric | predicted shift, calibrated per run (mean [min, max]) | "
            "calibrated once at start | observed shift (mean [min, max] over runs) | error "
            "| error, once at start |\n|---|---|---|---|---|---|---|\n")
    lines = []
    for r in shift_rows:
        def sp(s):
            if s is None:
                return "—"
            if s["n"] == 1:
                return fmt_ms(s["mean"], True)
            return (f"{fmt_ms(s['mean'], True)} [{fmt_ms(s['min'], True)}, "
                    f"{fmt_ms(s['max'], True)}]")
        once = r["start_calibrated"]
        lines.append(f"| {r['fault']} | {r['metric']} | {sp(r['predicted'])} "
                     f"| {fmt_ms(once and once['mean'], True)} | {sp(r['observed'])} "
                     f"| {fmt_ms(r['error'], True)} | {fmt_ms(r['start_error'], True)} |")
    return ("The fault's own effect on latency (during minus before, per simulation and per "
            "real run):\n\n" + head + "\n".join(lines) + "\n")


def markdown_runs(runs, calibrations, scenarios, reps):
    """The runs with their load averages and the service times calibrated from them."""
    nodes = ("frontend", "catalog", "cart", "redis", "catalog-db", "pricing")
    head = ("| run | start (UTC) | load average at start (1 / 5 / 15 min) | at end | "
            + " | ".join(f"{n} p50 / p99" for n in nodes) + " |\n|"
            + "---|" * (4 + len(nodes)) + "\n")
    lines = []

    def line(label, start, end, cal):
        cells = [f"{cal[n]['p50']:.1f} / {cal[n]['p99']:.1f} ms" if cal and n in cal else "—"
                 for n in nodes]
        lines.append(f"| {label} | {start.get('utc', '—') if start else '—'} "
                     f"| {fmt_load(start)} | {fmt_load(end)} | " + " | ".join(cells) + " |")

    steady_run = runs.get("steady", {})
    line("steady (calibration once at start)", steady_run.get("start"), steady_run.get("end"),
         calibrations.get("steady"))
    times = {(seg["fault"], info["rep"]): seg for info in runs.get("reps", [])
             for seg in info["segments"]}
    for rep in reps:  # in the order they ran
        for sc in scenarios:
            seg = times.get((sc["name"], rep), {})
            line(f"{sc['name']} rep {rep}", seg.get("start"), seg.get("end"),
                 calibrations.get(f"{sc['name']}-rep{rep}"))
    return ("Every run, its load averages, and the service times measured from it (the steady "
            "run; each fault run's before window):\n\n" + head + "\n".join(lines) + "\n")


def markdown_overshoot(rows):
    if not rows:
        return "No attempt timed out in any fault run.\n"
    head = ("| fault | run | call | timed-out attempts | overshoot p50 | p90 | p99 | max |\n"
            "|---|---|---|---|---|---|---|---|\n")
    lines = [f"| {r['fault']} | {r['rep'] if r['rep'] is not None else 'all'} | {r['edge']} "
             f"| {r['n']} | {r['p50']:.1f} ms | {r['p90']:.1f} ms | {r['p99']:.1f} ms "
             f"| {r['max']:.1f} ms |" for r in rows]
    return ("Timeouts' overshoot: a timed-out attempt's duration minus its timeout, from the "
            "traces (the model's timeouts are exact):\n\n" + head + "\n".join(lines) + "\n")


# --- the study ------------------------------------------------------------------------------

def steady(system, plan, rate, out_dir, binary):
    """The steady run and the once-at-start calibration; its times and load averages."""
    log(f"steady run: {plan['steady_s']:.0f} s at {rate}/s")
    info = {"start": loadavg()}
    start_file = os.path.join(out_dir, ".start-steady")
    load_path = os.path.join(out_dir, "steady.jsonl")
    proc = loadgen(load_path, rate, plan["steady_s"], 999, start_file)
    if proc.wait() != 0:
        raise RuntimeError("the steady load failed")
    info["end"] = loadavg()
    time.sleep(2.5)  # the services' span processors export once a second
    traces = os.path.join(out_dir, "steady-traces.jsonl")
    shutil.copy(system.env["TRACE_FILE"], traces)
    model_out = os.path.join(out_dir, "model.toml")
    os.makedirs(os.path.dirname(model_out), exist_ok=True)
    argv = [sys.executable, os.path.join(HERE, "calibrate.py"), traces, load_path,
            os.path.join(VALIDATION, "model.toml"), model_out,
            os.path.join(out_dir, "calibration.json")]
    if plan["rate"] is not None:
        argv += ["--rate", str(plan["rate"])]
    subprocess.run(argv, check=True)
    try_import(binary, traces, out_dir)
    return info


def try_import(binary, traces, out_dir):
    """`blastradius import traces`, when the binary has it: its model is kept beside the
    hand-written one for comparison; the study runs the hand-written, calibrated model."""
    done = subprocess.run([binary, "import", "traces", traces], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    note = os.path.join(out_dir, "import-traces.txt")
    with open(note, "wb") as f:
        f.write(b"exit %d\n" % done.returncode + done.stderr)
    if done.returncode == 0:
        with open(os.path.join(out_dir, "imported-model.toml"), "wb") as f:
            f.write(done.stdout)
        log("blastradius import traces: model written to imported-model.toml")
    else:
        log(f"blastradius import traces: not available ({done.stderr.decode().strip()[:100]})")


def model_rate(path):
    with open(path, "rb") as f:
        return tomllib.load(f)["workload"]["page"]["rate"]


def write_runs(out_dir, runs):
    with open(os.path.join(out_dir, "runs.json"), "w") as f:
        json.dump(runs, f, indent=1)


def measure_real(system, scenarios, plan, rate, out_dir, runs):
    records_by_rep = {}
    for rep in range(1, plan["reps"] + 1):
        records, info = run_real(system, scenarios, plan, rate, rep, out_dir)
        records_by_rep[rep] = records
        runs["reps"].append(info)
        write_runs(out_dir, runs)
    return records_by_rep


def observe(scenarios, plan, records_by_rep):
    """The observed metrics per fault, one entry per repetition (in repetition order)."""
    reals = {sc["name"]: [] for sc in scenarios}
    starts, _ = timeline(scenarios, plan["warm_s"])
    for rep in sorted(records_by_rep):
        records = records_by_rep[rep]
        for sc, seg in zip(scenarios, starts):
            done, err, p99 = real_buckets(records, seg, sc)
            reals[sc["name"]].append({"windows": real_windows(records, seg, sc),
                                      "recovery": recovery(done, err, p99, sc)})
    return reals


def reread_real(plan, out_dir):
    """--reanalyse: the records and run times of an earlier study in DIR."""
    records_by_rep = {}
    for rep in range(1, plan["reps"] + 1):
        with open(os.path.join(out_dir, f"real-rep{rep}.jsonl")) as f:
            records_by_rep[rep] = [json.loads(line) for line in f]
    runs = {"reps": []}
    path = os.path.join(out_dir, "runs.json")
    if os.path.exists(path):
        with open(path) as f:
            runs = json.load(f)
    return records_by_rep, runs


def run_system(plan, scenarios, rate, out_dir, binary):
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    runs = {"cpus": os.cpu_count(), "reps": []}
    with open(os.path.join(out_dir, "system.log"), "w") as syslog:
        system = infra.System(os.path.join(out_dir, "system"),
                              os.path.join(VALIDATION, "model.toml"), syslog)
        os.makedirs(system.workdir)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda *_: sys.exit(130))
        try:
            log(f"starting PostgreSQL, Redis and the services (load average "
                f"{loadavg()['1m']})")
            system.start_all()
            runs["steady"] = steady(system, plan, rate, out_dir, binary)
            write_runs(out_dir, runs)
            return measure_real(system, scenarios, plan, rate, out_dir, runs), runs
        finally:
            log("stopping the system")
            # SIGTERM: the services flush their last spans (the per-run calibration and the
            # overshoot read them from system/traces.jsonl).
            system.stop()


def main():
    argv = sys.argv[1:]
    smoke = "--smoke" in argv
    binary = os.path.abspath(argv[argv.index("--bin") + 1])
    out_dir = os.path.abspath(argv[argv.index("--out") + 1])
    plan, factor = (SMOKE, 2.0) if smoke else (FULL, 1.0)
    scenarios = [read_scenario(n) for n in plan["faults"]]
    rate = plan["rate"] or model_rate(os.path.join(VALIDATION, "model.toml"))
    if "--reanalyse" in argv:
        records_by_rep, runs = reread_real(plan, out_dir)
    else:
        records_by_rep, runs = run_system(plan, scenarios, rate, out_dir, binary)
    reals = observe(scenarios, plan, records_by_rep)
    log("calibrating every fault run from its own before window")
    calibrations = calibrate_runs(scenarios, plan, out_dir, records_by_rep)
    steady_cal = os.path.join(out_dir, "calibration.json")
    if os.path.exists(steady_cal):
        with open(steady_cal) as f:
            calibrations["steady"] = json.load(f)
    overshoot = measure_overshoot(scenarios, plan, out_dir, records_by_rep)
    sim_dir = os.path.join(out_dir, "sim")
    prepare_sim(sim_dir, scenarios)
    rows, shift_rows = [], []
    for sc in scenarios:
        log(f"simulating {sc['name']} with seeds {plan['seeds']}: once-at-start model, and "
            f"each of its {len(records_by_rep)} runs' own")
        start = [run_sim(binary, sc, s, sim_dir) for s in plan["seeds"]]
        per_run = []
        for rep in sorted(records_by_rep):
            d = os.path.join(run_dir(out_dir, sc["name"], rep), "sim")
            prepare_sim(d, [sc])
            per_run.append([run_sim(binary, sc, s, d) for s in plan["seeds"]])
        rows += compare(sc["name"], per_run, start, reals[sc["name"]], factor)
        shift_rows += shifts(sc["name"], per_run, start, reals[sc["name"]])
    with open(os.path.join(out_dir, "comparison.json"), "w") as f:
        json.dump({"smoke": smoke, "rate": rate, "reps": plan["reps"], "seeds": plan["seeds"],
                   "rows": rows, "shifts": shift_rows, "runs": runs,
                   "calibrations": calibrations, "overshoot": overshoot}, f, indent=1)
    table = "\n".join([markdown(rows, factor), markdown_shifts(shift_rows),
                       markdown_runs(runs, calibrations, scenarios, sorted(records_by_rep)),
                       markdown_overshoot(overshoot)])
    with open(os.path.join(out_dir, "comparison.md"), "w") as f:
        f.write(table)
    print(table)
    if smoke:
        missed = [f"{r['fault']} {r['window']} {r['metric']}" for r in rows
                  if not r["met"] and not r["inside_spread"]]
        if missed:
            log("smoke: prediction outside twice the targets and the seeds' spread: "
                + ", ".join(missed))
            sys.exit(1)
        log("smoke: every prediction within twice the targets (or the seeds' spread)")


if __name__ == "__main__":
    main()
