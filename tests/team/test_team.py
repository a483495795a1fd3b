"""The README's loop as a team runs it: one origin, a clone per person, every branch pushed
with `git push -u`, merges made on the origin, and Python writing bytecode as it does on
every user's machine (this machine's PYTHONDONTWRITEBYTECODE is unset here)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import published, stages_run

MERGE_BUTTON = "merge pull request"  # the commit message GitHub's merge button writes


def as_a_user(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """A command as a person runs it: this interpreter's tools first on PATH, bytecode on."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def dvc(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return as_a_user(cwd, sys.executable, "-m", "dvc", *args)


def make(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return as_a_user(cwd, "make", "-s", *args, f"VENV={sys.prefix}", "STAMP=")


def clone(origin: Path, where: Path, branch: str = "main") -> Path:
    """`git clone` and `dvc pull`: what each person starts from (README: "Use it")."""
    as_a_user(where.parent, "git", "clone", "-q", "-b", branch, str(origin), str(where))
    as_a_user(where, "git", "config", "user.email", f"{where.name}@example.com")
    as_a_user(where, "git", "config", "user.name", where.name)
    dvc(where, "pull", "-q")
    return where


def open_pull_request(person: Path, branch: str, change: str) -> None:
    """The README loop: a branch from origin/main, `dvc exp run -S`, `make publish`,
    commit, `git push -u origin BRANCH`."""
    as_a_user(person, "git", "switch", "-q", "-c", branch, "origin/main")
    dvc(person, "exp", "run", "-S", change)
    make(person, "publish")
    as_a_user(person, "git", "commit", "-qm", change)
    as_a_user(person, "git", "push", "-q", "-u", "origin", branch)


def merge_on_the_origin(origin: Path, branch: str, root: Path) -> subprocess.CompletedProcess:
    """GitHub's merge button: a merge commit of the PR's branch into `main`, on the origin
    (a throwaway clone of the origin does it and pushes). Fails on a conflict."""
    button = root / f"merge-{branch}"
    as_a_user(root, "git", "clone", "-q", "-b", "main", str(origin), str(button))
    merged = subprocess.run(["git", "merge", "--no-ff", "-m", MERGE_BUTTON, f"origin/{branch}"],
                            cwd=button, capture_output=True, text=True)
    if merged.returncode == 0:
        as_a_user(button, "git", "push", "-q", "origin", "main")
    return merged


def tip(origin: Path, ref: str) -> str:
    return as_a_user(origin, "git", "rev-parse", ref).stdout.strip()


@pytest.fixture
def team(reproduced, tmp_path) -> tuple[Path, Path, Path]:
    """(origin, alice's clone, bob's clone): `main` published, each person's own clone."""
    origin, _ = published(reproduced, tmp_path)
    return origin, clone(origin, tmp_path / "alice"), clone(origin, tmp_path / "bob")


def test_two_peoples_prs_merge_cleanly_update_moves_the_origin_and_main_is_up_to_date(
    team, tmp_path
):
    origin, alice, bob = team
    (alice / "stages/.DS_Store").write_bytes(os.urandom(64))  # an OS's file, untracked
    (alice / "stages/train.py~").write_bytes(os.urandom(64))  # an editor's backup
    open_pull_request(alice, "nbsvm-c", "nbsvm.C=0.5")
    open_pull_request(bob, "strong-c", "baseline.C=0.5")
    for person in (alice, bob):  # Python wrote bytecode beside the stage scripts
        assert list((person / "stages/__pycache__").glob("*.pyc"))

    assert merge_on_the_origin(origin, "nbsvm-c", tmp_path).returncode == 0
    fresh = clone(origin, tmp_path / "fresh-1")  # no bytecode, no .DS_Store: the same lock
    assert "up to date" in dvc(fresh, "status").stdout  # nothing to re-run after a merge

    before = tip(origin, "strong-c")
    said = make(bob, "update", "BASE=origin/main").stdout
    after = tip(origin, "strong-c")
    assert after != before and after == tip(bob, "HEAD")  # the origin's branch moved
    assert "pushed to origin refs/heads/strong-c" in said
    assert tip(origin, "main") in as_a_user(origin, "git", "rev-list", "strong-c").stdout

    assert merge_on_the_origin(origin, "strong-c", tmp_path).returncode == 0
    fresh = clone(origin, tmp_path / "fresh-2")
    assert "up to date" in dvc(fresh, "status").stdout
    assert stages_run(dvc(fresh, "repro")) == []  # a fresh clone of main re-runs nothing
