#!/usr/bin/env bash
# The GPU runs of one lent session, in one go (docs/gpu.md), on the GPU machine with
# gpu_inputs.npz carried (`python -m benchmarks.gpu_recipe pack` makes it here first) and,
# where that machine has no Keras, the wheels in .wheels/ (keras, namex, optree):
#   1. seed 0 alone: the committed recipe's 20 epochs, with clean per-epoch wall times;
#   2. seeds 1 and 2 at once on the same GPU (their times share it: accuracy only).
# Each run writes $OUT/gpu_recipe-seedN.json and $OUT/gpu_predictions-seedN.csv; a phase
# that would pass its time (PHASE_SECONDS) is stopped, keeping what finished before it.
set -euo pipefail
OUT=${OUT:-benchmarks/results}
PHASE_SECONDS=${PHASE_SECONDS:-300}
export OUT PYTHONUNBUFFERED=1
mkdir -p "$OUT"
if [ -d .wheels ] && ! python3 -c "import keras" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --target /tmp/site .wheels/*.whl
  export PYTHONPATH=/tmp/site
fi
nvidia-smi -L || true
timeout "$PHASE_SECONDS" python3 -m benchmarks.gpu_recipe run --seed 0 --tag=-seed0 \
  2>&1 | grep -v '^[WI]0000' | tee "$OUT/gpu_session.log" || true
for seed in 1 2; do
  timeout 240 python3 -m benchmarks.gpu_recipe run --seed "$seed" \
    --tag="-seed$seed" > "$OUT/seed$seed.log" 2>&1 &
done
wait || true
for seed in 1 2; do tail -n 3 "$OUT/seed$seed.log" >> "$OUT/gpu_session.log"; rm "$OUT/seed$seed.log"; done
tail -n 6 "$OUT/gpu_session.log"
