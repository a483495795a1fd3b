"""Shared fixtures: the synthetic sample, and a real DVC workspace that ran the pipeline once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["HF_HUB_OFFLINE"] = "1"  # tests never reach the Hub; the error path is tested offline

from sentiment.demo import make_workspace, tool_env  # noqa: E402
from sentiment.sample import make_sample  # noqa: E402


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


def stages_run(result: subprocess.CompletedProcess) -> list[str]:
    """The stages `dvc repro` actually ran, from its output."""
    return [
        line.split("'")[1]
        for line in result.stdout.splitlines()
        if line.startswith("Running stage '")
    ]


@pytest.fixture(scope="session")
def reproduced(tmp_path_factory) -> Path:
    """A committed workspace where `dvc repro` ran the whole pipeline on the sample."""
    workspace = make_workspace(tmp_path_factory.mktemp("reproduced") / "repo")
    dvc(workspace, "repro")
    run(workspace, "git", "add", "-A")
    run(workspace, "git", "commit", "-q", "-m", "reproduce on the sample")
    return workspace


@pytest.fixture
def workspace(reproduced, tmp_path) -> Path:
    """A private copy of the reproduced workspace (Git history and DVC cache included)."""
    copy = tmp_path / "repo"
    shutil.copytree(reproduced, copy, symlinks=True)
    return copy
