#!/usr/bin/env bash
# The study engine at scale (issue 15): peak RSS of a paired run of benches/models/shop-10k.toml
# (10,000 user requests/s) with a zone outage for 4, 16 and 60 simulated minutes, the time of
# `fma --families zone` against the same six faults run one by one, and the explosive
# scenario under a 4 GB address space. Prints a Markdown table (README, "Study engine at scale").
#
#   benches/study-scale.sh [--quick]     # --quick: 4 and 16 minutes only, no explosive run
#   BLASTRADIUS=/tmp/blastradius benches/study-scale.sh   # measure another build
#
# Release build, whole process, measured with /usr/bin/time -v. Run it alone on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
# BLASTRADIUS=path/to/binary measures that build instead of building this tree.
if [ -z "${BLASTRADIUS:-}" ]; then
  cargo build --release --locked --bin blastradius >&2
fi
bin=${BLASTRADIUS:-target/release/blastradius}
quick=${1:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# peak RSS (MB) and wall seconds of a command, its exit code ignored
measure() {
  /usr/bin/time -v "$@" >/dev/null 2>"$tmp/time" || true
  local rss wall
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tmp/time")
  echo "$((rss / 1024)) $wall"
}

echo "| figure | measured | target |"
echo "|---|---|---|"
declare -A rss
minutes="4 16 60"
[ "$quick" = --quick ] && minutes="4 16"
for m in $minutes; do
  read -r mb wall < <(measure "$bin" run "benches/scenarios/shop-10k-zone-outage-${m}m.toml" --format json)
  rss[$m]=$mb
  echo "| peak RSS, ${m} min at 10 k req/s, zone outage, paired | ${mb} MB (${wall}) | $([ "$m" = 60 ] && echo '< 200 MB' || echo '') |"
done
echo "| peak RSS ratio 16 min / 4 min | $(awk "BEGIN {printf \"%.2f\", ${rss[16]} / ${rss[4]}}") | <= 1.3 |"

# fma --families zone (each zone's outage and each zone's zonal shift: 6 candidates) vs the
# same 6 faults run one by one with `run`
fma_args=(--families zone --duration 4m --warmup 30s --fault-start 1m --fault-duration 1m)
start=$(date +%s.%N)
"$bin" fma models/shop.toml "${fma_args[@]}" >/dev/null || true
fma_s=$(echo "$(date +%s.%N) - $start" | bc)
faults=""
for kind in zone-outage zonal-shift; do
  for zone in az-a az-b az-c; do
    cat > "$tmp/$kind-$zone.toml" <<TOML
name = "$kind $zone"
model = "$PWD/models/shop.toml"
duration = "4m"
warmup = "30s"
seed = 1
[[fault]]
kind = "$kind"
zone = "$zone"
start = "1m"
duration = "1m"
TOML
    faults="$faults $tmp/$kind-$zone.toml"
  done
done
start=$(date +%s.%N)
for file in $faults; do "$bin" run "$file" >/dev/null || true; done
runs_s=$(echo "$(date +%s.%N) - $start" | bc)
echo "| fma --families zone (6 faults) vs the 6 run one by one (shop, 4 min) | $(printf '%.2f s vs %.2f s (%.2fx)' "$fma_s" "$runs_s" "$(echo "$fma_s / $runs_s" | bc -l)") | <= 0.6x |"

# A study of 3 zone outages (a sweep over the fault's zone: one seed, one control, three
# forks) vs the same 3 scenarios run one by one
cat > "$tmp/zone-outage.toml" <<TOML
name = "zone outage"
model = "$PWD/models/shop.toml"
duration = "4m"
warmup = "30s"
seed = 1
[[fault]]
kind = "zone-outage"
zone = "az-a"
start = "1m"
duration = "1m"
TOML
start=$(date +%s.%N)
"$bin" sweep "$tmp/zone-outage.toml" --seeds 1 --set fault.0.zone=az-a,az-b,az-c >/dev/null || true
study_s=$(echo "$(date +%s.%N) - $start" | bc)
start=$(date +%s.%N)
for zone in az-a az-b az-c; do "$bin" run "$tmp/zone-outage-$zone.toml" >/dev/null || true; done
runs3_s=$(echo "$(date +%s.%N) - $start" | bc)
echo "| a study of 3 zone outages (sweep over the zone) vs the 3 run one by one (shop, 4 min) | $(printf '%.2f s vs %.2f s (%.2fx)' "$study_s" "$runs3_s" "$(echo "$study_s / $runs3_s" | bc -l)") | <= 0.6x |"

if [ "$quick" != --quick ]; then
  set +e
  (ulimit -v 4000000; /usr/bin/time -v "$bin" run benches/scenarios/shop-20k-retry-storm.toml >"$tmp/storm.txt" 2>"$tmp/storm.time")
  code=$?
  set -e
  mb=$(($(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/storm.time") / 1024))
  bound=$(grep -o 'max_[a-z_]*' "$tmp/storm.txt" | head -1 || true)
  echo "| explosive scenario under ulimit -v 4000000 | exit $code, peak RSS $mb MB, ${bound:-no bound reached} | exit 0 or 1 |"
fi
