#!/usr/bin/env bash
# The study engine at scale (issue 15): peak RSS of a paired run of benches/models/shop-10k.toml
# (10,000 user requests/s) with a zone outage for 4, 16 and 60 simulated minutes, the time of
# `fma --families zone` against the same six faults run one by one, and the explosive
# scenario under a 4 GB address space. Prints a Markdown table (README, "Study engine at scale").
#
#   benches/study-scale.sh [--quick]     # --quick: 4 and 16 minutes only, no explosive run
#   BLASTRADIUS=/tmp/blastradius benches/study-scale.sh   # measure another build
#   REPEATS=5 benches/study-scale.sh                     # best of 5 for the study rows (3)
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

# Studies against the same faults run one by one with `run`, on benches/models/shop-10k.toml
# (each run a few seconds, so the ratio is not start-up noise): wall and CPU (user + sys)
# seconds, the best of $repeats alternated runs of each side.
repeats=${REPEATS:-3}
model="$PWD/benches/models/shop-10k.toml"
# wall and cpu seconds of a command, its exit code ignored
timed() {
  /usr/bin/time -f '%e %U %S' "$@" >/dev/null 2>"$tmp/t" || true
  awk 'END {printf "%s %.2f", $1, $2 + $3}' "$tmp/t"
}
# best wall and best cpu over $repeats runs of the study and of the separate runs, alternated
compare() {
  local study=$1 runs=$2 best=(999999 999999 999999 999999) w c
  for _ in $(seq "$repeats"); do
    read -r w c < <(timed bash -c "$study")
    best[0]=$(echo "if ($w < ${best[0]}) $w else ${best[0]}" | bc); best[1]=$(echo "if ($c < ${best[1]}) $c else ${best[1]}" | bc)
    read -r w c < <(timed bash -c "$runs")
    best[2]=$(echo "if ($w < ${best[2]}) $w else ${best[2]}" | bc); best[3]=$(echo "if ($c < ${best[3]}) $c else ${best[3]}" | bc)
  done
  printf 'wall %.2f s vs %.2f s (%.2fx), cpu %.2f s vs %.2f s (%.2fx)' \
    "${best[0]}" "${best[2]}" "$(echo "${best[0]} / ${best[2]}" | bc -l)" \
    "${best[1]}" "${best[3]}" "$(echo "${best[1]} / ${best[3]}" | bc -l)"
}
scenario() { # kind zone
  cat > "$tmp/$1-$2.toml" <<TOML
name = "$1 $2"
model = "$model"
duration = "4m"
warmup = "30s"
seed = 1
[[fault]]
kind = "$1"
zone = "$2"
start = "1m"
duration = "1m"
TOML
}
six=""
for kind in zone-outage zonal-shift; do
  for zone in az-a az-b az-c; do
    scenario "$kind" "$zone"
    six="$six $tmp/$kind-$zone.toml"
  done
done
three="$tmp/zone-outage-az-a.toml $tmp/zone-outage-az-b.toml $tmp/zone-outage-az-c.toml"
# fma --families zone: each zone's outage and each zone's zonal shift, 6 candidates
fma="'$bin' fma '$model' --families zone --duration 4m --warmup 30s --fault-start 1m --fault-duration 1m"
echo "| fma --families zone (6 faults) vs the 6 run one by one (shop-10k, 4 min, faults at 1 min) | $(compare "$fma" "for f in $six; do '$bin' run \$f; done") | <= 0.6x |"
# 3 zone outages as one study: a sweep over the fault's zone (one seed, one control, 3 forks)
sweep="'$bin' sweep '$tmp/zone-outage-az-a.toml' --seeds 1 --set fault.0.zone=az-a,az-b,az-c"
echo "| 3 zone outages as one study (sweep over the zone) vs the 3 run one by one (shop-10k, 4 min) | $(compare "$sweep" "for f in $three; do '$bin' run \$f; done") | <= 0.6x |"

if [ "$quick" != --quick ]; then
  set +e
  (ulimit -v 4000000; /usr/bin/time -v "$bin" run benches/scenarios/shop-20k-retry-storm.toml >"$tmp/storm.txt" 2>"$tmp/storm.time")
  code=$?
  set -e
  mb=$(($(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/storm.time") / 1024))
  bound=$(grep -o 'max_[a-z_]*' "$tmp/storm.txt" | head -1 || true)
  echo "| explosive scenario under ulimit -v 4000000 | exit $code, peak RSS $mb MB, ${bound:-no bound reached} | exit 0 or 1 |"
fi
