"""Benchmark: runs per hour of a CPU sweep, one 2-thread worker vs two 1-thread workers.

Each layout runs the same number of queued experiments (new seeds, so no run-cache hit)
from one reproduced commit, through `lab.sweep`'s workers; wall time from the first
worker's start to the last run's end (the workers' 10 s idle exit subtracted).

    python -m benchmarks.sweep --dataset ../shared/data/imdb \
        --vectors ../shared/embeddings/word2vec-imdb-300 --max-samples 10000 --runs 4
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import report
from lab import sweep
from lab.demo import make_workspace, tool_env

CPU_PRESET = {"units": 32, "epochs": 2, "batch_size": 128, "learning_rate": 0.001}


def layout(workers: int, threads: int) -> list[dict[str, str]]:
    env = {
        "CUDA_VISIBLE_DEVICES": "",
        "TF_NUM_INTRAOP_THREADS": str(threads),
        "TF_NUM_INTEROP_THREADS": str(threads),
        "OMP_NUM_THREADS": str(threads),
    }
    return [env] * workers


def runs_per_hour(workspace: Path, seeds: list[int], environments: list[dict]) -> float:
    os.chdir(workspace)
    names = sweep.queue([str(s) for s in seeds], [])
    start = time.perf_counter()
    states = sweep.wait(names, sweep.start_workers(environments))
    seconds = time.perf_counter() - start - 10  # idle workers exit 10 s after the last run
    if any(state != "Success" for state in states.values()):
        sys.exit(f"benchmark: runs failed: {states}")
    return round(3600 * len(seeds) / seconds, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", help="local dataset folder (default: the synthetic sample)")
    parser.add_argument("--vectors", help="local vectors folder (default: the sample's)")
    parser.add_argument("--max-samples", type=int, default=None)
    parser.add_argument("--runs", type=int, default=4)
    args = parser.parse_args()
    os.environ["PATH"] = tool_env()["PATH"]
    overrides = {"train": dict(CPU_PRESET), "encode": {"max_vocab": 45000, "max_seq": 280}}
    prepare = {"max_samples": args.max_samples}
    if args.dataset:
        prepare["dataset"] = str(Path(args.dataset).resolve())
    overrides["prepare"] = prepare
    if args.vectors:
        overrides["embed"] = {"vectors": str(Path(args.vectors).resolve())}
    home = Path.cwd()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = make_workspace(Path(tmp) / "repo", overrides)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "dvc", "repro"], cwd=workspace, check=True, capture_output=True
        )
        single = time.perf_counter() - start
        subprocess.run(["git", "add", "-A"], cwd=workspace, check=True)
        subprocess.run(["git", "commit", "-qm", "base"], cwd=workspace, check=True)
        seeds = list(range(100, 100 + args.runs))
        one = runs_per_hour(workspace, seeds, layout(1, 2))
        two = runs_per_hour(workspace, [s + 100 for s in seeds], layout(2, 1))
        os.chdir(home)
    report(
        "sweep",
        {
            "workspace": (
                f"{args.dataset or 'synthetic sample'}, max_samples {args.max_samples}, "
                f"CPU preset {CPU_PRESET}"
            ),
            "first_full_repro_seconds": round(single, 1),
            "runs_per_layout": args.runs,
            "runs_per_hour_1_worker_2_threads": one,
            "runs_per_hour_2_workers_1_thread": two,
        },
    )


if __name__ == "__main__":
    main()
