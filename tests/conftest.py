"""Shared fixtures: the synthetic sample, and a real DVC workspace that ran the pipeline once."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# One op thread per TensorFlow process, in the workers and every stage they start: with one
# xdist worker per core, a process's second thread only fights the other worker's for a
# core, and a step waits for its slowest thread (an in-process training took 70 s instead
# of 12 s beside a sweep). The stages honour TF_NUM_* as a sweep worker's (devices.py).
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ["HF_HUB_OFFLINE"] = "1"  # tests never reach the Hub; the error path is tested offline

from helpers import dvc, published, run, set_params  # noqa: E402, F401

from lab.demo import make_workspace  # noqa: E402
from lab.sample import make_sample  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# What every test workspace starts from: the project's params.yaml (every section, so a new
# model's comes along), with lab.demo's small sizes and the synthetic sample laid over it.
TEST_PARAMS = (ROOT / "params.yaml").read_text(encoding="utf-8")


# The order `make test`'s two workers take the tests in (xdist keeps it: it runs with
# --no-loadscope-reorder). The first review group starts at once: its origin builds the
# shared reproduced workspace while the other worker runs the unit tests, which need none.
# Then the longest: the other team rehearsals (a review group takes one worker for two
# minutes) and those with queue workers and sweeps, so that both workers end on short tests
# together. The rest follow in collection order (a new module needs no entry here).
RUN_FIRST = ("tests/team/test_review.py", "tests/unit/", "tests/team/",
             "tests/pipeline/test_checkpoint.py", "tests/pipeline/test_sweep.py")


def run_first_rank(item: pytest.Item) -> int:
    path = item.nodeid.split("::")[0]
    return next((rank for rank, start in enumerate(RUN_FIRST) if path.startswith(start)),
                len(RUN_FIRST))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Order the tests as RUN_FIRST says (a stable sort: collection order within each);
    refuse to run when `--dist loadgroup` would not keep an `xdist_group` on one worker.
    pytest-xdist marks a group by a suffix in the node ids; a pytest release that ignores it
    (9.2: pytest-dev/pytest-xdist#1386) spreads a review module over every worker, which
    then rebuilds its module-scoped origin each time it comes back to it (minutes of CPU)."""
    items.sort(key=run_first_rank)
    if not config.getoption("loadgroup", default=False):  # set on xdist's workers only
        return
    lost = [item.nodeid for item in items
            if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if lost:
        raise pytest.UsageError(
            f"--dist loadgroup is not grouping {lost[0]} (pytest {pytest.__version__}): "
            "use the pytest that requirements/dev.lock pins (`make install`)")


@pytest.fixture(scope="session")
def sample(tmp_path_factory) -> tuple[Path, Path]:
    """(dataset folder, vectors folder) of the synthetic sample, made once per session."""
    return make_sample(tmp_path_factory.mktemp("sample"))


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
    workspace = make_workspace(folder)
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


@pytest.fixture
def workspace(reproduced, tmp_path) -> Path:
    """A private copy of the reproduced workspace (Git history and DVC cache included)."""
    copy = tmp_path / "repo"
    shutil.copytree(reproduced, copy, symlinks=True)
    return copy


# What branch `pr` of the `github` fixture changes: (section, {key: value}). A module that
# reviews no BiLSTM change sets its own PR_CHANGE (a linear model's: no TensorFlow).
PR_CHANGE = ("train", {"epochs": 2})


@pytest.fixture(scope="module")
def github(request, reproduced, tmp_path_factory):
    """(origin, the author's machine): `main` reproduced and pushed to both remotes, and
    branch `pr` (the module's PR_CHANGE, else two training epochs instead of one)
    reproduced and pushed by its author."""
    section, values = getattr(request.module, "PR_CHANGE", PR_CHANGE)
    origin, author = published(reproduced, tmp_path_factory.mktemp("github"))
    run(author, "git", "checkout", "-qb", "pr")
    set_params(author, section, **values)
    dvc(author, "repro")
    dvc(author, "push")
    run(author, "git", "commit", "-qam", f"the PR: {section} {values}")
    run(author, "git", "push", "-q", "origin", "pr")
    return origin, author


@pytest.fixture
def developer(github, tmp_path):
    """A copy of the author's machine (its Git history and DVC cache) to push from."""
    copy = tmp_path / "developer"
    shutil.copytree(github[1], copy, symlinks=True)
    return copy
