"""Where data and vectors come from: a Hub repo pinned to a commit, or a local folder.

Either way the caller gets a local directory plus an id that pins its content (the Hub
commit, or `sha256:` of the folder's files), which the stages record next to their
metrics so a result always says exactly which inputs produced it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from sentiment.io import PipelineError

QUEUED_EXPERIMENT = (".dvc", "tmp", "exps")  # where `dvc exp run --queue` runs a copy


def workspace_root(cwd: Path | None = None) -> Path:
    """The user's repository, also from inside a queued experiment's temporary copy.

    Queued experiments run in `<repo>/.dvc/tmp/exps/<name>/`, a copy of what Git tracks,
    so a relative path to data outside Git (`../shared/data/imdb`, a git-ignored folder)
    must be read from `<repo>`, where the user wrote it.
    """
    cwd = (cwd or Path.cwd()).resolve()
    parts = cwd.parts
    if len(parts) > 4 and parts[-4:-1] == QUEUED_EXPERIMENT:
        return Path(*parts[:-4])
    return cwd


def local_path(source: str) -> Path:
    """`source` as written, or resolved against the user's repository when only it has it."""
    path = Path(source).expanduser()
    if path.exists() or path.is_absolute():
        return path
    return workspace_root() / path


def is_local(source: str) -> bool:
    """A Hub id is `owner/name`; anything that exists here or looks like a path is local.

    `data/imdb` where a folder `data/` exists is a local path whose last part is missing,
    not a Hub repo: the user is told the folder is missing, not that the Hub is offline.
    """
    path = local_path(source)
    if path.exists() or path.parent.is_dir() and path.parent != workspace_root():
        return True
    return source.startswith((".", "/", "~")) or source.count("/") != 1


def content_hash(path: Path) -> str:
    """sha256 over the relative paths and bytes of every file, in sorted order."""
    digest = hashlib.sha256()
    files = (
        [path]
        if path.is_file()
        else sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
    )
    for file in files:
        digest.update(str(file.relative_to(path) if file != path else file.name).encode())
        digest.update(b"\0")
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return "sha256:" + digest.hexdigest()


def fetch(source: str, revision: str | None, repo_type: str, param: str) -> tuple[Path, str]:
    """Return (local path, pinned id) for `source`; `param` names the key in errors."""
    section = param.split(".")[0]
    if is_local(source):
        if revision is not None:
            raise PipelineError(
                f"{section}.revision: {revision!r} is set but {param} is the local path "
                f"{source!r}, which has no revisions: set {section}.revision: null"
            )
        path = local_path(source)
        if not path.exists():
            raise PipelineError(
                f"{param}: no such file or directory {source!r}; set it to an existing "
                "local copy or to a Hub id (owner/name)"
            )
        return path, content_hash(path)
    path = _download(source, revision, repo_type, param, section)
    return path, path.name  # a snapshot folder is named after its commit id


def _download(source: str, revision: str | None, repo_type: str, param: str, section: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}
    try:
        return Path(snapshot_download(source, revision=revision, repo_type=repo_type))
    except RevisionNotFoundError:
        raise PipelineError(
            f"{section}.revision: revision {revision!r} not found in the Hub repo {source!r}; "
            "use a branch, tag or commit id of that repo"
        ) from None
    except (RepositoryNotFoundError, GatedRepoError):
        raise PipelineError(
            f"{param}: Hub {repo_type} repo {source!r} not found or not accessible; check the "
            "id (owner/name), log in with `hf auth login`, or set a local directory"
        ) from None
    except LocalEntryNotFoundError:
        why = "HF_HUB_OFFLINE=1 is set" if offline else "the Hugging Face Hub cannot be reached"
        raise PipelineError(
            f"{param}: {why} and {source!r}@{revision or 'main'} is not in the local Hub "
            f"cache; set {param} to a local directory in the Hub layout, or go online"
        ) from None
    except HfHubHTTPError as error:
        first = str(error).splitlines()[0]
        raise PipelineError(f"{param}: downloading {source!r} failed ({first})") from None
