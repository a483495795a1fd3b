"""Stage plumbing: clear failures, and outputs that are all old or all new.

A stage writes each output into a temporary folder beside its destination
(`.<name>.tmp-…/`, so on the destination's filesystem) and moves them all into place
only once all are complete, so a stage killed or failing midway leaves the previous
outputs (or none): never new arrays beside an old vocabulary, nor a truncated file that
DVC would then cache. Just before publishing, the
stage checks that the params it read are still what params.yaml says, since DVC records
params.yaml's values in dvc.lock after the command ends. Whatever an earlier killed run
left behind is removed when the stage next completes. Single-file helpers write through a
temporary sibling (`.<name>.tmp-…`) for the same reason.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np


class PipelineError(Exception):
    """A problem the user can fix; its message is the whole story (no traceback)."""


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds, so temporary outputs are removed


OUT_OF_MEMORY = (
    "out of memory: lower the sizes in params.yaml (train.units, train.batch_size, "
    "encode.max_vocab, encode.max_seq, embed.dim)"
)


def write_failure(error: OSError) -> PipelineError | None:
    """A full disk or an unwritable folder, said as what to do; None for other OS errors."""
    where = f" ({error.filename})" if error.filename else ""
    # NumPy's tofile (np.save of a large array) raises a bare OSError without errno
    bare_full = error.errno is None and "free space" in str(error).lower()
    if error.errno in (errno.ENOSPC, errno.EDQUOT) or bare_full:
        return PipelineError(f"no space left on the device{where}: free some space and re-run")
    if error.errno == errno.EROFS:
        return PipelineError(f"cannot write{where}: the file system is read-only")
    if error.errno in (errno.EACCES, errno.EPERM):
        return PipelineError(
            f"cannot access{where}: {error.strerror}; fix the folder's permissions and re-run"
        )
    return None


# TensorFlow's start-up chatter on a machine without a GPU, written by its C++ logging
# straight to file descriptor 2 (TF_CPP_MIN_LOG_LEVEL does not reach these lines).
NATIVE_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWE]\d{4} [\d:. ]+\d+ (port|cudart_stub|cpu_feature_guard|cuda_platform|node_def_util)"
    r"\.cc:\d+\] "
    r"|To enable the following instructions: .* with the appropriate compiler flags\.)"
)


@contextlib.contextmanager
def quiet_native_noise() -> Iterator[None]:
    """Forward everything written to stderr except NATIVE_NOISE lines (warnings and Keras'
    own messages still show); Python's and the C++ libraries' writes both pass through."""
    sys.stderr.flush()
    original = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    forward_to = os.dup(original)  # the thread's own copy: `original` is closed on exit

    def forward() -> None:
        with os.fdopen(read_end, "rb") as pipe, os.fdopen(forward_to, "wb") as out:
            for line in pipe:
                if not NATIVE_NOISE.match(line.decode("utf-8", "replace")):
                    out.write(line)
                    out.flush()

    thread = threading.Thread(target=forward, daemon=True)
    thread.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(original, 2)  # closes the pipe's last write end: the thread sees EOF
        os.close(original)
        thread.join(timeout=5)


def run_stage(main: Callable[[], None]) -> None:
    """Run a stage's main(): a problem the user can fix becomes one line and exit code 1.

    SIGTERM (`kill`, a CI timeout) unwinds like Ctrl-C, so no temporary file is left.
    """
    global _before_publishing
    signal.signal(signal.SIGTERM, _terminate)
    name = Path(sys.argv[0]).stem
    _before_publishing = []
    try:
        with quiet_native_noise():
            _run(main, name)
    finally:
        _before_publishing = None


def _run(main: Callable[[], None], name: str) -> None:
    try:
        try:
            main()
        except OSError as error:
            raise write_failure(error) or error from None
        except MemoryError:
            raise PipelineError(OUT_OF_MEMORY) from None
        except Exception as error:  # TensorFlow's out-of-memory error, without importing it
            if type(error).__name__ == "ResourceExhaustedError":
                raise PipelineError(OUT_OF_MEMORY) from None
            raise
    except PipelineError as error:
        print(f"{name}: error: {error}", file=sys.stderr)
        sys.exit(1)


TMP_MARK = ".tmp-"  # in every temporary sibling's name: `.<name>.tmp-XXXX<suffix>`

# Checks a stage runs just before it publishes (params.read_section adds one per section it
# read). None outside run_stage, so library callers and in-process tests are unaffected.
_before_publishing: list[Callable[[], None]] | None = None


def before_publishing(check: Callable[[], None]) -> None:
    """Run `check` (which raises PipelineError to refuse) before this stage publishes."""
    if _before_publishing is not None:
        _before_publishing.append(check)


def replace_path(tmp: Path, final: Path) -> None:
    """Move a finished file or folder onto `final` (a folder via a swap, never merged)."""
    if tmp.is_dir() and final.exists():
        old = final.with_name(f".{final.name}{TMP_MARK}old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old)
    else:
        os.replace(tmp, final)


def remove_leftovers(finals: Iterable[Path]) -> None:
    """Temporary files an earlier killed run left beside these outputs (SIGKILL skips all
    cleanup)."""
    for final in finals:
        for leftover in final.parent.glob(f".{final.name}{TMP_MARK}*"):
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()


@contextlib.contextmanager
def outputs(stage: str) -> Iterator[Callable[[str | os.PathLike], Path]]:
    """Yield `path(final)`: where to write an output. All are published together on success.

    On failure (an exception, Ctrl-C, SIGTERM, params.yaml edited meanwhile) nothing is
    published and the temporary folders are removed, so the outputs are all old or all new.
    """
    planned: dict[Path, Path] = {}

    def path(final: str | os.PathLike) -> Path:
        final = Path(final)
        if final in planned:  # asked again (to read back what was written): the same slot
            return planned[final]
        final.parent.mkdir(parents=True, exist_ok=True)  # through a symlinked folder too
        slot = Path(tempfile.mkdtemp(prefix=f".{final.name}{TMP_MARK}", dir=final.parent))
        planned[final] = slot / final.name
        return planned[final]

    try:
        yield path
        missing = [str(final) for final, tmp in planned.items() if not tmp.exists()]
        if missing:
            raise PipelineError(f"{stage} did not write {', '.join(missing)} (a bug)")
        for check in _before_publishing or []:
            check()
        for final, tmp in planned.items():
            replace_path(tmp, final)
        remove_leftovers(planned)
    finally:
        for tmp in planned.values():
            shutil.rmtree(tmp.parent, ignore_errors=True)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path (same suffix, same folder); move it onto `path` on success."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{final.name}{TMP_MARK}", suffix=final.suffix, dir=final.parent
    )
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


def file_digest(path: str | os.PathLike, algorithm: str = "sha256"):
    """A hashlib digest of a file's bytes, read in 1 MiB blocks (never whole)."""
    import hashlib

    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest


def write_text(path: str | os.PathLike, content: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(content, encoding="utf-8")


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write sorted, indented JSON so equal data gives equal bytes."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


class JSONProblem(ValueError):
    """A JSON text this project refuses; its message is short and names no input bytes."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        repeated = next(k for k in keys if keys.count(k) > 1)
        raise JSONProblem(f"the key {repeated[:40]!r} appears twice in one object")
    return dict(pairs)


def parse_json(text: str) -> Any:
    """JSON as every reader of this project takes it: any failure is a JSONProblem with a
    bounded message (bad syntax, a UTF-8 byte-order mark, a key given twice, an integer of
    thousands of digits, nesting deeper than Python's recursion limit)."""
    if text.startswith("\ufeff"):
        raise JSONProblem("it starts with a UTF-8 byte-order mark; save it as UTF-8 without one")
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except JSONProblem:
        raise
    except json.JSONDecodeError as error:
        raise JSONProblem(f"{error.msg} at line {error.lineno}, column {error.colno}") from None
    except RecursionError:
        raise JSONProblem("it is nested too deeply") from None
    except ValueError as error:  # e.g. an integer beyond Python's digit limit
        raise JSONProblem(str(error).split(";")[0][:120]) from None


def read_json(path: str | os.PathLike, stage: str) -> Any:
    """Read a JSON input, naming the stage to re-run when it is missing or broken."""
    try:
        return parse_json(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError(f"{path} is missing: run `dvc repro {stage}` first") from None
    except (JSONProblem, UnicodeDecodeError) as error:
        why = "not UTF-8" if isinstance(error, UnicodeDecodeError) else str(error)
        raise PipelineError(
            f"{path} is not valid JSON ({why}): re-run `dvc repro -f {stage}` then `dvc repro`"
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
            f"{path} is unreadable ({error}): re-run `dvc repro -f {stage}` then `dvc repro`"
        ) from None
    if array.dtype != np.dtype(dtype) or array.ndim != ndim:
        raise PipelineError(
            f"{path} holds a {array.ndim}-d {array.dtype} array, expected {ndim}-d {dtype}: "
            f"re-run `dvc repro -f {stage}` then `dvc repro`"
        )
    return array


def save_frame(path: str | os.PathLike, frame) -> None:
    """A pandas frame as Parquet, without the index (same frame, same bytes)."""
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)
