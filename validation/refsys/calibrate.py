"""Measures the reference system's service times from fault-free traces and writes the
model the simulation runs: validation/model.toml with each `# measured: NAME` line's
distribution replaced by the measured percentiles (min, p50, p90, p99) of NAME.

What each node's service time is, from the spans (OTLP JSON lines) and the load generator's
records (each request's latency and the span id it sent as its traceparent):

- a service called by another: the caller's CLIENT span minus the service's own CLIENT spans
  under its SERVER span (its own work plus the hop: connect, parse, queueing at low load);
- frontend: the load generator's latency minus the frontend's CLIENT spans;
- redis, catalog-db, pricing: the callers' CLIENT spans to them (round trip, as the model's
  leaves answer after their service time or latency).

Only answered attempts count (status not ERROR). Only fault-free load is measured: the steady
run at the start of the study, or (study.py's per-run calibration) the `before` window of one
fault run, selected by trace id (the load generator sends its span id as the trace id) —
nothing here looks at a fault's results.

`overshoot` is the other measurement here, of the fault runs' traces and only reported (the
model has no way to express it): how late a timed-out attempt ends after its timeout.

Usage: calibrate.py TRACES LOAD MODEL_IN MODEL_OUT SUMMARY_JSON [--rate R]
"""

import json
import re
import sys
from collections import defaultdict

import config


def trace_id_of(record):
    """The trace id of a load-generator record: its span id, sent as the trace id too."""
    return record["span"].rjust(32, "0")


def read_spans(path, trace_ids=None, errors_only=False):
    """The spans of TRACES by span id, only those of `trace_ids` when given, only the failed
    ones with `errors_only`. A line cut short
    (the file is shared by the services' exporters, a killed one may leave half a line) is
    skipped."""
    spans = {}
    with open(path) as f:
        for line in f:
            try:
                request = json.loads(line)
            except json.JSONDecodeError:
                continue
            for rs in request["resourceSpans"]:
                attrs = {a["key"]: next(iter(a["value"].values()))
                         for a in rs["resource"]["attributes"]}
                for ss in rs["scopeSpans"]:
                    for s in ss["spans"]:
                        if trace_ids is not None and s["traceId"] not in trace_ids:
                            continue
                        if errors_only and s.get("status", {}).get("code") != 2:
                            continue
                        span_attrs = {a["key"]: next(iter(a["value"].values()))
                                      for a in s.get("attributes", [])}
                        spans[s["spanId"]] = {
                            "trace": s["traceId"],
                            "service": attrs["service.name"], "kind": s["kind"],
                            "parent": s.get("parentSpanId"),
                            "ns": int(s["endTimeUnixNano"]) - int(s["startTimeUnixNano"]),
                            "peer": span_attrs.get("peer.service"),
                            "error": s.get("status", {}).get("code") == 2,
                            "message": s.get("status", {}).get("message", ""),
                        }
    return spans


def samples(spans, load_records):
    children = defaultdict(list)
    for sid, s in spans.items():
        if s["parent"]:
            children[s["parent"]].append(sid)

    def own_calls(server_id):
        return sum(spans[c]["ns"] for c in children[server_id] if spans[c]["kind"] == 3)

    out = defaultdict(list)
    for sid, s in spans.items():
        if s["kind"] != 3 or s["error"]:
            continue
        if s["peer"] in ("redis", "catalog-db", "pricing"):
            out[s["peer"]].append(s["ns"])
        for server_id in children[sid]:
            server = spans[server_id]
            if server["kind"] == 2 and not server["error"]:
                out[server["service"]].append(s["ns"] - own_calls(server_id))
    by_parent = {s["parent"]: sid for sid, s in spans.items()
                 if s["service"] == "frontend" and s["kind"] == 2}
    for r in load_records:
        if r["outcome"] == "ok" and r["span"] in by_parent:
            out["frontend"].append(int(r["latency"] * 1e9) - own_calls(by_parent[r["span"]]))
    return out


def quantile(sorted_ns, q):
    """Nearest rank."""
    k = max(0, min(len(sorted_ns) - 1, int(round(q * len(sorted_ns) + 0.5)) - 1))
    return sorted_ns[k]


def dist_text(ns):
    ns = sorted(max(v, 1000) for v in ns)
    points = [("min", ns[0]), ("p50", quantile(ns, 0.5)), ("p90", quantile(ns, 0.9)),
              ("p99", quantile(ns, 0.99))]
    # The percentiles distribution needs strictly increasing points.
    fixed, last = [], 0
    for name, v in points:
        v = max(v, last + 1000)
        fixed.append((name, v))
        last = v
    inner = ", ".join(f'{name} = "{v // 1000}us"' for name, v in fixed)
    return "{ " + f'dist = "percentiles", {inner}' + " }", dict(fixed)


def rewrite(model_in, model_out, measured, rate):
    lines = []
    with open(model_in) as f:
        for line in f:
            m = re.match(r"(?:service_time|latency)\s*=.*#\s*measured:\s*(\S+)", line)
            if m:
                key = "latency" if line.lstrip().startswith("latency") else "service_time"
                text, _ = dist_text(measured[m.group(1)])
                line = f"{key} = {text}  # measured: {m.group(1)}\n"
            elif rate is not None and re.match(r"rate\s*=", line):
                line = f"rate = {rate}\n"
            lines.append(line)
    with open(model_out, "w") as f:
        f.writelines(lines)


def calibrate(spans, records, model_in, model_out, summary, rate=None):
    """Rewrites MODEL_IN's measured lines into MODEL_OUT from `spans` and the load `records`
    of the same requests; writes the per-node summary (samples, min, p50, p90, p99 in ms)."""
    measured = samples(spans, records)
    rewrite(model_in, model_out, measured, rate)
    out = {name: {"samples": len(v), **{k: p / 1e6 for k, p in dist_text(v)[1].items()}}
           for name, v in sorted(measured.items())}
    with open(summary, "w") as f:
        json.dump(out, f, indent=1)
    return out


def timed_out(span, timeout_ns):
    """An attempt that ended by its timeout: the status message says so (the services write
    `timeout`, redis-py's error is `TimeoutError`); traces without messages: an error that
    lasted at least the timeout."""
    if not span["error"]:
        return False
    if span["message"]:
        return "timeout" in span["message"].lower()
    return span["ns"] >= timeout_ns


def overshoot(spans, model):
    """Per call edge "caller->callee" with a timeout: the timed-out attempts' durations minus
    the timeout, in ms (sorted). The model's timeouts fire on the nanosecond; real ones fire
    when a thread is scheduled to notice the deadline, raise, close the socket and end the
    span."""
    timeouts = {}
    for role in ("service", "database", "external"):
        for name, node in model.get(role, {}).items():
            for call in node.get("calls", []):
                if "timeout" in call:
                    timeouts[(name, call["to"])] = seconds_ns(call["timeout"])
    out = defaultdict(list)
    for s in spans.values():
        key = (s["service"], s["peer"])
        if s["kind"] == 3 and key in timeouts and timed_out(s, timeouts[key]):
            out[f"{key[0]}->{key[1]}"].append((s["ns"] - timeouts[key]) / 1e6)
    return {k: sorted(v) for k, v in out.items()}


def seconds_ns(text):
    return int(round(config.seconds(text) * 1e9))


def main():
    argv = sys.argv[1:]
    rate = None
    if "--rate" in argv:
        i = argv.index("--rate")
        rate = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    traces, load, model_in, model_out, summary = argv
    with open(load) as f:
        records = [json.loads(line) for line in f]
    calibrate(read_spans(traces), records, model_in, model_out, summary, rate)


if __name__ == "__main__":
    main()
