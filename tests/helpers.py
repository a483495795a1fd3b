"""What the tests share: running the project's commands in a workspace as a user does,
and the small steps many tests take (set a param, switch a branch, publish to an origin).
Fixtures live in conftest.py; no test module imports another."""

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from lab.demo import tool_env
from lab.review import MARKER


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


def stages_run(output: subprocess.CompletedProcess | str) -> list[str]:
    """The stages `dvc repro` actually ran, from its output (a run's, or its text)."""
    text = output if isinstance(output, str) else output.stdout
    return [line.split("'")[1] for line in text.splitlines() if line.startswith("Running stage '")]


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


def set_params(workspace, section, **values):
    """Edit params.yaml as `dvc exp run -S` does (DVC's own writer: those keys' lines alone
    change, so two branches' edits of different keys merge)."""
    from dvc.utils.serialize import modify_yaml

    with modify_yaml(workspace / "params.yaml") as params:
        params[section].update(values)


def stage_script(workspace, name):
    """`python -m stages.NAME` in a workspace, as DVC runs a stage's command."""
    return subprocess.run(
        [sys.executable, "-m", f"stages.{name}"],
        cwd=workspace,
        env=tool_env(),
        capture_output=True,
        text=True,
    )


DATA_OUTPUTS = [
    "data/prepared/train.parquet",
    "data/prepared/test.parquet",
    "metrics/data.json",
    "data/encoded/x_train.npy",
    "data/encoded/y_train.npy",
    "data/encoded/x_test.npy",
    "data/encoded/y_test.npy",
    "models/vocab.json",
    "models/encoding.json",
    "data/embedding_matrix.npy",
    "metrics/embed.json",
]


def digests(workspace, names):
    return {n: hashlib.sha256((workspace / n).read_bytes()).hexdigest() for n in names}


def table_row(text, first_cell):
    rows = [line for line in text.splitlines() if line.startswith(f"| {first_cell} ")]
    assert len(rows) == 1, text
    return [cell.strip() for cell in rows[0].strip("|").split("|")]


def ci_review(origin, tmp_path, branch, base="origin/main"):
    """What the workflow does: clone the head commit with full history, empty DVC cache,
    then `make review`'s command. Returns (exit code, stderr lines, comment, clone)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    clone = tmp_path / f"ci-{branch}"
    run(tmp_path, "git", "clone", "-q", "-b", branch, str(origin), str(clone))
    result = subprocess.run(
        [sys.executable, "-m", "lab.review", "--base", base, "--out", "review"],
        cwd=clone,
        capture_output=True,
        text=True,
    )
    assert "Running stage" not in result.stdout + result.stderr  # it never trains
    comment = (clone / "review/comment.md").read_text()
    assert comment.startswith(MARKER + "\n")  # the workflow updates the comment carrying it
    return result.returncode, result.stderr.strip().splitlines(), comment, clone


def switch(repo, *args):
    """`git checkout …` and the DVC-tracked files that go with it."""
    run(repo, "git", "checkout", "-q", *args)
    dvc(repo, "checkout")


def sha(repo, rev):
    return run(repo, "git", "rev-parse", rev).stdout.strip()


def tiny_recipe(**changes):
    """A training Recipe small enough for a unit test (a few hundred weights), every key of
    the `train` section set."""
    from sentiment.training import Recipe

    settings = dict(units=4, spatial_dropout=0.2, dropout=0.2, dense_dropout=0.3,
                    learning_rate=0.05, weight_decay=0.01, batch_size=8, epochs=3,
                    validation_split=0.25, lr_factor=0.5, lr_patience=1, seed=0,
                    deterministic=True, mixed_precision=False, distribute="off")
    return Recipe(**{**settings, **changes})
