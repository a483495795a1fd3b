"""Benchmark: wall time of a no-op `dvc repro`, and of `dvc repro` after a `train.*` edit.

Runs on the synthetic sample in a temporary workspace (like `make demo`).

    python -m benchmarks.pipeline --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.common import report
from lab.demo import make_workspace, tool_env


def repro(workspace: Path) -> tuple[float, list[str]]:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "dvc", "repro"],
        cwd=workspace,
        env=tool_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ran = [line.split("'")[1] for line in out.splitlines() if line.startswith("Running stage")]
    return time.perf_counter() - start, ran


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = make_workspace(Path(tmp) / "repo")
        full, _ = repro(workspace)
        noop = [repro(workspace)[0] for _ in range(args.repeats)]
        after_train_edit, ran = [], []
        for i in range(args.repeats):
            params = yaml.safe_load((workspace / "params.yaml").read_text())
            params["train"]["learning_rate"] = 0.01 + 0.001 * (i + 1)
            (workspace / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
            seconds, ran = repro(workspace)
            after_train_edit.append(seconds)
    report(
        "pipeline",
        {
            "workspace": "synthetic sample, demo params",
            "full_repro_seconds": round(full, 1),
            "noop_repro_seconds": round(statistics.median(noop), 2),
            "train_edit_repro_seconds": round(statistics.median(after_train_edit), 1),
            "train_edit_ran": ran,
        },
    )


if __name__ == "__main__":
    main()
