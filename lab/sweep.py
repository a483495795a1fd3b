"""`make sweep`: a grid of experiments times seeds, one DVC queue worker per GPU slot.

DVC's queue runs each experiment in its own copy of the repo, but never assigns GPUs: a
worker is a process with the environment of whoever started it. So each worker is started
here from an environment with its own CUDA_VISIBLE_DEVICES (and TensorFlow's memory growth
when several share a GPU); each then trains on its own GPU, taking one experiment at a time
from DVC's queue.

    python -m lab.sweep --gpus "0 1" --per-gpu 2 --seeds "0 1 2" -- -S train.units=32,64

Without --gpus (a CPU box), it starts CPU_WORKERS workers of CPU_THREADS threads each
(docs/benchmarks.md: what gives the most runs per hour on 2 cores). Exit 1, naming each
failed run and its log, when any run failed.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from sentiment.io import PipelineError

# On a CPU box: workers of this many threads each, as many as the cores allow. Measured on
# 2 cores (docs/benchmarks.md, CPU preset on 10,000 real reviews): two 1-thread workers
# 53.1 runs/h, one 2-thread worker 51.4 runs/h; about equal, so the simpler rule wins.
CPU_THREADS = 1
LOGS = Path(".dvc/tmp/exps/celery")  # beside DVC's own worker logs
LOCK = Path(".dvc/tmp/sweep.lock")  # one sweep at a time per repository
# DVC's queue on disk (dvc-task's filesystem broker): a message per queued run in `in/`,
# moved to `processed/` when a worker takes it; a result file per run that ended, named
# by the task id in its message
BROKER, RESULTS = LOGS / "broker", LOGS / "result"
GPU_ID = re.compile(r"\d+|(GPU|MIG)-[0-9A-Za-z-]+")  # an index, or a GPU/MIG UUID
NAME_FLAGS = ("-n", "--name")


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


def check_gpus(gpus: list[str]) -> None:
    """GPU ids as CUDA_VISIBLE_DEVICES takes them, each once (PER_GPU shares one)."""
    bad = [g for g in gpus if not GPU_ID.fullmatch(g)]
    if bad:
        raise PipelineError(
            f"GPUS: {bad[0][:40]!r} is not a GPU id: give indices such as \"0 1\" "
            "(`nvidia-smi -L` lists them) or GPU-/MIG- UUIDs"
        )
    repeated = sorted({g for g in gpus if gpus.count(g) > 1})
    if repeated:
        raise PipelineError(
            f"GPUS: {repeated[0]} is listed twice: list each GPU once and set PER_GPU for "
            "several runs on one"
        )


def check_args(args: list[str]) -> None:
    """A fixed experiment name would give every run of the sweep the same ref."""
    for arg in args:
        if arg in NAME_FLAGS or arg.startswith(("--name=", "-n=")) or re.fullmatch(r"-n\S+", arg):
            raise PipelineError(
                f"ARGS: {arg[:40]} names the experiment, but a sweep queues several runs "
                "and they would overwrite one experiment ref: drop it (DVC names each run)"
            )


def leftovers() -> dict[str, str]:
    """Experiments an earlier sweep (or `dvc exp run --queue`) left queued or running."""
    return {n: s for n, s in queue_status().items() if s in ("Queued", "Running")}


@contextlib.contextmanager
def only_sweep() -> Iterator[None]:
    """Refuse a second sweep in this repository while one runs: they would share DVC's
    queue and each report the other's runs."""
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()[:20] or "?"
            raise PipelineError(
                f"another sweep (pid {holder}) is running in this repository: wait for it "
                "to finish (or stop it with Ctrl-C), then start this one"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)


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
        name = f"sweep-{os.getpid()}-{number}"  # unique: no two sweeps share a worker or log
        command = [sys.executable, "-m", "dvc", "exp", "queue-worker", f"{name}@localhost"]
        with open(LOGS / f"{name}.out", "wb") as log:
            workers.append(
                subprocess.Popen(
                    command + (["--clean"] if number == 1 else []),  # as DVC's own worker 1
                    env={**os.environ, **extra},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # a group of its own: stopped with its runs
                )
            )
    return workers


def stop_workers(workers: list[subprocess.Popen], grace: float = 30.0) -> None:
    """End the workers this sweep started and the runs they started (their process
    groups), SIGTERM first, SIGKILL after `grace` seconds; nothing else.

    The grace is long because a run that is killed before it has unwound says nothing
    about where it stopped; on a loaded 2-core box one run lost that line with 10 s
    (probably this kill; not reproduced)."""
    for worker in workers:
        if worker.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.wait(timeout=grace)
        with contextlib.suppress(ProcessLookupError):  # whatever of its group is still there
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def _interrupted(signum: int, frame) -> None:
    raise KeyboardInterrupt


def queue_done() -> bool:
    """Nothing queued and every run a worker took has ended: what DVC's own worker checks
    every 10 s before it exits, read here from the queue's files (no CPU to speak of).
    Should DVC keep them otherwise, this stays False and the workers end on their own."""
    try:
        queued = list((BROKER / "in").glob("*.celery.msg"))
        taken = {json.loads(message.read_bytes())["headers"]["id"]
                 for message in (BROKER / "processed").glob("*.celery.msg")}
    except (OSError, ValueError, KeyError, TypeError):
        return False
    ended = {p.name.removeprefix("celery-task-meta-") for p in RESULTS.glob("celery-task-meta-*")}
    return not queued and bool(taken) and taken <= ended


def wait(names: list[str], workers: list[subprocess.Popen]) -> dict[str, str]:
    """Block until the queue is done (or every worker has exited), then end the workers,
    idle by then; each named experiment's final state."""
    try:
        while any(worker.poll() is None for worker in workers) and not queue_done():
            time.sleep(0.5)
        stop_workers(workers)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the workers and their runs end too
        stop_workers(workers)
        raise
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
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        check_gpus(args.gpus.split())
        check_args(extra)
        environments = worker_environments(args.gpus.split(), args.per_gpu, os.cpu_count() or 1)
        with only_sweep():
            left = leftovers()
            if left:
                listed = ", ".join(f"{n} ({s.lower()})" for n, s in list(left.items())[:5])
                raise PipelineError(
                    f"DVC's queue still holds {len(left)} experiment(s) from an earlier run: "
                    f"{listed}. Run them (`dvc queue start`) or drop them (`dvc queue remove "
                    "--queued`; `dvc queue kill NAME` for a running one), then sweep again"
                )
            names = queue(args.seeds.split(), extra)
            if not names:
                raise PipelineError("nothing was queued: check SEEDS and ARGS")
            environments = environments[: len(names)]  # never more workers than runs
            print(f"sweep: {len(names)} experiments on {len(environments)} workers", flush=True)
            states = wait(names, start_workers(environments))
    except PipelineError as error:
        sys.exit(f"sweep: error: {error}")
    except KeyboardInterrupt:
        sys.exit("sweep: stopped: its workers and their runs were ended (`dvc queue status`)")
    subprocess.run([sys.executable, "-m", "lab.report", "--experiments"])
    failed = {name: state for name, state in states.items() if state != "Success"}
    for name, state in failed.items():
        what = "failed" if state == "Failed" else f"did not run ({state})"
        print(f"sweep: {name} {what}: its log is `dvc queue logs {name}`", file=sys.stderr)
    if failed:
        print(f"sweep: the workers' own logs: {LOGS}/sweep-{os.getpid()}-*.out", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
