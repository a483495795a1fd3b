"""The notebook's BiLSTM, built from params, and how it is placed on devices.

The LSTM keeps Keras' cuDNN-eligible settings (tanh/sigmoid, no recurrent dropout, no
unroll, bias on, and no mask, since the sequences are left-padded), so on a GPU it runs
the fused cuDNN kernel and on a CPU the same code runs unchanged.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sentiment.io import PipelineError, atomic_path, file_digest, read_json

CUDNN_SETTINGS = {
    "activation": "tanh",
    "recurrent_activation": "sigmoid",
    "recurrent_dropout": 0.0,
    "unroll": False,
    "use_bias": True,
}


def build_model(
    embedding_matrix: np.ndarray,
    max_seq: int,
    units: int,
    spatial_dropout: float,
    dropout: float,
    dense_dropout: float,
    n_classes: int = 2,
    use_cudnn: bool | str = "auto",
):
    """Input -> Embedding(word2vec init) -> SpatialDropout1D -> BiLSTM -> max-pool -> softmax."""
    import keras
    from keras import layers

    vocab_size, dim = embedding_matrix.shape
    inputs = keras.Input(shape=(max_seq,), dtype="int32", name="tokens")
    embedding = layers.Embedding(vocab_size, dim, trainable=True, name="embedding")
    x = embedding(inputs)
    x = layers.SpatialDropout1D(spatial_dropout)(x)
    x = layers.Bidirectional(
        layers.LSTM(
            units, dropout=dropout, return_sequences=True, use_cudnn=use_cudnn, **CUDNN_SETTINGS
        ),
        name="bilstm",
    )(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dropout(dense_dropout)(x)
    # float32 output keeps the softmax stable under mixed precision
    outputs = layers.Dense(n_classes, activation="softmax", dtype="float32", name="output")(x)
    model = keras.Model(inputs, outputs, name="sentiment_bilstm")
    # set_weights, not a Constant initializer, which would copy the matrix into the config
    embedding.set_weights([embedding_matrix])
    return model


def compile_model(model, learning_rate: float, weight_decay: float) -> None:
    import keras

    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )


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


def fingerprint(*paths: str | Path) -> dict[str, str]:
    """Each file's SHA-256 by name. train records the model's own with its vocabulary's and
    encoding's, so a model from another run, even one of the same shapes, is never used
    with these files, nor these files with another model."""
    return {Path(path).name: file_digest(path).hexdigest() for path in paths}


def check_fingerprint(recorded_path: str, model_path: str, *paths: str) -> None:
    """Refuse a model, vocabulary or encoding other than the three one train run wrote."""
    fix = "take the model and its files from one run (`dvc pull models/` or `dvc repro train`)"
    recorded = read_json(recorded_path, "train")
    expected = {Path(p).name for p in (model_path, *paths)}
    if not isinstance(recorded, dict) or not expected <= set(recorded):
        raise PipelineError(
            f"{recorded_path} does not name the SHA-256 of {', '.join(sorted(expected))}, "
            f"as train writes it: {fix}"
        )
    if not Path(model_path).is_file():
        raise PipelineError(f"{model_path} is missing: run `dvc repro train` (or `dvc pull`) first")
    for name, digest in fingerprint(model_path, *paths).items():
        if recorded[name] != digest:
            raise PipelineError(
                f"{name} is not from the run that wrote {recorded_path} (its SHA-256 "
                f"differs): {fix}"
            )


def _renumbered(config: Any, ids: dict[int, int]) -> Any:
    """`shared_object_id`s (Python object addresses, new in every process) numbered in the
    order they appear, the same number for the same object."""
    if isinstance(config, dict):
        return {k: ids.setdefault(v, len(ids) + 1) if k == "shared_object_id"
                else _renumbered(v, ids) for k, v in config.items()}
    if isinstance(config, list):
        return [_renumbered(v, ids) for v in config]
    return config


def save_model(net, path: str | Path) -> None:
    """`net.save`, then the same bytes for the same weights: Keras writes the save time
    (metadata.json's `date_saved`, the weights entry's timestamp) and object addresses
    (config.json's `shared_object_id`) into the `.keras` zip, which would change the file,
    dvc.lock and everything downstream on every re-run of train."""
    import json
    import zipfile

    path = Path(path)
    net.save(path)
    with zipfile.ZipFile(path) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        for info, data in entries:
            if info.filename == "metadata.json":
                metadata = json.loads(data)
                metadata.pop("date_saved", None)
                data = json.dumps(metadata).encode()
            elif info.filename == "config.json":
                data = json.dumps(_renumbered(json.loads(data), {})).encode()
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type, fixed.external_attr = info.compress_type, info.external_attr
            archive.writestr(fixed, data)


def load_model(path: str):
    """A trained model, loaded with Keras' safe_mode (no arbitrary code from the file)."""
    import zipfile
    from pathlib import Path

    import keras

    if not Path(path).is_file():
        raise PipelineError(f"{path} is missing: run `dvc repro train` (or `dvc pull`) first")
    set_cpu_threads()  # evaluate and predict run the BiLSTM as training does
    try:
        return keras.models.load_model(path, safe_mode=True)
    except (ValueError, OSError, zipfile.BadZipFile, KeyError, TypeError) as error:
        first = (str(error).splitlines() or [type(error).__name__])[0][:200]
        if "safe_mode" in str(error):
            raise PipelineError(
                f"{path} holds code (a Lambda layer), which is refused for safety "
                "(Keras safe_mode): use a model this pipeline trained (`dvc repro train`)"
            ) from None
        raise PipelineError(
            f"{path} is unreadable ({first}): re-run `dvc repro -f train` then `dvc repro`"
        ) from None


def stop_on_non_finite_loss():
    """A callback that fails the stage at the first NaN/inf loss, before any model is saved.

    Keras' TerminateOnNaN only stops training, and the stage would then save a broken model
    and exit 0; raising instead unwinds through the atomic writers, so nothing is written.
    """
    import keras

    class StopOnNonFiniteLoss(keras.callbacks.Callback):
        epoch = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                raise PipelineError(
                    f"the training loss became {float(loss)} at epoch {self.epoch + 1}, batch "
                    f"{batch + 1}: lower train.learning_rate or check the embedding matrix; "
                    "no model was written"
                )

    return StopOnNonFiniteLoss()


PLATEAU_STATE = ("best", "wait", "cooldown_counter")  # what ReduceLROnPlateau carries


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of one epoch's shuffle: a function of (seed, epoch) alone, so epoch 3 of a
    resumed run shuffles as epoch 3 of an uninterrupted one."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


def write_training_curve(live_dir: str | Path, path: str | Path) -> None:
    """Train vs validation accuracy and loss by epoch, from DVCLive's per-epoch logs."""
    import csv

    folder = Path(live_dir) / "plots" / "metrics"
    columns: dict[str, list[str]] = {}
    for split, prefix in (("train", ""), ("eval", "val_")):
        for metric in ("accuracy", "loss"):
            file = folder / split / f"{metric}.tsv"
            if file.exists():  # columns by name: DVCLive may add some (e.g. a timestamp)
                rows = list(csv.DictReader(file.open(encoding="utf-8"), delimiter="\t"))
                columns[prefix + metric] = [row[metric] for row in rows]
    epochs = len(next(iter(columns.values()), []))
    with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["epoch", *columns])
        writer.writerows([e + 1] + [values[e] for values in columns.values()]
                         for e in range(epochs))


def epoch_seconds(live_dir: str | Path) -> list[float]:
    """Each epoch's wall seconds as logged (resumed runs included)."""
    import csv

    file = Path(live_dir) / "plots" / "metrics" / "epoch_seconds.tsv"
    if not file.exists():
        return []
    with file.open(encoding="utf-8") as rows:
        return [round(float(r["epoch_seconds"]), 1) for r in csv.DictReader(rows, delimiter="\t")]


def _epoch_callbacks(live, lr_schedule, plateau: dict[str, Any],
                     curve: str | Path | None) -> list[Any]:
    """DVCLive logging per epoch (when `live` is given) with the epoch's wall seconds and,
    with `curve`, the training curve rewritten after every epoch (so `dvc plots show` and
    DVC's VS Code extension show a run while it trains); ReduceLROnPlateau's counters
    carried across the one-epoch `fit` calls (its on_train_begin resets them)."""
    import time

    import keras

    class EpochLog(keras.callbacks.Callback):
        started = 0.0

        def on_train_begin(self, logs=None):
            for name, value in plateau.items():
                setattr(lr_schedule, name, value)

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            plateau.update({name: float(getattr(lr_schedule, name)) for name in PLATEAU_STATE})
            if live is None:
                return
            from dvclive.utils import standardize_metric_name

            for metric, value in (logs or {}).items():
                live.log_metric(standardize_metric_name(metric, "dvclive.keras"), value)
            live.log_metric("epoch_seconds", time.perf_counter() - self.started)
            live.next_step()
            if curve is not None:
                write_training_curve(live.dir, curve)

    return [lr_schedule, EpochLog()]


@contextlib.contextmanager
def _live(live_dir: str | None, resume: bool) -> Iterator[Any]:
    """DVCLive writing into `live_dir`; nothing where there is none (a bare GPU box that has
    Keras but not DVC: benchmarks/gpu_recipe.py reads Keras' own logs instead). A run that
    is stopped skips DVCLive's end(), which reads the DVC repository: a stopped queue
    worker may have removed the run's folder already (a traceback, not a stop). Its files
    stay as the last epoch wrote them, which is what the checkpoint holds."""
    if live_dir is None:
        yield None
        return
    from dvclive import Live

    live = Live(live_dir, dvcyaml=False, save_dvc_exp=False, report=None, resume=resume)
    yield live  # an exception (a stop) propagates from here, past end()
    live.end()


def train(
    x: np.ndarray,
    y: np.ndarray,
    embedding_matrix: np.ndarray,
    live_dir: str | None,
    units: int,
    spatial_dropout: float,
    dropout: float,
    dense_dropout: float,
    learning_rate: float,
    weight_decay: float,
    batch_size: int,
    epochs: int,
    validation_split: float,
    lr_factor: float,
    lr_patience: int,
    seed: int,
    deterministic: bool,
    mixed_precision: bool,
    distribute: str,
    extra_callbacks: Sequence[Any] = (),
    checkpoint_dir: Path | None = None,
    checkpoint_key: str = "",
    curve: str | Path | None = None,
):
    """The notebook's training recipe, every number from params; epochs logged by DVCLive.

    With `curve`, the training curve (CSV) is rewritten there after every epoch.
    With `checkpoint_dir`, the state after each epoch is saved there and a run that finds
    a checkpoint for `checkpoint_key` continues from it (sentiment.checkpoint). Each epoch
    is one `fit` call seeded by epoch_seed, so resumed and uninterrupted runs are equal.
    """
    import shutil

    import keras

    from sentiment import checkpoint

    set_cpu_threads()
    seed_everything(seed, deterministic)
    set_precision(mixed_precision)
    with strategy_scope(distribute):
        net = build_model(
            embedding_matrix, x.shape[1], units, spatial_dropout, dropout, dense_dropout
        )
        compile_model(net, learning_rate, weight_decay)
        net.optimizer.build(net.trainable_variables)
    state = [*net.variables, *net.optimizer.variables]
    lr_schedule = keras.callbacks.ReduceLROnPlateau(
        monitor="val_loss" if validation_split else "loss", factor=lr_factor, patience=lr_patience
    )
    plateau: dict[str, Any] = {}
    start = 0
    if checkpoint_dir and not checkpoint.usable(checkpoint_dir, checkpoint_key):
        checkpoint_dir = None
    shapes = [(tuple(v.shape), np.dtype(v.dtype)) for v in state]
    saved = checkpoint.load(checkpoint_dir, checkpoint_key, shapes) if checkpoint_dir else None
    if saved and saved.epochs_done < epochs:
        for variable, value in zip(state, saved.arrays):
            variable.assign(value)
        plateau.update(saved.callbacks)
        shutil.copytree(saved.live, live_dir, dirs_exist_ok=True)
        start = saved.epochs_done
        print(f"train: resuming from the checkpoint after epoch {start} of {epochs}")
    elif saved:
        checkpoint.discard(saved.live.parent, "it has as many epochs as this run or more")
    targets = keras.utils.to_categorical(y, 2)
    with _live(live_dir, resume=start > 0) as live:
        if live is not None:
            live.step = start
        for epoch in range(start, epochs):
            print(f"train: epoch {epoch + 1} of {epochs}", flush=True)  # Keras counts per fit
            keras.utils.set_random_seed(epoch_seed(seed, epoch))
            _fit_one_epoch(net, x, targets, epoch, batch_size, validation_split, [
                stop_on_non_finite_loss(),
                *_epoch_callbacks(live, lr_schedule, plateau, curve),
                *extra_callbacks,
            ], resumable=bool(checkpoint_dir))
            if checkpoint_dir and epoch + 1 < epochs:
                arrays = [np.asarray(v.numpy()) for v in state]
                done = epoch + 1
                checkpoint.save(checkpoint_dir, checkpoint_key, done, arrays, plateau, live_dir)
    return net


def _fit_one_epoch(net, x, targets, epoch: int, batch_size: int, validation_split: float,
                   callbacks: list, resumable: bool) -> None:
    """One epoch; a stop (Ctrl-C, SIGTERM) during it says where the run can resume."""
    try:
        net.fit(
            x,
            targets,
            initial_epoch=epoch,
            epochs=epoch + 1,
            batch_size=batch_size,
            validation_split=validation_split,
            callbacks=callbacks,
            verbose=1 if sys.stdout.isatty() else 2,  # a bar on a terminal, a line in logs
        )
    except (KeyboardInterrupt, SystemExit):
        where = (f"the next run resumes after epoch {epoch}" if resumable and epoch
                 else "the next run starts afresh")
        print(f"\ntrain: stopped during epoch {epoch + 1}: {where}", file=sys.stderr, flush=True)
        raise
