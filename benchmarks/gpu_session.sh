#!/usr/bin/env bash
# The GPU checks of one lent session, in one go (docs/gpu.md): run on the GPU machine with
# gpu_inputs.npz carried (`python -m benchmarks.gpu_recipe pack` makes it here first).
#   1. benchmarks/gpu_check.py: cuDNN path, one epoch, projected 20-epoch time, memory;
#   2. the notebook's full recipe (params.yaml's train section, seed 0, random split):
#      accuracy with its interval, seconds per epoch, peak memory -> $OUT/gpu_recipe.json;
#   3. runs per hour of EPOCHS-epoch runs: two at once on the one GPU (memory growth on,
#      as `make sweep PER_GPU=2` sets it) vs two one after another -> $OUT/gpu_packing.json.
set -euo pipefail
OUT=${OUT:-benchmarks/results}
EPOCHS=${EPOCHS:-2}
export OUT
mkdir -p "$OUT"
python -m benchmarks.gpu_check
python -m benchmarks.gpu_recipe run --seed 0

export TF_FORCE_GPU_ALLOW_GROWTH=true
start=$(date +%s)
python -m benchmarks.gpu_recipe run --epochs "$EPOCHS" --seed 1 --tag -seq1 > /dev/null
python -m benchmarks.gpu_recipe run --epochs "$EPOCHS" --seed 2 --tag -seq2 > /dev/null
sequential=$(( $(date +%s) - start ))
start=$(date +%s)
python -m benchmarks.gpu_recipe run --epochs "$EPOCHS" --seed 1 --tag -par1 > /dev/null &
python -m benchmarks.gpu_recipe run --epochs "$EPOCHS" --seed 2 --tag -par2 > /dev/null &
wait
together=$(( $(date +%s) - start ))
printf '{"epochs": %s, "two_sequential_seconds": %s, "two_at_once_seconds": %s, "runs_per_hour_sequential": %s, "runs_per_hour_two_at_once": %s}\n' \
  "$EPOCHS" "$sequential" "$together" "$(( 7200 / sequential ))" "$(( 7200 / together ))" \
  | tee "$OUT/gpu_packing.json"
