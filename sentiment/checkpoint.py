"""Per-epoch checkpoints, so a killed `train` resumes at its next epoch on the next `dvc repro`.

DVC 3 has no checkpoints and deletes a stage's outputs before running it, so the
checkpoint lives outside them: in `.checkpoints/<stage>/` (Git- and DVC-ignored), or under
$SENTIMENT_CHECKPOINTS (a bucket mount on a spot instance, say). It holds every piece of
state the next epoch reads: the model's variables (dropout seed states included), the
optimizer's (step count, learning rate, moments), ReduceLROnPlateau's counters and DVCLive's
files. The one random stream not held in a variable (Keras' shuffle) is re-seeded per epoch
by the trainer, so a resumed run computes exactly what an uninterrupted one does.

A checkpoint is keyed by the stage's params and the SHA-256 of its inputs and code: any
change discards it. A finished run removes it, so the stage's outputs and DVC's run-cache
entry never depend on whether the run resumed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentiment.io import TMP_MARK, file_digest, parse_json, replace_path

ENV = "SENTIMENT_CHECKPOINTS"
DEFAULT_ROOT = ".checkpoints"
STATE = "state.json"
ARRAYS = "variables.npz"
LIVE = "live"


def folder(stage: str) -> Path:
    return Path(os.environ.get(ENV) or DEFAULT_ROOT) / stage


def run_key(params: dict[str, Any], files: list[str]) -> str:
    """What a checkpoint is valid for: these params values and these files' bytes."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode())
    for path in files:
        digest.update(path.encode() + b"\0")
        digest.update(file_digest(path).digest())
    return digest.hexdigest()


@dataclass
class Checkpoint:
    epochs_done: int
    arrays: list[np.ndarray]  # the model's variables, then the optimizer's
    callbacks: dict[str, Any]  # JSON-able callback state (ReduceLROnPlateau's counters)
    live: Path  # DVCLive's folder as it was after `epochs_done` epochs


def save(where: Path, key: str, epochs_done: int, arrays: list[np.ndarray],
         callbacks: dict[str, Any], live_dir: str | os.PathLike) -> None:
    """Replace the checkpoint as a whole: a kill while saving leaves the previous one."""
    where.parent.mkdir(parents=True, exist_ok=True)
    tmp = where.with_name(f".{where.name}{TMP_MARK}new")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    np.savez(tmp / ARRAYS, *arrays)
    shutil.copytree(live_dir, tmp / LIVE)
    state = {"key": key, "epochs_done": epochs_done, "callbacks": callbacks}
    (tmp / STATE).write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
    replace_path(tmp, where)


def load(where: Path, key: str) -> Checkpoint | None:
    """The checkpoint for `key`, or None; one made for other params or inputs is removed."""
    try:
        state = parse_json((where / STATE).read_text(encoding="utf-8"))
        if not isinstance(state, dict) or state.get("key") != key:
            raise ValueError("made with other params, inputs or code")
        epochs_done, callbacks = state["epochs_done"], state["callbacks"]
        if not isinstance(epochs_done, int) or epochs_done < 1 or not isinstance(callbacks, dict):
            raise ValueError("its state is malformed")
        with np.load(where / ARRAYS, allow_pickle=False) as stored:
            arrays = [stored[f"arr_{i}"] for i in range(len(stored.files))]
    except FileNotFoundError:
        if where.exists():
            discard(where, "it is incomplete")
        return None
    except (ValueError, KeyError, OSError, zipfile.BadZipFile) as error:
        discard(where, str(error)[:200])
        return None
    return Checkpoint(epochs_done, arrays, callbacks, where / LIVE)


def discard(where: Path, why: str) -> None:
    print(f"train: discarding the checkpoint in {where} ({why}); starting at epoch 1",
          file=sys.stderr)
    shutil.rmtree(where, ignore_errors=True)


def remove(where: Path) -> None:
    shutil.rmtree(where, ignore_errors=True)
