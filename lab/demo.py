"""`make demo`: the whole pipeline, offline, on the bundled synthetic sample.

It runs in a temporary copy of the repository (its own Git repo and DVC cache), so the
workspace's dvc.lock, metrics and models stay exactly as they were. The tests build their
workspaces with the same `make_workspace`.

    python -m lab.demo [--keep]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from lab.sample import make_sample
from sentiment import pipeline

ROOT = Path(__file__).resolve().parent.parent
# Small enough for 2 CPU cores in about a minute; everything else keeps its default.
DEMO_PARAMS = {
    "encode": {"max_vocab": 200, "max_seq": 32},
    "train": {"units": 8, "epochs": 1, "batch_size": 64, "learning_rate": 0.01},
}


# A clone's own set-up and results: a workspace starts without them (fresh DVC config, no
# recorded results), so a committed remote or dvc.lock changes nothing in the tests.
SETUP_FILES = {".dvc/config", "dvc.lock"}
DVC_CONFIG = "[core]\n    analytics = false\n"


def project_files(root: Path = ROOT) -> list[str]:
    """The project's files a fresh clone would have (tracked plus new, not ignored),
    without the clone's set-up and results (SETUP_FILES, metrics/ but its README)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [
        f
        for f in listed.split("\0")
        if f
        and (root / f).is_file()
        and f not in SETUP_FILES
        and not (f.startswith("metrics/") and f != "metrics/README.md")
    ]


def git(workspace: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=workspace, check=True, capture_output=True, text=True
    ).stdout


def make_workspace(workspace: Path, overrides: dict | None = None) -> Path:
    """A committed copy of the project whose params.yaml (every section and key of the
    project's, so a new model's comes along) points at a fresh synthetic sample, with
    DEMO_PARAMS' small sizes and then `overrides` laid over it."""
    workspace.mkdir(parents=True, exist_ok=True)
    for name in project_files():
        target = workspace / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    (workspace / ".dvc").mkdir(exist_ok=True)
    (workspace / ".dvc/config").write_text(DVC_CONFIG)
    dataset, vectors = make_sample(workspace / "sample")
    sources = {"prepare": {"dataset": str(dataset.relative_to(workspace)), "revision": None},
               "embed": {"vectors": str(vectors.relative_to(workspace)), "revision": None}}
    overlay(workspace / "params.yaml", DEMO_PARAMS, sources, overrides or {})
    with open(workspace / ".gitignore", "a") as ignore:
        ignore.write("/sample/\n")
    if not (workspace / ".git").exists():
        git(workspace, "init", "-q", "-b", "main")
        git(workspace, "config", "user.email", "demo@example.com")
        git(workspace, "config", "user.name", "demo")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-q", "-m", "workspace for the demo")
    return workspace


def overlay(path: Path, *layers: dict) -> None:
    """Set each layer's `section: {key: value}` in a params file, written as `dvc exp run
    -S` writes it (comments kept, a null left empty), so a later `-S` edit changes one
    line and two people's edits merge."""
    from dvc.utils.serialize import modify_yaml

    with modify_yaml(path) as params:
        for layer in layers:
            for section, values in layer.items():
                params[section].update(values)


def metrics_table(workspace: Path) -> str:
    """Headline test metrics of every model, one row each."""
    keys = ("accuracy", "roc_auc", "f1_macro", "loss")
    rows = [f"{'model':<10}" + "".join(f"{k:>10}" for k in keys)]
    for model, (_, path) in pipeline.models(workspace / "dvc.yaml").items():
        metrics = json.loads((workspace / path).read_text())
        rows.append(f"{model:<10}" + "".join(f"{metrics[k]:>10.4f}" for k in keys))
    return "\n".join(rows)


def tool_env() -> dict[str, str]:
    """The environment for `dvc`, with this interpreter's `python` first on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}


def main() -> None:
    keep = "--keep" in sys.argv[1:]
    workspace = Path(tempfile.mkdtemp(prefix="imdb-sentiment-demo-"))
    try:
        make_workspace(workspace)
        dvc = [sys.executable, "-m", "dvc"]
        subprocess.run([*dvc, "repro"], cwd=workspace, env=tool_env(), check=True)
        print("\nTest metrics on the synthetic sample (`dvc metrics show` has them all):")
        print(metrics_table(workspace))
    except subprocess.CalledProcessError as error:
        sys.exit(f"demo: `{' '.join(map(str, error.cmd[2:]))}` failed in {workspace}")
    finally:
        if keep:
            print(f"demo workspace kept at {workspace}")
        else:
            shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    main()
