"""Where and how the model runs: the GPUs the backend sees, mixed precision, one or several
devices, CPU op threads, seeds and determinism, and a record of the machine that made a
number. Training and evaluation call these; none of them changes the arithmetic of a run
except where a param asks (mixed_precision, deterministic)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sentiment.io import PipelineError


def gpu_names() -> list[str]:
    """The GPUs the Keras backend sees, by model name (TensorFlow here; torch or JAX where a
    GPU box has those instead)."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        details = (tf.config.experimental.get_device_details(g) for g in gpus)
        return [d.get("device_name", g.name) for d, g in zip(details, gpus)]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    if backend == "jax":
        import jax

        return [d.device_kind for d in jax.devices() if d.platform == "gpu"]
    return []



def set_precision(mixed_precision: bool) -> str:
    """`mixed_float16` only where it pays (a GPU); float32 elsewhere. Returns the policy."""
    import keras

    policy = "mixed_float16" if mixed_precision and gpu_names() else "float32"
    keras.mixed_precision.set_global_policy(policy)
    return policy



@contextlib.contextmanager
def strategy_scope(distribute: str, devices: list[str] | None = None) -> Iterator[Any]:
    """Under `auto`, a MirroredStrategy over all GPUs (or `devices`) when there are several.

    Yields the strategy, or None when the default (single-device) placement is used.

    Under MirroredStrategy `batch_size` is the global batch, split across replicas, so
    scale it with the number of GPUs to keep the per-GPU batch of a single-GPU run.
    """
    import keras

    if keras.backend.backend() != "tensorflow":  # one device: MirroredStrategy is TF's
        yield None
        return
    import tensorflow as tf

    if devices is None:
        devices = [d.name for d in tf.config.list_logical_devices("GPU")]
    if distribute == "auto" and len(devices) > 1:
        strategy = tf.distribute.MirroredStrategy(devices)
        with strategy.scope():
            yield strategy
    else:
        yield None


THREAD_VARIABLES = ("TF_NUM_INTEROP_THREADS", "TF_NUM_INTRAOP_THREADS")



def thread_settings() -> dict[str, int]:
    """TF_NUM_* as set in the environment, each a whole number from 1 to 8 per core.

    TensorFlow reads them itself: a negative value aborts the process with no message, a
    word is ignored, and thousands start thousands of OS threads, so each is checked first.
    """
    most = 8 * len(os.sched_getaffinity(0))
    found = {}
    for name in THREAD_VARIABLES:
        value = os.environ.get(name, "")
        if not value:
            continue
        if not (value.isascii() and value.isdigit() and 1 <= int(value) <= most):
            raise PipelineError(
                f"{name}={value[:20]!r} is not a whole number from 1 to {most} (8 per core): "
                f"set one, or unset it for the stage's choice"
            )
        found[name] = int(value)
    return found



def set_cpu_threads() -> None:
    """One op thread per core on a CPU-only TensorFlow, unless TF_NUM_* say otherwise.

    TensorFlow's default runs `cores` ops side by side, each with `cores` threads: on two
    cores the forward and backward LSTMs then fight over them. With one thread per op each
    direction has a core, and the recipe's training step takes 1.29 s a batch against 1.68 s
    (benchmarks/threads.py, docs/benchmarks.md); the weights are the same, bit for bit. A
    sweep worker's TF_NUM_* settings win (checked: thread_settings); a GPU box keeps
    TensorFlow's defaults. Call it before TensorFlow runs its first op.
    """
    import keras

    if thread_settings() or keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return
    cores = len(os.sched_getaffinity(0))
    side_by_side = min(2, cores)  # the two directions of the BiLSTM
    with contextlib.suppress(RuntimeError):  # already running: keep what it has
        tf.config.threading.set_inter_op_parallelism_threads(side_by_side)
        tf.config.threading.set_intra_op_parallelism_threads(cores // side_by_side)



def cpu_threads() -> dict[str, str]:
    """The op threads TensorFlow was given ("0": its default, one per core), for the record."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return {}
    import tensorflow as tf

    configured = {
        "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
    }
    settings = thread_settings()
    names = dict(zip(configured, THREAD_VARIABLES))
    return {key: str(settings.get(names[key], value)) for key, value in configured.items()}



def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Same seed, same result: seeds Python/NumPy and the backend and, if asked, turns on op
    determinism (TensorFlow's; cuDNN's deterministic kernels under torch).

    Op determinism costs some speed (notably on GPUs, where it also picks deterministic
    cuDNN kernels, and stops a run on an op that has none); `train.deterministic: false`
    lets a GPU box trade repeatable bytes for speed. On a CPU its cost was not measurable
    (docs/benchmarks.md). GPU results still differ from CPU ones.
    """
    import keras

    keras.utils.set_random_seed(seed)
    if not deterministic:
        return
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    elif keras.backend.backend() == "torch":
        import torch

        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False



def environment() -> dict:
    """What hardware and software made a number, for `dvc metrics show` beside the metrics.

    Two boxes with different processors, GPUs, TensorFlow, Keras or CUDA builds give
    different numbers (and speeds) for the same params; this says which one produced a result.
    """
    import platform

    import keras

    software = {"python": platform.python_version(), "keras": keras.__version__,
                "backend": keras.backend.backend()}
    if software["backend"] == "tensorflow":
        import tensorflow as tf

        build = tf.sysconfig.get_build_info()
        software.update(tensorflow=tf.__version__, cuda_build=build.get("cuda_version", "none"),
                        cudnn_build=build.get("cudnn_version", "none"))
    elif software["backend"] == "torch":
        import torch

        software.update(torch=torch.__version__, cuda_build=torch.version.cuda or "none")
    names = gpu_names()
    return {
        "software": software,
        "device": ", ".join(names) or "CPU",
        "cpu": cpu_model(),
        "cpu_cores": len(os.sched_getaffinity(0)),
        # what the run was given (a sweep worker's GPU) beside what the backend saw above
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES", "unset"),
        "gpus_seen": len(names),
        "threads": cpu_threads(),
    }



def cpu_model() -> str:
    """The processor's name from /proc/cpuinfo (Linux), else what `platform` knows."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
