"""Benchmark: samples/s of the `train` stage's recipe vs the notebook's bare `model.fit`.

Same arrays, same model config, same batch size; the stage path adds op determinism,
DVCLive logging and ReduceLROnPlateau. Each path runs in its own process (determinism
is global), and samples/s is the median over the epochs after the first (tracing).

    python -m benchmarks.train --samples 2048 --epochs 4 [--preset]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time

import numpy as np

from benchmarks.common import report

DEFAULT = {"units": 256, "batch_size": 64, "learning_rate": 1e-4}
CPU_PRESET = {"units": 32, "batch_size": 128, "learning_rate": 1e-3}


def params(preset: bool, epochs: int) -> dict:
    import yaml

    p = yaml.safe_load(open("params.yaml"))["train"]
    p.update(CPU_PRESET if preset else DEFAULT)
    p["epochs"] = epochs
    return p


def arrays(samples: int, max_seq: int, max_vocab: int, dim: int):
    rng = np.random.default_rng(0)
    x = rng.integers(0, max_vocab, size=(samples, max_seq)).astype(np.int32)
    y = rng.integers(0, 2, size=samples).astype(np.int64)
    matrix = rng.normal(0, 0.1, size=(max_vocab, dim)).astype(np.float32)
    return x, y, matrix


class EpochTimer:
    """Keras callback recording each epoch's wall time."""

    def __init__(self):
        import keras

        class _Timer(keras.callbacks.Callback):
            def on_epoch_begin(inner, epoch, logs=None):
                inner.start = time.perf_counter()

            def on_epoch_end(inner, epoch, logs=None):
                self.times.append(time.perf_counter() - inner.start)

        self.times: list[float] = []
        self.callback = _Timer()


def child(path: str, preset: bool, samples: int, epochs: int) -> None:
    """One measurement, printed as JSON: `stage` or `bare`."""
    import keras

    from sentiment import model

    p = params(preset, epochs)
    x, y, matrix = arrays(samples, 280, 45000, 300)
    timer = EpochTimer()
    if path == "stage":
        with tempfile.TemporaryDirectory() as live_dir:
            model.train(x, y, matrix, live_dir, **p, extra_callbacks=[timer.callback])
    else:  # the notebook: build, compile, fit, nothing else
        net = model.build_model(
            matrix, 280, p["units"], p["spatial_dropout"], p["dropout"], p["dense_dropout"]
        )
        model.compile_model(net, p["learning_rate"], p["weight_decay"])
        net.fit(
            x,
            keras.utils.to_categorical(y, 2),
            epochs=epochs,
            batch_size=p["batch_size"],
            validation_split=p["validation_split"],
            callbacks=[timer.callback],
            verbose=0,
        )
    trained = int(samples * (1 - p["validation_split"]))
    rates = [trained / t for t in timer.times[1:]]
    print(json.dumps({"samples_per_s": float(np.median(rates))}))


def measure(path: str, preset: bool, samples: int, epochs: int) -> float:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.train",
            "--child",
            path,
            "--samples",
            str(samples),
            "--epochs",
            str(epochs),
        ]
        + (["--preset"] if preset else []),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])["samples_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=2048)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--child", choices=["stage", "bare"])
    parser.add_argument("--preset", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.preset, args.samples, args.epochs)
        return
    result = {}
    for name, preset in (("default", False), ("cpu_preset", True)):
        bare = measure("bare", preset, args.samples, args.epochs)
        stage = measure("stage", preset, args.samples, args.epochs)
        result[name] = {
            "bare_fit_samples_per_s": round(bare, 1),
            "stage_samples_per_s": round(stage, 1),
            "ratio": round(stage / bare, 3),
        }
    import tensorflow as tf

    result["samples"], result["epochs"] = args.samples, args.epochs
    result["tensorflow"] = tf.__version__
    result["onednn"] = "on (TF_ENABLE_ONEDNN_OPTS default)"
    result["target"] = "ratio >= 1.0"
    report("train", result)


if __name__ == "__main__":
    main()
