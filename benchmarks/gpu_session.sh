#!/usr/bin/env bash
# The GPU runs of one lent session, in one go (docs/gpu.md), on the GPU machine with
# gpu_inputs.npz carried (`python -m benchmarks.gpu_recipe pack` makes it here first) and,
# where that machine has no Keras, the wheels in .wheels/ (keras, namex, optree).
# RUNS lists split:seed pairs, trained at once on the one GPU (the committed recipe's 20
# epochs each; runs that share the GPU share its time, so only a run alone gives clean
# per-epoch seconds). Each run writes $OUT/gpu_recipe-SPLIT-seedN.json (its curve so far
# after every epoch) and, when it finishes, $OUT/gpu_predictions-SPLIT-seedN.csv; a run
# still going after RUN_SECONDS is stopped, keeping what it wrote.
set -euo pipefail
OUT=${OUT:-benchmarks/results}
RUNS=${RUNS:-official:0}
RUN_SECONDS=${RUN_SECONDS:-300}
export OUT PYTHONUNBUFFERED=1
mkdir -p "$OUT"
if [ -d .wheels ] && ! python3 -c "import keras" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --target /tmp/site .wheels/*.whl
  export PYTHONPATH=/tmp/site
fi
nvidia-smi -L || true
for run in $RUNS; do
  split=${run%:*} seed=${run#*:}
  timeout "$RUN_SECONDS" python3 -m benchmarks.gpu_recipe run --split "$split" --seed "$seed" \
    --tag="-$split-seed$seed" > "$OUT/$split-seed$seed.log" 2>&1 &
done
wait || true
for run in $RUNS; do
  echo "== $run"
  grep -v '^[WI]0000' "$OUT/${run%:*}-seed${run#*:}.log" | tail -n 3
done | tee "$OUT/gpu_session.log"
