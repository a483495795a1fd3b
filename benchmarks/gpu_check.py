"""GPU check (under 5 minutes on one H100/H200): cuDNN path, one epoch, memory.

1. Step time of the default BiLSTM with `use_cudnn=True` vs `False`: a large ratio shows
   the fused cuDNN kernel is in use (and `True` fails loudly if the config is ineligible).
2. One epoch of the default config (32,000 x 280 tokens, batch 64, validation 0.2) through
   the `train` stage's recipe: samples/s, the projected 20-epoch time, peak GPU memory.

    python -m benchmarks.gpu_check [--mixed-precision]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from benchmarks.common import report
from benchmarks.train import EpochTimer, arrays, params


def step_time(use_cudnn: bool, x: np.ndarray, y: np.ndarray, matrix: np.ndarray) -> float:
    import keras

    from sentiment import model

    net = model.build_model(matrix, x.shape[1], 256, 0.35, 0.3, 0.6, use_cudnn=use_cudnn)
    model.compile_model(net, 1e-4, 5e-4)
    labels = keras.utils.to_categorical(y, 2)
    net.train_on_batch(x[:64], labels[:64])  # trace
    start = time.perf_counter()
    for i in range(10):
        net.train_on_batch(x[i * 64 : (i + 1) * 64], labels[i * 64 : (i + 1) * 64])
    return (time.perf_counter() - start) / 10


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mixed-precision", action="store_true")
    parser.add_argument("--samples", type=int, default=40_000)
    args = parser.parse_args()
    import tensorflow as tf

    from sentiment import model

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        raise SystemExit("gpu_check: no GPU visible to TensorFlow")
    x, y, matrix = arrays(args.samples, 280, 45000, 300)
    cudnn, generic = step_time(True, x, y, matrix), step_time(False, x, y, matrix)
    tf.config.experimental.reset_memory_stats("GPU:0")
    p = params(preset=False, epochs=2)
    p["mixed_precision"] = args.mixed_precision
    timer = EpochTimer()
    with tempfile.TemporaryDirectory() as live_dir:
        model.train(x, y, matrix, live_dir, **p, extra_callbacks=[timer.callback])
    epoch = timer.times[-1]
    trained = int(args.samples * (1 - p["validation_split"]))
    report(
        "gpu_check",
        {
            "gpu": tf.config.experimental.get_device_details(gpus[0]).get("device_name", "?"),
            "step_ms_cudnn": round(cudnn * 1000, 1),
            "step_ms_generic": round(generic * 1000, 1),
            "cudnn_speedup": round(generic / cudnn, 1),
            "epoch_seconds": round(epoch, 1),
            "samples_per_s": round(trained / epoch),
            "projected_20_epochs_minutes": round(20 * epoch / 60, 1),
            "peak_gpu_memory_mib": round(
                tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
            ),
            "mixed_precision": args.mixed_precision,
            "target": "20 epochs < 5 minutes",
        },
    )


if __name__ == "__main__":
    main()
