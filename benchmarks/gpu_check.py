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

    from sentiment import training

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
        training.train(x, y, matrix, training.Recipe(**p), live_dir,
                       extra_callbacks=[timer.callback])
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
