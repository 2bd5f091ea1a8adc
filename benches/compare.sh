#!/usr/bin/env bash
# Runs blastradius's tier3 bench, the bare event-heap loop and SimPy on the same machine in one
# go and prints simulated requests per second of wall time and the ratios. Absolute numbers on
# shared machines drift by 10% or more: compare the ratios of one run.
#
#   benches/compare.sh            # needs ../shared/bench (or BENCH_DIR) and `pip install simpy`
set -euo pipefail
cd "$(dirname "$0")/.."
bench_dir=${BENCH_DIR:-../shared/bench}
requests=${REQUESTS:-1000000}

echo "building..." >&2
cargo build --release --quiet --bench tier3 2>/dev/null || cargo bench --no-run --bench tier3 >/dev/null
(cd "$bench_dir/heap-loop" && cargo build --release --quiet)

# Criterion's bencher output: "test simulate/tier3_100000_requests ... bench: N ns/iter (+/- M)".
ours_line=$(cargo bench --quiet --bench tier3 -- --output-format bencher 'simulate/tier3' 2>/dev/null | grep 'bench:')
ours_requests=$(sed -E 's/.*tier3_([0-9]+)_requests.*/\1/' <<<"$ours_line")
ours_ns=$(sed -E 's/.*bench: *([0-9,]+) ns\/iter.*/\1/' <<<"$ours_line" | tr -d ,)
ours=$(python3 -c "print($ours_requests / ($ours_ns / 1e9))")

shop_line=$(cargo bench --quiet --bench tier3 -- --output-format bencher 'simulate/shop' 2>/dev/null | grep 'bench:')
shop_requests=$(sed -E 's/.*shop_([0-9]+)_requests.*/\1/' <<<"$shop_line")
shop_ns=$(sed -E 's/.*bench: *([0-9,]+) ns\/iter.*/\1/' <<<"$shop_line" | tr -d ,)
shop=$(python3 -c "print($shop_requests / ($shop_ns / 1e9))")

heap=$("$bench_dir/heap-loop/target/release/tier3" --requests "$requests" --reps 5 | grep MEDIAN | sed -E 's/.*req_per_s=([0-9.e+]+).*/\1/')
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
