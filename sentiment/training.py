"""The notebook's training recipe: one `fit` per epoch, logged by DVCLive, resumable.

Every number comes from the `train` params section as one Recipe (its fields are that
section's keys, tests/unit/test_training.py). Each epoch is seeded by epoch_seed, so a run
resumed from a checkpoint (sentiment.checkpoint) computes exactly what an uninterrupted one
does; the training curve can be rewritten after every epoch.
"""

from __future__ import annotations

import contextlib
import math
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentiment import checkpoint
from sentiment.checkpoint import PLATEAU_STATE
from sentiment.devices import seed_everything, set_cpu_threads, set_precision, strategy_scope
from sentiment.io import PipelineError, atomic_path
from sentiment.model import build_model, compile_model


@dataclass(frozen=True)
class Recipe:
    """The `train` section of params.yaml: what one training run is made of."""

    units: int
    spatial_dropout: float
    dropout: float
    dense_dropout: float
    learning_rate: float
    weight_decay: float
    batch_size: int
    epochs: int
    validation_split: float
    lr_factor: float
    lr_patience: int
    seed: int
    deterministic: bool
    mixed_precision: bool
    distribute: str


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
    recipe: Recipe,
    live_dir: str | None,
    extra_callbacks: Sequence[Any] = (),
    checkpoint_dir: Path | None = None,
    checkpoint_key: str = "",
    curve: str | Path | None = None,
):
    """The notebook's training recipe, every number from `recipe`; epochs logged by DVCLive.

    With `curve`, the training curve (CSV) is rewritten there after every epoch.
    With `checkpoint_dir`, the state after each epoch is saved there and a run that finds
    a checkpoint for `checkpoint_key` continues from it (sentiment.checkpoint). Each epoch
    is one `fit` call seeded by epoch_seed, so resumed and uninterrupted runs are equal.
    """
    import shutil

    import keras

    r = recipe
    set_cpu_threads()
    seed_everything(r.seed, r.deterministic)
    set_precision(r.mixed_precision)
    with strategy_scope(r.distribute):
        net = build_model(
            embedding_matrix, x.shape[1], r.units, r.spatial_dropout, r.dropout, r.dense_dropout
        )
        compile_model(net, r.learning_rate, r.weight_decay)
        net.optimizer.build(net.trainable_variables)
    state = [*net.variables, *net.optimizer.variables]
    lr_schedule = keras.callbacks.ReduceLROnPlateau(
        monitor="val_loss" if r.validation_split else "loss", factor=r.lr_factor,
        patience=r.lr_patience,
    )
    plateau: dict[str, Any] = {}
    start = 0
    if checkpoint_dir and not checkpoint.usable(checkpoint_dir, checkpoint_key):
        checkpoint_dir = None
    shapes = [(tuple(v.shape), np.dtype(v.dtype)) for v in state]
    saved = checkpoint.load(checkpoint_dir, checkpoint_key, shapes) if checkpoint_dir else None
    epochs = r.epochs
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
        saved = start  # epochs a checkpoint holds: where a stopped run resumes
        for epoch in range(start, epochs):
            try:
                print(f"train: epoch {epoch + 1} of {epochs}", flush=True)  # Keras counts per fit
                keras.utils.set_random_seed(epoch_seed(r.seed, epoch))
                _fit_one_epoch(net, x, targets, epoch, r.batch_size, r.validation_split, [
                    stop_on_non_finite_loss(),
                    *_epoch_callbacks(live, lr_schedule, plateau, curve),
                    *extra_callbacks,
                ])
                if checkpoint_dir and epoch + 1 < epochs:
                    arrays = [np.asarray(v.numpy()) for v in state]
                    checkpoint.save(checkpoint_dir, checkpoint_key, epoch + 1, arrays, plateau,
                                    live_dir)
                    saved = epoch + 1
            except (KeyboardInterrupt, SystemExit):  # Ctrl-C, SIGTERM: in fit or between epochs
                where = (f"the next run resumes after epoch {saved}" if checkpoint_dir and saved
                         else "the next run starts afresh")
                print(f"\ntrain: stopped during epoch {epoch + 1}: {where}", file=sys.stderr,
                      flush=True)
                raise
    return net



def _fit_one_epoch(net, x, targets, epoch: int, batch_size: int, validation_split: float,
                   callbacks: list) -> None:
    """One epoch as one `fit` call, seeded by the caller, so a resumed run is equal."""
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
