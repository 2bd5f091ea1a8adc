"""The reference system's configuration: the model file (workers, queues, calls) and the
ports, which the study hands every service in $REFSYS_PORTS (JSON)."""

import json
import os
import tomllib

DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def seconds(text):
    for unit in ("ns", "us", "ms", "s", "m", "h"):
        if text.endswith(unit) and text[: -len(unit)].replace(".", "", 1).isdigit():
            return float(text[: -len(unit)]) * DURATION_UNITS[unit]
    raise ValueError(f"not a duration: {text!r}")


def load_model(path):
    with open(path, "rb") as f:
        return tomllib.load(f)


def node(model, name):
    for role in ("service", "database", "external"):
        if name in model.get(role, {}):
            return model[role][name]
    raise KeyError(name)


def call(model, caller, callee):
    """The caller's call to `callee`: (timeout_s, retries, backoff_s)."""
    for c in node(model, caller).get("calls", []):
        if c["to"] == callee:
            return seconds(c["timeout"]), int(c.get("retries", 0)), seconds(c.get("backoff", "0ms"))
    raise KeyError(f"{caller}->{callee}")


def ports():
    return json.loads(os.environ["REFSYS_PORTS"])


def zone_ports(all_ports, name, zone):
    """The instances of a zonal service, the caller's zone first (the model's routing)."""
    by_zone = all_ports[name]
    return [by_zone[zone]] + [p for z, p in sorted(by_zone.items()) if z != zone]
