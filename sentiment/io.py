"""Stage plumbing: clear failures and outputs that are either complete or absent.

Every output is written to a temporary sibling and moved into place only once it
is complete, so a stage killed midway leaves the previous output (or none), never
a truncated file that DVC would then cache.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np


class PipelineError(Exception):
    """A problem the user can fix; its message is the whole story (no traceback)."""


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds, so temporary outputs are removed


def run_stage(main: Callable[[], None]) -> None:
    """Run a stage's main(): a PipelineError becomes one line and exit code 1.

    SIGTERM (`kill`, a CI timeout) unwinds like Ctrl-C, so no temporary file is left.
    """
    signal.signal(signal.SIGTERM, _terminate)
    name = Path(sys.argv[0]).stem
    try:
        main()
    except PipelineError as error:
        print(f"{name}: error: {error}", file=sys.stderr)
        sys.exit(1)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path (same suffix, same folder); move it onto `path` on success."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=final.suffix, dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers such as Keras refuse to overwrite; let them create it
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp)
        elif tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder that replaces `path` once the block succeeds."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        yield tmp
        if final.exists():
            old = final.with_name(f".{final.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old)
        else:
            os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write sorted, indented JSON so equal data gives equal bytes."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_text(path: str | os.PathLike, content: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(content, encoding="utf-8")


def read_json(path: str | os.PathLike, stage: str) -> Any:
    """Read a JSON input, naming the stage to re-run when it is missing or broken."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError(f"{path} is missing: run `dvc repro {stage}` first") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise PipelineError(
            f"{path} is not valid JSON ({error}): re-run `dvc repro -f {stage}`"
        ) from None


def save_array(path: str | os.PathLike, array: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        np.save(tmp, array, allow_pickle=False)


def load_array(path: str | os.PathLike, stage: str, dtype: str, ndim: int) -> np.ndarray:
    """Load a .npy without pickle and check what the reader relies on."""
    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise PipelineError(f"{path} is missing: run `dvc repro {stage}` first") from None
    except (ValueError, OSError, EOFError) as error:
        raise PipelineError(
            f"{path} is unreadable ({error}): re-run `dvc repro -f {stage}`"
        ) from None
    if array.dtype != np.dtype(dtype) or array.ndim != ndim:
        raise PipelineError(
            f"{path} holds a {array.ndim}-d {array.dtype} array, expected {ndim}-d {dtype}: "
            f"re-run `dvc repro -f {stage}`"
        )
    return array


def save_frame(path: str | os.PathLike, frame) -> None:
    """A pandas frame as Parquet, without the index (same frame, same bytes)."""
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)
