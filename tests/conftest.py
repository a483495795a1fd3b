"""Shared fixtures: the synthetic sample, and a real DVC workspace that ran the pipeline once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["HF_HUB_OFFLINE"] = "1"  # tests never reach the Hub; the error path is tested offline

from lab.demo import committed_params, make_workspace, tool_env  # noqa: E402
from lab.sample import make_sample  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# What every test workspace starts from: params.yaml as the project's HEAD commit holds it
# (a clone's uncommitted edits are never read; a new model's section comes with it), with
# lab.demo's small sizes laid over it.
TEST_PARAMS = committed_params(ROOT)


@pytest.fixture(scope="session")
def sample(tmp_path_factory) -> tuple[Path, Path]:
    """(dataset folder, vectors folder) of the synthetic sample, made once per session."""
    return make_sample(tmp_path_factory.mktemp("sample"))


def run(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command in a workspace with this interpreter's tools first on PATH."""
    result = subprocess.run(args, cwd=cwd, env=tool_env(), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def dvc(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run(cwd, sys.executable, "-m", "dvc", *args, check=check)


def make(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """A Makefile target as a user runs it, with this interpreter's virtualenv as installed
    (`STAMP=` skips the install step; the test run already has everything)."""
    return run(cwd, "make", "-s", *args, f"VENV={sys.prefix}", "STAMP=", check=check)


def stages_run(result: subprocess.CompletedProcess) -> list[str]:
    """The stages `dvc repro` actually ran, from its output."""
    return [
        line.split("'")[1]
        for line in result.stdout.splitlines()
        if line.startswith("Running stage '")
    ]


def built_once(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """`build(folder)` run once per test run, shared by all pytest-xdist workers (the
    first to get the lock builds it). Treat it as read-only: copy it before changing it."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the workers' base folders share this parent
    folder = root / name
    with FileLock(root / f"{name}.lock"):
        if not (root / f"{name}.built").exists():
            shutil.rmtree(folder, ignore_errors=True)
            build(folder)
            (root / f"{name}.built").touch()
    return folder


def _reproduce(folder: Path) -> None:
    workspace = make_workspace(folder, params_text=TEST_PARAMS)
    dvc(workspace, "repro")
    run(workspace, "git", "add", "-A")
    run(workspace, "git", "commit", "-q", "-m", "reproduce on the sample")


@pytest.fixture(scope="session")
def reproduced(tmp_path_factory) -> Path:
    """A committed workspace where `dvc repro` ran the whole pipeline on the sample: built
    once per test run, copied for each worker (DVC commands take a repo lock)."""
    shared = built_once(tmp_path_factory, "reproduced", _reproduce)
    copy = tmp_path_factory.mktemp("reproduced") / "repo"
    shutil.copytree(shared, copy, symlinks=True)
    return copy


def published(reproduced: Path, root: Path) -> tuple[Path, Path]:
    """(a bare Git origin, the author's copy of `reproduced`): `main` pushed to the origin
    and its outputs to a local DVC remote (the default remote `storage`), as a team has."""
    author = root / "author"
    shutil.copytree(reproduced, author, symlinks=True)
    origin = root / "origin.git"
    run(root, "git", "init", "-q", "--bare", "-b", "main", str(origin))
    dvc(author, "remote", "add", "-d", "storage", str(root / "dvc-remote"))
    run(author, "git", "commit", "-qam", "a remote")
    dvc(author, "push")
    run(author, "git", "remote", "add", "origin", str(origin))
    run(author, "git", "push", "-q", "origin", "main")
    return origin, author


@pytest.fixture
def workspace(reproduced, tmp_path) -> Path:
    """A private copy of the reproduced workspace (Git history and DVC cache included)."""
    copy = tmp_path / "repo"
    shutil.copytree(reproduced, copy, symlinks=True)
    return copy
