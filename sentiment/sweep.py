"""`make sweep`: a grid of experiments times seeds, one DVC queue worker per GPU slot.

DVC's queue runs each experiment in its own copy of the repo, but never assigns GPUs: a
worker is a process with the environment of whoever started it. So each worker is started
here from an environment with its own CUDA_VISIBLE_DEVICES (and TensorFlow's memory growth
when several share a GPU); each then trains on its own GPU, taking one experiment at a time
from DVC's queue.

    python -m sentiment.sweep --gpus "0 1" --per-gpu 2 --seeds "0 1 2" -- -S train.units=32,64

Without --gpus (a CPU box), it starts CPU_WORKERS workers of CPU_THREADS threads each
(docs/benchmarks.md: what gives the most runs per hour on 2 cores). Exit 1, naming each
failed run and its log, when any run failed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from sentiment.io import PipelineError

# On a CPU box: workers of this many threads each, as many as the cores allow. Measured on
# 2 cores (docs/benchmarks.md, CPU preset on 10,000 real reviews): two 1-thread workers
# 53.1 runs/h, one 2-thread worker 51.4 runs/h; about equal, so the simpler rule wins.
CPU_THREADS = 1
LOGS = Path(".dvc/tmp/exps/celery")  # beside DVC's own worker logs


def dvc(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dvc", *args], capture_output=True, text=True, env=env
    )


def worker_environments(gpus: list[str], per_gpu: int, cpu_count: int) -> list[dict[str, str]]:
    """One environment per worker: its GPU, or on a CPU box its share of the cores."""
    if gpus:
        growth = {"TF_FORCE_GPU_ALLOW_GROWTH": "true"} if per_gpu > 1 else {}
        return [{"CUDA_VISIBLE_DEVICES": gpu, **growth} for gpu in gpus for _ in range(per_gpu)]
    threads = str(CPU_THREADS)
    cpu = {
        "CUDA_VISIBLE_DEVICES": "",
        "TF_NUM_INTRAOP_THREADS": threads,
        "TF_NUM_INTEROP_THREADS": threads,
        "OMP_NUM_THREADS": threads,
    }
    return [cpu] * max(1, cpu_count // CPU_THREADS)


def queue(seeds: list[str], args: list[str]) -> list[str]:
    """Queue the grid (DVC's `-S key=a,b` syntax) for every seed; the experiments' names."""
    names = []
    for seed in seeds:
        result = dvc("exp", "run", "--queue", "-S", f"train.seed={seed}", *args)
        if result.returncode != 0:
            raise PipelineError(f"`dvc exp run --queue` refused {args}: {result.stderr.strip()}")
        names += re.findall(r"Queued experiment '([^']+)'", result.stdout + result.stderr)
    return names


def queue_status() -> dict[str, str]:
    """Experiment name -> Queued / Running / Success / Failed, from `dvc queue status`."""
    result = dvc("queue", "status")
    rows = (line.split() for line in result.stdout.splitlines())
    return {row[1]: row[-1] for row in rows if len(row) >= 4 and row[0] != "Task"}


def start_workers(environments: list[dict[str, str]]) -> list[subprocess.Popen]:
    """One DVC queue worker per environment: the process `dvc queue start` spawns
    (`dvc exp queue-worker NAME`), started here so each gets its own environment. (`dvc
    queue start -j N` counts running workers through Celery's inspect, which missed a busy
    worker here for minutes, and then starts worker 1 again, with the wrong environment.)
    Each takes one experiment at a time and exits 10 s after the queue is empty."""
    LOGS.mkdir(parents=True, exist_ok=True)
    workers = []
    for number, extra in enumerate(environments, start=1):
        command = [sys.executable, "-m", "dvc", "exp", "queue-worker", f"sweep-{number}@localhost"]
        with open(LOGS / f"sweep-worker-{number}.out", "wb") as log:
            workers.append(
                subprocess.Popen(
                    command + (["--clean"] if number == 1 else []),  # as DVC's own worker 1
                    env={**os.environ, **extra},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    return workers


def wait(names: list[str], workers: list[subprocess.Popen]) -> dict[str, str]:
    """Block until every worker has exited; each named experiment's final state."""
    for worker in workers:
        worker.wait()
    status = queue_status()
    return {name: status.get(name, "not run") for name in names}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gpus", default="", help='GPU ids, e.g. "0 1 2 3" (none: CPU)')
    parser.add_argument("--per-gpu", type=int, default=1, help="experiments at once per GPU")
    parser.add_argument("--seeds", default="0 1 2", help="train.seed values")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="-S key=value … for every run")
    args = parser.parse_args()
    if args.per_gpu < 1:
        sys.exit("sweep: error: --per-gpu must be at least 1")
    extra = [a for a in args.args if a != "--"]
    environments = worker_environments(args.gpus.split(), args.per_gpu, os.cpu_count() or 1)
    try:
        names = queue(args.seeds.split(), extra)
        if not names:
            raise PipelineError("nothing was queued: check SEEDS and ARGS")
        print(f"sweep: {len(names)} experiments on {len(environments)} workers", flush=True)
        states = wait(names, start_workers(environments))
    except PipelineError as error:
        sys.exit(f"sweep: error: {error}")
    subprocess.run([sys.executable, "-m", "sentiment.report", "--experiments"])
    failed = {name: state for name, state in states.items() if state != "Success"}
    for name, state in failed.items():
        what = "failed" if state == "Failed" else f"did not run ({state})"
        print(f"sweep: {name} {what}: its log is `dvc queue logs {name}`", file=sys.stderr)
    if failed:
        print(f"sweep: the workers' own logs: {LOGS}/sweep-worker-*.out", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
