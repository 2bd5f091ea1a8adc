#!/usr/bin/env bash
# Runs every figure of issue 7 on the same machine in one go and prints the ratios: tier3
# against the bare event-heap loop and SimPy, shop simulated user requests/s, peak memory of
# 10 min vs 1 h at 10,000 requests/s, the scaling table (10, 100, 1,000 services) and the
# sweep's speed-up on 2 threads. Absolute numbers on shared machines drift by 10% or more:
# compare the ratios of one run.
#
#   benches/compare.sh            # needs ../shared/bench (or BENCH_DIR) and `pip install simpy`
#   QUICK=1 benches/compare.sh    # shorter memory runs (1 and 6 simulated minutes), fewer seeds
set -euo pipefail
cd "$(dirname "$0")/.."
bench_dir=${BENCH_DIR:-../shared/bench}
requests=1000000 # the request count of benches/tier3.rs's tier3 run: same count on both sides
if [[ -n "${QUICK:-}" ]]; then
    memory_durations=60,360
    sweep_seeds=4
else
    memory_durations=600,3600
    sweep_seeds=8
fi

echo "building..." >&2
cargo bench --no-run --bench tier3 --bench memory --bench scaling --bench sweep >/dev/null 2>&1
# Built into our own target directory: the peer baselines may sit on a read-only mount.
heap_target=$PWD/target/heap-loop
cargo build --release --quiet --manifest-path "$bench_dir/heap-loop/Cargo.toml" --target-dir "$heap_target"

echo "tier3 and shop (criterion)..." >&2
# Criterion's bencher output: "test simulate/tier3_1000000_requests ... bench: N ns/iter (+/- M)".
bencher=$(cargo bench --quiet --bench tier3 -- --output-format bencher 'simulate/' 2>/dev/null | grep 'bench:')
per_second() { # $1: model name; prints simulated requests per second of wall time
    local line n ns
    line=$(grep "simulate/$1_" <<<"$bencher")
    n=$(sed -E "s/.*$1_([0-9]+)_requests.*/\1/" <<<"$line")
    ns=$(sed -E 's/.*bench: *([0-9,]+) ns\/iter.*/\1/' <<<"$line" | tr -d ,)
    python3 -c "print($n / ($ns / 1e9))"
}
ours=$(per_second tier3)
shop=$(per_second shop)

echo "heap loop and SimPy..." >&2
heap=$("$heap_target/release/tier3" --requests "$requests" --reps 5 | grep MEDIAN | sed -E 's/.*req_per_s=([0-9.e+]+).*/\1/')
simpy=$(python3 "$bench_dir/bench_simpy.py" tier3 --customers 100000 --reps 3 | grep MEDIAN | sed -E 's/.*req_per_s=([0-9.e+]+).*/\1/')

python3 - "$ours" "$heap" "$simpy" "$shop" <<'PY'
import sys
ours, heap, simpy, shop = map(float, sys.argv[1:])
print("| engine | tier3 simulated requests/s | ratio |")
print("|---|---:|---:|")
print(f"| blastradius (models/tier3.toml) | {ours/1e6:.2f} M | 1 |")
print(f"| bare event-heap loop (shared/bench/heap-loop) | {heap/1e6:.2f} M | blastradius = {ours/heap:.2f}x |")
print(f"| SimPy (shared/bench/bench_simpy.py) | {simpy/1e3:.1f} k | blastradius = {ours/simpy:.0f}x |")
print(f"\nblastradius models/shop.toml: {shop/1e6:.2f} M simulated user requests/s (one core)")
PY

echo "memory (child processes)..." >&2
MEMORY_TABLE_ONLY=1 MEMORY_DURATIONS=$memory_durations cargo bench --quiet --bench memory 2>/dev/null | grep -v '^$' | sed '1s/^/\n/'

echo "scaling..." >&2
SCALING_TABLE_ONLY=1 cargo bench --quiet --bench scaling 2>/dev/null | grep -v '^$' | sed '1s/^/\n/'

echo "sweep..." >&2
SWEEP_TABLE_ONLY=1 SWEEP_SEEDS=$sweep_seeds cargo bench --quiet --bench sweep 2>/dev/null | grep -v '^$' | sed '1s/^/\n/'
