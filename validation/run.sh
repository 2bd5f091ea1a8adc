#!/usr/bin/env bash
# The sim-to-real study of docs/validation.md: installs Redis and PostgreSQL (Debian packages,
# when missing and root), makes validation/.venv from validation/requirements.txt, builds the
# binary once, and runs validation/refsys/study.py. Every process it starts is
# stopped on any exit (the trap), PostgreSQL's throwaway cluster included.
#
#   validation/run.sh            the full study: 5 faults x 3 real runs, 5 seeds (~14 min)
#   validation/run.sh --smoke    CI's: one fault, one run, 3 seeds, 10 requests/s (~2 min);
#                                exit 1 when a prediction misses twice its target
#
# Results: validation/results/{full,smoke}/ (comparison.md, comparison.json, runs.json with
# every run's load averages, the records, the traces, the calibrated models — once at the
# start and per fault run from its own before window — and the simulator's reports).
set -euo pipefail
cd "$(dirname "$0")"
mode=full
[[ "${1:-}" == "--smoke" ]] && mode=smoke

need_packages=()
command -v redis-server >/dev/null || need_packages+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || need_packages+=(postgresql)
if ((${#need_packages[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "validation: install ${need_packages[*]} first (not root, so not installing)" >&2
    exit 4
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}" >/dev/null
  # The package starts its own services where it can; the study uses its own instances.
  service redis-server stop >/dev/null 2>&1 || true
  service postgresql stop >/dev/null 2>&1 || true
fi

if [[ ! -x .venv/bin/python ]] || ! cmp -s requirements.txt .venv/requirements.txt; then
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  cp requirements.txt .venv/requirements.txt
fi

# The full study builds the release binary; the smoke the dev one, which CI's `cargo test`
# has just built (its simulations are seconds long, so speed does not matter there).
if [[ $mode == smoke ]]; then
  (cd .. && cargo build --locked -q)
  binary=../target/debug/blastradius
else
  (cd .. && cargo build --release --locked -q)
  binary=../target/release/blastradius
fi

study_pid=
cleanup() {
  if [[ -n "$study_pid" ]] && kill -0 "$study_pid" 2>/dev/null; then
    kill -TERM "$study_pid" 2>/dev/null || true
    wait "$study_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT INT TERM HUP

args=(--bin "$binary" --out "results/$mode")
[[ $mode == smoke ]] && args+=(--smoke)
.venv/bin/python refsys/study.py "${args[@]}" &
study_pid=$!
wait "$study_pid"
