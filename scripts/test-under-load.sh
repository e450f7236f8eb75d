#!/usr/bin/env bash
# usage: scripts/test-under-load.sh <dir> <n> <outdir>
# Runs `npm test` n times in a row in <dir> with two CPU-bound processes beside it (the suite must
# hold on a busy machine); one log per run and a summary.txt with each run's exit code and counts.
dir=$1; n=$2; out=$3
mkdir -p "$out"
node -e 'for(;;){}' & b1=$!
node -e 'for(;;){}' & b2=$!
trap 'kill $b1 $b2 2>/dev/null' EXIT
echo "burners: $b1 $b2 ($(nproc) cores)" > "$out/summary.txt"
for i in $(seq 1 "$n"); do
  start=$(date +%s)
  (cd "$dir" && npm test) > "$out/run$i.log" 2>&1
  rc=$?
  end=$(date +%s)
  echo "run $i: exit $rc, $((end-start)) s, $(grep -E '^\s+[0-9]+ (passing|failing|pending)' "$out/run$i.log" | tr -s ' ' | tr '\n' ',')" >> "$out/summary.txt"
done
echo "burners still running at the end: $(ps -o pid= -p $b1,$b2 | wc -l)" >> "$out/summary.txt"
