"""The recipe's training step under TensorFlow's CPU thread settings, each in a fresh process.

TensorFlow fixes its thread pools when it starts, so every setting runs in its own process:
the full-width model (BiLSTM(256), a 45,000 × 300 embedding, AdamW, batch 64, 280 tokens)
on random token ids, one warm-up `fit` of two batches, then `--batches` timed batches. The
settings alternate, `--repeats` rounds; the median seconds a batch of each is reported.

    python -m benchmarks.threads --batches 12 --repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from benchmarks.common import report
from sentiment.devices import THREAD_VARIABLES

# name -> values of THREAD_VARIABLES (inter-op, intra-op); None: how the stage runs
SETTINGS = {
    "tensorflow_default": ("0", "0"),  # 0: TensorFlow picks (one thread per core, each pool)
    "stage": None,  # sentiment.devices.set_cpu_threads
    "one_thread": ("1", "1"),
}


def time_batches(batches: int) -> dict:
    """Seconds of each training batch in this process, after a warm-up `fit`."""
    import keras
    import numpy as np

    from sentiment import devices, model

    devices.set_cpu_threads()
    devices.seed_everything(0)
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(45_000, 300)).astype("float32")
    x = rng.integers(0, 45_000, size=(64 * batches, 280)).astype("int32")
    y = keras.utils.to_categorical(rng.integers(0, 2, len(x)), 2)
    net = model.build_model(matrix, 280, 256, 0.35, 0.3, 0.6)
    model.compile_model(net, 1e-4, 5e-4)
    net.fit(x[:128], y[:128], batch_size=64, verbose=0)
    seconds: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            seconds.append(time.perf_counter() - self.start)

    net.fit(x, y, batch_size=64, verbose=0, callbacks=[Clock()])
    return {"threads": devices.cpu_threads(), "seconds": seconds}


def run_setting(name: str, batches: int) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for variable in THREAD_VARIABLES:
        env.pop(variable, None)
    env.update(zip(THREAD_VARIABLES, SETTINGS[name] or ()))
    cmd = [sys.executable, "-m", "benchmarks.threads", "--child", "--batches", str(batches)]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(time_batches(args.batches)))
        return
    runs: dict[str, list[dict]] = {name: [] for name in SETTINGS}
    for _ in range(args.repeats):
        for name in SETTINGS:
            runs[name].append(run_setting(name, args.batches))
            print(name, runs[name][-1]["threads"], flush=True)
    median = {name: statistics.median(s for r in rs for s in r["seconds"])
              for name, rs in runs.items()}
    report("threads", {
        "batches": args.batches, "repeats": args.repeats,
        "threads": {name: rs[0]["threads"] for name, rs in runs.items()},
        "median_seconds_per_batch": {name: round(s, 3) for name, s in median.items()},
        "range_seconds_per_batch": {
            name: [round(min(s for r in rs for s in r["seconds"]), 2),
                   round(max(s for r in rs for s in r["seconds"]), 2)]
            for name, rs in runs.items()},
        "stage_speedup_over_default": round(median["tensorflow_default"] / median["stage"], 2),
    })


if __name__ == "__main__":
    main()
