"""Does dvc.lock tell the truth? Its params, checked against what made each stage's outputs.

DVC reads params.yaml for dvc.lock only after a stage's command has exited. An edit in that
window (a researcher setting up the next experiment while a long run finishes) lands in the
lock without having made the outputs, and every later `dvc repro` would skip the stage.
So each stage records the values it used in `data/params_used/<stage>.json`, an output DVC
hashes like the others. Where that file is the one the lock names (the same MD5), its values
must equal the lock's params for the stage; any difference is a lock that lies.
`check_params` runs this check first on every `dvc repro` after a params edit (the edit
that opened the window makes it stale), and the pull-request review runs it on the head.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sentiment.io import JSONProblem, PipelineError, file_digest, parse_json
from sentiment.params import PARAMS_FILE, short, used_path

LOCK_FILE = "dvc.lock"


def read_lock(path: str | Path = LOCK_FILE) -> dict[str, Any]:
    """dvc.lock's stages, or {} when there is none yet."""
    try:
        lock = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as error:
        first = (str(error).splitlines() or [type(error).__name__])[0][:120]
        raise PipelineError(
            f"{path} is not valid YAML ({first}): resolve its merge conflict or "
            "`git checkout` it, then `dvc commit`"
        ) from None
    stages = lock.get("stages") if isinstance(lock, dict) else None
    return stages if isinstance(stages, dict) else {}


def locked_md5(path: str, stages: dict[str, Any]) -> str | None:
    """The MD5 that dvc.lock's stages name for the output `path`, or None."""
    for entry in stages.values():
        for out in (entry.get("outs") or []) if isinstance(entry, dict) else []:
            if isinstance(out, dict) and out.get("path") == path and out.get("md5"):
                return str(out["md5"])
    return None


def _recorded(root: Path, stage: str, entry: dict[str, Any]) -> dict[str, Any] | None:
    """The stage's record of the values it used, if the workspace holds the one the lock
    names (an unpulled or other revision's record proves nothing)."""
    record = used_path(stage)
    named, path = locked_md5(record, {stage: entry}), root / record
    if named is None or not path.is_file() or named != file_digest(path, "md5").hexdigest():
        return None
    try:
        values = parse_json(path.read_text(encoding="utf-8"))
    except (JSONProblem, UnicodeDecodeError):
        return None  # its MD5 is the lock's, so DVC cached it so: `dvc repro -f` rewrites it
    return values if isinstance(values, dict) else None


def lock_mismatches(root: str | Path = ".") -> list[str]:
    """One line per stage whose dvc.lock params differ from the values that made its outputs."""
    root = Path(root)
    problems = []
    for stage, entry in read_lock(root / LOCK_FILE).items():
        if not isinstance(entry, dict):
            continue
        locked = (entry.get("params") or {}).get(PARAMS_FILE)
        recorded = _recorded(root, stage, entry)
        if not isinstance(locked, dict) or recorded is None:
            continue
        differ = [
            f"{key}={short(value)} (made with {short(recorded[key])})"
            for key, value in locked.items()
            if key in recorded and recorded[key] != value
        ]
        if differ:
            problems.append(f"{stage}: dvc.lock records {', '.join(differ)}")
    return problems


def raise_if_lock_lies(root: str | Path = ".") -> None:
    problems = lock_mismatches(root)
    if problems:
        stages = " ".join(p.split(":")[0] for p in problems)
        raise PipelineError(
            "dvc.lock records params that did not make these outputs (params.yaml was edited "
            f"as the stage finished): {'; '.join(problems)}. Re-run them: "
            f"`dvc repro -f -s {stages}`, then `dvc repro`"
        )
