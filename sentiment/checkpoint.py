"""Per-epoch checkpoints, so a killed `train` resumes at its next epoch on the next `dvc repro`.

DVC 3 has no checkpoints and deletes a stage's outputs before running it, so the
checkpoint lives outside them: under `.checkpoints/<stage>/` (Git- and DVC-ignored), or
under $SENTIMENT_CHECKPOINTS (a bucket mount on a spot instance, a folder shared by a
sweep's workers). It holds every piece of state the next epoch reads: the model's variables
(dropout seed states included), the optimizer's (step count, learning rate, moments),
ReduceLROnPlateau's counters and DVCLive's files. The one random stream not held in a
variable (Keras' shuffle) is re-seeded per epoch by the trainer, so a resumed run computes
exactly what an uninterrupted one does.

Each run owns one folder, `<root>/<stage>/<key>/`, named by what it is valid for (the
stage's params and the SHA-256 of its inputs and code), so runs with other params (a
sweep's other workers) never touch it, and it touches nothing else in the root. Each save
writes a new `epoch-NNNN/` under a unique temporary name, renames it into place, then
removes the older epochs: a kill at any moment leaves a complete checkpoint. A finished run
removes its folder, so the stage's outputs never depend on whether the run resumed.

What a checkpoint holds is read as untrusted: a symbolic link anywhere in it, a file
larger than its bound, an array of another shape or type, or anything malformed discards
that checkpoint with one line, and training starts afresh; one that Git tracks or that is
reached through a link, at any level from `.checkpoints` down (a branch can carry either),
is never resumed from, written to or removed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentiment.io import TMP_MARK, JSONProblem, file_digest, parse_json

ENV = "SENTIMENT_CHECKPOINTS"
DEFAULT_ROOT = ".checkpoints"
STATE = "state.json"
ARRAYS = "variables.npz"
LIVE = "live"
PLATEAU_STATE = ("best", "wait", "cooldown_counter")  # what ReduceLROnPlateau carries
STATE_BYTES = 64 * 1024  # state.json: a key, a count and a few counters
LIVE_BYTES = 64 * 2**20  # DVCLive's logs: text, a few lines an epoch


def folder(stage: str) -> Path:
    return Path(os.environ.get(ENV) or DEFAULT_ROOT) / stage


def run_key(params: dict[str, Any], files: list[str]) -> str:
    """What a checkpoint is valid for: these params values and these files' bytes."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode())
    for path in files:
        digest.update(path.encode() + b"\0")
        digest.update(file_digest(path).digest())
    return digest.hexdigest()


def run_folder(root: Path, key: str) -> Path:
    """The one folder of the run with this key."""
    return root / key[:32]


@dataclass
class Checkpoint:
    epochs_done: int
    arrays: list[np.ndarray]  # the model's variables, then the optimizer's
    callbacks: dict[str, float]  # ReduceLROnPlateau's counters
    live: Path  # DVCLive's folder as it was after `epochs_done` epochs


def tracked_by_git(path: Path) -> bool:
    """Whether Git tracks anything under `path` (a branch that committed a checkpoint)."""
    listed = subprocess.run(["git", "ls-files", "--", str(path)], capture_output=True,
                            text=True)
    return listed.returncode == 0 and listed.stdout.strip() != ""


def _levels(root: Path, key: str) -> list[Path]:
    """Every folder from the checkpoint root down to this run's: `.checkpoints`,
    `.checkpoints/train`, `.checkpoints/train/<key>` (under $SENTIMENT_CHECKPOINTS, only
    the folders below the one the user named)."""
    top = [] if os.environ.get(ENV) or root.parent == Path(".") else [root.parent]
    return [*top, root, run_folder(root, key)]


def refusal(root: Path, key: str) -> str | None:
    """Why this run's folder must not be used, or None. Nothing that arrives through Git is
    resumed from: not a folder Git tracks at any level, nor one reached through a link (a
    branch can commit `.checkpoints` as a link to a folder of planted weights)."""
    for level in _levels(root, key):
        if level.is_symlink():
            return f"{level} is a symbolic link"
        if level.exists() and not level.is_dir():
            return f"{level} is a file, not a folder"
        if (level.exists() or level.is_symlink()) and tracked_by_git(level):
            return f"{level} is tracked by Git (committed on a branch?)"
    where = run_folder(root, key)
    if where.exists() and tracked_by_git(where.resolve()):
        return f"{where} resolves into files Git tracks"
    return None


def usable(root: Path, key: str) -> bool:
    """False, with one line, when this run's folder must not be used (refusal)."""
    why = refusal(root, key)
    if why:
        print(f"train: {why}: it is neither resumed from nor written; training without "
              "checkpoints", file=sys.stderr)
        return False
    return True


def _epochs(where: Path) -> list[Path]:
    """The run's complete epoch folders, newest first."""
    found = [p for p in where.glob("epoch-*") if p.name[6:].isdigit()] if where.is_dir() else []
    return sorted(found, key=lambda p: int(p.name[6:]), reverse=True)


def save(root: Path, key: str, epochs_done: int, arrays: list[np.ndarray],
         callbacks: dict[str, Any], live_dir: str | os.PathLike) -> None:
    """A new epoch folder, renamed into place whole, then the run's older ones removed."""
    where = run_folder(root, key)
    where.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".epoch-{epochs_done:04d}{TMP_MARK}", dir=where))
    try:
        np.savez(tmp / ARRAYS, *arrays)
        shutil.copytree(live_dir, tmp / LIVE, symlinks=True)
        state = {"key": key, "epochs_done": epochs_done, "callbacks": callbacks}
        (tmp / STATE).write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
        final = where / f"epoch-{epochs_done:04d}"
        if final.exists():  # the same epoch saved again: the new one replaces it
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for older in _epochs(where)[1:]:
        shutil.rmtree(older, ignore_errors=True)


def _no_links(path: Path) -> None:
    if path.is_symlink():
        raise ValueError(f"{path.name} is a symbolic link")
    for base, dirs, files in os.walk(path):
        for name in dirs + files:
            if os.path.islink(os.path.join(base, name)):
                raise ValueError(f"{name} is a symbolic link")


def _read_arrays(path: Path, shapes: list[tuple[tuple[int, ...], np.dtype]]) -> list[np.ndarray]:
    """The arrays, each checked against the shape and type the model has before it is read,
    so a declared size never exceeds what the model needs (no zip or header bombs)."""
    arrays = []
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) != len(shapes):
            raise ValueError(f"it holds {len(members)} arrays, the model {len(shapes)}")
        by_name = {m.filename: m for m in members}
        for i, (shape, dtype) in enumerate(shapes):
            member = by_name.get(f"arr_{i}.npy")
            expected = math.prod(shape) * np.dtype(dtype).itemsize
            if member is None or member.file_size > expected + 4096:
                raise ValueError(f"array {i} is missing or larger than the model's")
            with archive.open(member) as stream:
                version = np.lib.format.read_magic(stream)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                header = read_header(stream)
                if tuple(header[0]) != tuple(shape) or np.dtype(header[2]) != np.dtype(dtype):
                    raise ValueError(f"array {i} is {header[0]} {header[2]}, not {shape}")
                data = stream.read(expected + 1)
            if len(data) != expected:
                raise ValueError(f"array {i} is truncated")
            arrays.append(np.frombuffer(data, dtype=dtype).reshape(shape, order="F"
                          if header[1] else "C").copy())
    return arrays


def _read(epoch: Path, key: str, shapes) -> Checkpoint:
    _no_links(epoch)
    state_file, live = epoch / STATE, epoch / LIVE
    if not state_file.is_file() or not live.is_dir() or not (epoch / ARRAYS).is_file():
        raise ValueError("it is incomplete")
    if state_file.stat().st_size > STATE_BYTES:
        raise ValueError("its state.json is too large")
    if sum(p.stat().st_size for p in live.rglob("*") if p.is_file()) > LIVE_BYTES:
        raise ValueError("its DVCLive logs are too large")
    state = parse_json(state_file.read_text(encoding="utf-8"))
    if not isinstance(state, dict) or state.get("key") != key:
        raise ValueError("made with other params, inputs or code")
    epochs_done, callbacks = state.get("epochs_done"), state.get("callbacks")
    if type(epochs_done) is not int or epochs_done < 1 or not isinstance(callbacks, dict):
        raise ValueError("its state is malformed")
    if set(callbacks) - set(PLATEAU_STATE) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)
        for v in callbacks.values()
    ):
        raise ValueError("its callback state names other attributes, non-numbers or NaN")
    return Checkpoint(epochs_done, _read_arrays(epoch / ARRAYS, shapes), callbacks, live)


def load(root: Path, key: str, shapes) -> Checkpoint | None:
    """This run's newest usable checkpoint, or None. `shapes`: (shape, dtype) of every
    variable the model and optimizer have, in order."""
    where = run_folder(root, key)
    if where.is_symlink():
        discard(where, "it is a symbolic link")
        return None
    for epoch in _epochs(where):
        try:
            return _read(epoch, key, shapes)
        except (ValueError, KeyError, OSError, EOFError, zipfile.BadZipFile, JSONProblem,
                UnicodeDecodeError, SyntaxError, MemoryError) as error:
            discard(epoch, (str(error).splitlines() or [type(error).__name__])[0][:200])
    return None


def discard(where: Path, why: str) -> None:
    print(f"train: discarding the checkpoint in {where} ({why})", file=sys.stderr)
    if where.is_symlink():
        where.unlink()  # the link itself, never what it points at
    else:
        shutil.rmtree(where, ignore_errors=True)


def remove(root: Path, key: str) -> None:
    """The finished run's own folder, and nothing else of the root: not one reached through
    a link, nor one Git tracks (refusal)."""
    if refusal(root, key) is None:
        shutil.rmtree(run_folder(root, key), ignore_errors=True)
