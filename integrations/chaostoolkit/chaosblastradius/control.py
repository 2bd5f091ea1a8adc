"""A Chaos Toolkit control that rehearses the experiment in blastradius before it runs.

Declare it in an experiment's ``controls``::

    {"name": "blastradius-preflight",
     "provider": {"type": "python", "module": "chaosblastradius.control",
                  "arguments": {"model": "models/shop.toml",
                                "budget": {"max_hurt_share": 0.01}}}}

Before the experiment (``before_experiment_control``) it writes the experiment to a
temporary file, runs ``blastradius import ctk`` on the model and ``blastradius run`` on the
scenario, and compares the simulated result with the budget:

- ``max_hurt_share``: the largest share of user requests hurt (net of chance) allowed;
- ``min_availability``: every workload's simulated availability while the faults act (the
  whole run when nothing is mapped to a fault) must be at least this;
- ``hypotheses_must_hold``: every simulated hypothesis must hold (the default when no budget
  is given).

Over budget, or when the pre-flight cannot run, it raises ``InterruptExecution`` with the
simulated verdict, so the real experiment never starts (the journal's status is
``interrupted``). Within budget the experiment runs; either way ``after_experiment_control``
adds the simulated summary to the journal's ``extensions`` as ``{"name": "blastradius", ...}``.

The binary is the ``binary`` argument, else ``$BLASTRADIUS``, else ``blastradius`` on PATH.
``routes`` (a list of ``URL-PREFIX=WORKLOAD``) and ``seed`` are passed to the import. Relative
paths are relative to the directory ``chaos run`` runs in.
"""

import json
import logging
import os
import shutil
import subprocess
import tempfile

from chaoslib.exceptions import InterruptExecution

__all__ = ["before_experiment_control", "after_experiment_control", "preflight"]

logger = logging.getLogger("chaostoolkit")

BUDGET_KEYS = ("max_hurt_share", "min_availability", "hypotheses_must_hold")

# Summaries of the experiments this process pre-flighted, by the experiment's identity, from
# the before-control to the after-control (Chaos Toolkit hands both the same experiment).
_SUMMARIES = {}


def before_experiment_control(context, model=None, budget=None, binary=None, routes=None,
                              seed=None, **kwargs):
    """Run the pre-flight; interrupt the experiment when it is over budget."""
    try:
        summary = preflight(context, model, budget, binary, routes, seed)
    except PreflightError as error:
        summary = {"verdict": "not simulated", "over_budget": True, "reasons": [str(error)]}
        _SUMMARIES[id(context)] = summary
        raise InterruptExecution(f"blastradius pre-flight could not run: {error}") from None
    _SUMMARIES[id(context)] = summary
    if summary["over_budget"]:
        raise InterruptExecution(
            "blastradius pre-flight: over budget ({}); simulated verdict {}: the real "
            "experiment was not started".format("; ".join(summary["reasons"]), summary["verdict"]))
    logger.info("blastradius pre-flight: within budget (simulated verdict %s, %.2f%% hurt)",
                summary["verdict"], 100 * summary["hurt_share"])


def after_experiment_control(context, state=None, **kwargs):
    """Add the pre-flight's summary to the journal."""
    summary = _SUMMARIES.pop(id(context), None)
    if summary is not None and isinstance(state, dict):
        extensions = state.setdefault("extensions", [])
        extensions.append(dict({"name": "blastradius"}, **summary))


class PreflightError(Exception):
    """The pre-flight could not run: no binary, no model, a failed import or run."""


def preflight(experiment, model, budget=None, binary=None, routes=None, seed=None):
    """Simulates the experiment on the model; returns the summary with the budget's verdict."""
    budget = {"hypotheses_must_hold": True} if budget is None else dict(budget)
    unknown = sorted(set(budget) - set(BUDGET_KEYS))
    if unknown:
        raise PreflightError("unknown budget key(s) {}; expected {}".format(
            ", ".join(unknown), ", ".join(BUDGET_KEYS)))
    if not model:
        raise PreflightError("the control needs a `model` argument")
    program = _binary(binary)
    with tempfile.TemporaryDirectory(prefix="blastradius-") as folder:
        source = os.path.join(folder, "experiment.json")
        scenario = os.path.join(folder, "scenario.toml")
        with open(source, "w", encoding="utf-8") as out:
            json.dump(experiment, out, default=str)
        command = [program, "import", "ctk", source, "--model", os.path.abspath(model), "-o", scenario]
        for route in routes or []:
            command += ["--routes", route]
        if seed is not None:
            command += ["--seed", str(seed)]
        imported = _call(command, (0,), "import ctk")
        report = _call([program, "run", scenario, "--format", "json"], (0, 1), "run")
        with open(scenario, encoding="utf-8") as text:
            scenario_text = text.read()
    summary = summarise(json.loads(report.stdout))
    summary["not_mapped"] = [line.split(": ", 2)[-1] for line in imported.stderr.splitlines()
                             if line.startswith("warning: ")]
    summary["scenario"] = scenario_text
    summary["budget"] = budget
    summary["reasons"] = judge(summary, budget)
    summary["over_budget"] = bool(summary["reasons"])
    return summary


def _binary(binary):
    program = binary or os.environ.get("BLASTRADIUS") or shutil.which("blastradius")
    if not program:
        raise PreflightError("no blastradius binary: give `binary`, set $BLASTRADIUS or put it on PATH")
    return program


def _call(command, ok, what):
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as error:
        raise PreflightError(f"{command[0]}: {error}") from None
    if done.returncode not in ok:
        raise PreflightError("blastradius {} exited {}: {}".format(what, done.returncode, done.stderr.strip()))
    return done


def summarise(report):
    """The figures the budget is judged on, from `blastradius run --format json`."""
    blast = report.get("blast_radius") or {}
    availability = {}
    for name, workload in (report.get("workloads") or {}).items():
        during = [row["experiment"] for row in (workload.get("deviation") or {}).get("during") or []
                  if row.get("metric") == "availability"]
        whole = (workload.get("experiment") or {}).get("availability")
        availability[name] = during[0] if during else whole
    hypotheses = [{"workload": h.get("workload"), "metric": h.get("metric"), "bounds": h.get("bounds"),
                   "pass": h.get("pass")} for h in report.get("hypotheses") or []]
    return {
        "verdict": report.get("verdict"),
        "hurt_share": blast.get("net_share", 0.0) or 0.0,
        "availability": availability,
        "hypotheses": hypotheses,
    }


def judge(summary, budget):
    """The reasons the summary is over budget (none: within)."""
    reasons = []
    limit = budget.get("max_hurt_share")
    if limit is not None and summary["hurt_share"] > limit:
        reasons.append("{:.2%} of requests hurt > max_hurt_share {:.2%}".format(summary["hurt_share"], limit))
    floor = budget.get("min_availability")
    if floor is not None:
        for name, value in summary["availability"].items():
            if value is not None and value < floor:
                reasons.append("{} availability {:.4%} < min_availability {:.4%}".format(name, value, floor))
    if budget.get("hypotheses_must_hold"):
        for failed in (h for h in summary["hypotheses"] if h["pass"] is False):
            reasons.append("hypothesis {} {} ({}) fails".format(failed["workload"], failed["metric"], failed["bounds"]))
    return reasons
