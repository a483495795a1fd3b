"""Sweeps: one DVC queue worker per GPU slot on one box (a two-GPU sweep, stopped and
resumed: test_checkpoint.py), and one experiment per machine (`make job`) gathered where
you review (`make collect`), on a bare origin and a DVC remote."""

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
from helpers import dvc, make, published, run

from lab import sweep
from lab.sweep import worker_environments
from sentiment.io import PipelineError

ROOT = Path(__file__).resolve().parents[2]


def test_workers_get_one_gpu_each_and_memory_growth_only_when_they_share_one():
    assert worker_environments(["0", "1"], 1, 2) == [
        {"CUDA_VISIBLE_DEVICES": "0"},
        {"CUDA_VISIBLE_DEVICES": "1"},
    ]
    shared = worker_environments(["3"], 2, 2)
    assert len(shared) == 2 and all(
        env == {"CUDA_VISIBLE_DEVICES": "3", "TF_FORCE_GPU_ALLOW_GROWTH": "true"} for env in shared
    )
    cpu = worker_environments([], 1, 2)  # a 2-core box: two 1-thread workers, no GPU
    assert len(cpu) == 2 and all(
        env["CUDA_VISIBLE_DEVICES"] == "" and env["TF_NUM_INTRAOP_THREADS"] == "1" for env in cpu
    )


def test_a_failed_run_makes_the_sweep_exit_non_zero_naming_it_and_its_log(workspace):
    bad = "ARGS=-S train.validation_split=0.999"  # valid to the schema, refused by train
    result = make(workspace, "sweep", "SEEDS=3", bad, check=False)
    assert result.returncode != 0
    line, workers = [line for line in result.stderr.splitlines() if line.startswith("sweep: ")]
    assert workers.startswith("sweep: the workers' own logs: .dvc/tmp/exps/celery/sweep-")
    assert workers.endswith("-*.out")  # this sweep's own workers (named by its pid)
    assert "1 experiments on 1 workers" in result.stdout  # never more workers than runs
    assert line.endswith("failed: its log is `dvc queue logs " + line.split()[1] + "`")
    name = line.split()[1]
    (row,) = [row for row in result.stdout.splitlines() if row.startswith(f"| {name} (")]
    assert "train.validation_split=0.999" in row and "**failed**" in row  # in the table
    logs = dvc(workspace, "queue", "logs", name).stdout
    assert "train.validation_split 0.999" in logs  # the stage's own one-line error
    (worker,) = (workspace / ".dvc/tmp/exps/celery").glob("sweep-*.out")
    said = worker.read_text()  # the sweep ended its worker as the run ended, not DVC's 10-s check
    assert "Warm shutdown" in said and "shutting down due to empty queue" not in said


@pytest.fixture
def cluster(reproduced, tmp_path):
    """A bare Git origin and a DVC remote holding a reproduced commit, as a team has."""
    return published(reproduced, tmp_path)[0]


def test_two_machines_each_run_make_job_and_a_third_collects_both_without_rerunning(
    cluster, tmp_path
):
    machines = []
    for name in ("node-a", "node-b", "laptop"):
        clone = tmp_path / name
        run(tmp_path, "git", "clone", "-q", str(cluster), str(clone))
        (clone / "sample").symlink_to(Path(cluster).parent / "author/sample")  # git-ignored
        machines.append(clone)
    results = {}

    def job(clone, seed):
        results[seed] = make(clone, "job", f"ARGS=-S train.seed={seed}", check=False)

    threads = [threading.Thread(target=job, args=(m, s)) for m, s in zip(machines, (1, 2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for seed, result in results.items():
        assert result.returncode == 0, (seed, result.stdout[-1500:], result.stderr[-1500:])
        assert "Running stage 'prepare'" not in result.stdout  # pulled, not recomputed

    laptop = machines[2]
    collected = make(laptop, "collect")
    assert "Running stage" not in collected.stdout + collected.stderr
    assert "| 2 (1, 2) |" in collected.stdout  # both machines' runs, one group of two seeds
    assert not (laptop / "models/model.keras").exists()  # nothing was trained here


def test_skypilot_loads_the_task_file_and_its_jobs_run_make_job():
    python = ROOT / ".venv-cluster/bin/python"
    assert python.exists(), "run `make install EXTRAS=cluster` (make test does)"
    loaded = subprocess.run(
        [
            str(python),
            "-c",
            "import json, sys, sky\n"
            "task = sky.Task.from_yaml(sys.argv[1])\n"
            "print(json.dumps({'envs': task.envs, 'run': task.run, 'setup': task.setup,\n"
            "  'gpus': sorted(next(iter(r.accelerators)) for r in task.resources),\n"
            "  'spot': all(r.use_spot for r in task.resources),\n"
            "  'recovery': [r.job_recovery for r in task.resources][0],\n"
            "  'mounts': {k: v.name for k, v in task.storage_mounts.items()}}))",
            str(ROOT / "cluster/sweep.yaml"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    task = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert set(task["envs"]) == {"REPO", "COMMIT", "ARGS", "CHECKPOINT_BUCKET"}
    assert task["spot"] and task["recovery"]["strategy"] == "FAILOVER"
    # a relaunched job finds its checkpoint: the bucket is mounted where train looks
    assert task["mounts"] == {"/checkpoints": "your-checkpoint-bucket"}
    assert "export SENTIMENT_CHECKPOINTS" in task["run"]
    assert 'make job EXTRAS=gpu ARGS="$ARGS"' in task["run"]
    assert 'git checkout -q "$COMMIT"' in task["setup"]
    assert "make install EXTRAS=gpu" in task["setup"]
    assert "H100" in task["gpus"]


@pytest.mark.parametrize("gpus", [["0", "x"], ["0;rm"], ["1", "1"], ["-1"]])
def test_gpu_ids_that_cuda_would_not_take_or_repeat_are_refused(gpus):
    with pytest.raises(PipelineError, match=r"^GPUS: ") as error:
        sweep.check_gpus(gpus)
    assert "\n" not in str(error.value)
    sweep.check_gpus(["0", "3", "GPU-5e1f3a4c-0b1d-4b1e-9f2a-1234abcd5678"])  # accepted


@pytest.mark.parametrize("arg", ["-n", "--name", "--name=best", "-nbest", "-n=best"])
def test_a_fixed_experiment_name_is_refused_before_anything_is_queued(arg):
    with pytest.raises(PipelineError, match="would overwrite one experiment ref"):
        sweep.check_args(["-S", "train.units=8", arg, "best"])
    sweep.check_args(["-S", "train.name_like_value=-n"])  # a value is not a flag


def test_leftover_queue_state_is_named_and_nothing_new_is_queued(workspace):
    dvc(workspace, "exp", "run", "--queue", "-S", "train.seed=9")  # an earlier sweep's
    result = make(workspace, "sweep", "SEEDS=1", check=False)
    assert result.returncode != 0
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("sweep: ")]
    assert "DVC's queue still holds 1 experiment(s) from an earlier run" in line
    assert "(queued)" in line and "dvc queue remove --queued" in line
    assert len(queued(workspace, "Queued")) == 1  # nothing added


def queued(workspace, state):
    """The names of the experiments DVC's queue lists in `state` (Queued, Success, …)."""
    lines = dvc(workspace, "queue", "status").stdout.splitlines()
    return [line.split()[1] for line in lines if line.split()[-1:] == [state]]


def test_a_second_sweep_in_the_same_repository_is_refused(workspace, monkeypatch):
    monkeypatch.chdir(workspace)
    with sweep.only_sweep():
        result = make(workspace, "sweep", "SEEDS=1", check=False)
    assert result.returncode != 0
    assert f"another sweep (pid {os.getpid()}) is running in this repository" in result.stderr
    assert queued(workspace, "Queued") == []  # refused before queueing


def running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_stopping_ends_the_workers_and_what_they_started_and_nothing_else():
    spawn = ["bash", "-c", "sleep 300 & echo $!; wait"]
    workers = [
        subprocess.Popen(spawn, stdout=subprocess.PIPE, text=True, start_new_session=True)
        for _ in range(2)
    ]
    children = [int(w.stdout.readline()) for w in workers]
    bystander = subprocess.Popen(["sleep", "300"])
    sweep.stop_workers(workers, grace=5)
    assert all(w.poll() is not None for w in workers)
    deadline = time.monotonic() + 10  # signals arrive asynchronously
    while any(running(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(running(pid) for pid in children)  # the run a worker started is gone too
    assert bystander.poll() is None  # not ours: untouched
    bystander.kill()
    bystander.wait()

