"""A killed training run resumes at its next epoch and ends where an uninterrupted one does:
in one process, under `dvc repro`, and in a two-GPU sweep stopped and started again."""

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from dvc import api as dvc_api
from helpers import digests, dvc, make, set_params, stages_run, table_row, tiny_recipe

from lab import sweep
from lab.demo import tool_env
from sentiment import checkpoint, training

# the plateau schedule acts every epoch (patience 0): its counters must carry over
RECIPE = tiny_recipe(lr_patience=0, seed=3)


class Killed(Exception):
    pass


def kill_before_epoch(number: int):
    import keras

    class Kill(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch + 1 == number:
                raise Killed

    return Kill()


def files(folder):
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 40, (64, 10)).astype("int32")
    y = (x[:, -1] > 20).astype("int64")
    return x, y, rng.normal(size=(40, 5)).astype("float32")


def trained(data, folder, key="k", **extra):
    x, y, matrix = data
    net = training.train(
        x, y, matrix, RECIPE, str(folder / "live"),
        checkpoint_dir=folder / "ckpt",
        checkpoint_key=key, **extra
    )
    return net.predict(x, verbose=0), net.optimizer.learning_rate.numpy()


def test_a_run_killed_after_epoch_1_of_3_resumes_and_ends_identical(data, tmp_path, capsys):
    straight, straight_lr = trained(data, tmp_path / "straight")
    with pytest.raises(Killed):
        trained(data, tmp_path / "killed", extra_callbacks=[kill_before_epoch(2)])
    state = json.loads((tmp_path / "killed/ckpt/k/epoch-0001/state.json").read_text())
    assert state["epochs_done"] == 1
    resumed, resumed_lr = trained(data, tmp_path / "killed")
    assert "resuming from the checkpoint after epoch 1 of 3" in capsys.readouterr().out
    np.testing.assert_array_equal(resumed, straight)  # exactly, not approximately
    assert resumed_lr == straight_lr < RECIPE.learning_rate  # the schedule carried over
    logs = [files(tmp_path / f"{run}/live") for run in ("killed", "straight")]
    for log in logs:  # wall seconds differ from run to run; every logged metric is equal
        del log[Path("plots/metrics/epoch_seconds.tsv")]
        summary = json.loads(log.pop(Path("metrics.json")))
        assert summary.pop("epoch_seconds") > 0
        log["summary"] = summary
    assert logs[0] == logs[1]
    for name in ("train/accuracy", "eval/loss"):
        tsv = tmp_path / f"killed/live/plots/metrics/{name}.tsv"
        assert len(tsv.read_text().splitlines()) == 1 + RECIPE.epochs  # one row an epoch


def test_a_stop_between_epochs_says_the_epoch_the_next_run_resumes_after(
    data, tmp_path, capsys, monkeypatch
):
    real_save = checkpoint.save

    def stop_at_the_second_save(*args, **kwargs):
        if args[2] == 2:  # epoch 2 trained, its checkpoint not yet written: Ctrl-C
            raise KeyboardInterrupt
        real_save(*args, **kwargs)

    monkeypatch.setattr(checkpoint, "save", stop_at_the_second_save)
    with pytest.raises(KeyboardInterrupt):
        trained(data, tmp_path)
    said = capsys.readouterr().err
    assert "train: stopped during epoch 2: the next run resumes after epoch 1" in said


def test_a_checkpoint_for_other_params_is_neither_used_nor_touched(data, tmp_path, capsys):
    with pytest.raises(Killed):
        trained(data, tmp_path, key="old", extra_callbacks=[kill_before_epoch(2)])
    before = files(tmp_path / "ckpt/old")
    trained(data, tmp_path, key="new")
    assert "resuming" not in capsys.readouterr().out
    checkpoint.remove(tmp_path / "ckpt", "new")  # what the stage does when the run ends
    assert files(tmp_path / "ckpt/old") == before  # another run's: a sweep's other worker
    assert not (tmp_path / "ckpt/new").exists()


def test_the_key_follows_params_and_file_bytes(tmp_path):
    data = tmp_path / "x.npy"
    data.write_bytes(b"one")
    key = checkpoint.run_key({"units": 4}, [str(data)])
    assert checkpoint.run_key({"units": 4}, [str(data)]) == key
    assert checkpoint.run_key({"units": 5}, [str(data)]) != key
    data.write_bytes(b"two")
    assert checkpoint.run_key({"units": 4}, [str(data)]) != key


SHAPES = [((3,), np.dtype("float64"))]


def saved(tmp_path, epochs_done=1):
    (tmp_path / "live").mkdir(exist_ok=True)
    checkpoint.save(tmp_path / "ckpt", "k", epochs_done, [np.zeros(3)], {"wait": 0.0},
                    tmp_path / "live")
    return tmp_path / "ckpt" / "k" / f"epoch-{epochs_done:04d}"


@pytest.mark.parametrize("damage", ["state.json", "variables.npz", "live", "garbage",
                                    "truncated", "link", "callbacks", "big-array", "shape",
                                    "nan-counter", "epochs-true"])
def test_a_damaged_or_hostile_checkpoint_is_discarded_in_one_line(tmp_path, capsys, damage):
    import zipfile

    epoch = saved(tmp_path)
    if damage == "garbage":
        (epoch / "state.json").write_text("[1e99999")
    elif damage == "truncated":  # killed while the disk was writing it, say
        arrays = epoch / "variables.npz"
        arrays.write_bytes(arrays.read_bytes()[:40])
    elif damage == "link":  # would copy the maintainer's environment into models/live
        (epoch / "live/env.txt").symlink_to("/proc/self/environ")
    elif damage in ("callbacks", "nan-counter", "epochs-true"):
        state = json.loads((epoch / "state.json").read_text())
        if damage == "callbacks":  # would set any attribute of ReduceLROnPlateau
            state["callbacks"] = {"model": 1}
        elif damage == "nan-counter":
            state["callbacks"] = {"wait": float("nan")}
        else:
            state["epochs_done"] = True
        (epoch / "state.json").write_text(json.dumps(state))
    elif damage in ("big-array", "shape"):  # 3.6 TiB declared, or another shape
        shape = (2**40,) if damage == "big-array" else (4,)
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "<f8", "fortran_order": False, "shape": shape})
        with zipfile.ZipFile(epoch / "variables.npz", "w") as archive:
            archive.writestr("arr_0.npy", b"\x93NUMPY\x01\x00" + header.getvalue()[8:] + b"0" * 24)
    elif damage == "live":
        shutil.rmtree(epoch / "live")
    else:
        (epoch / damage).unlink()
    assert checkpoint.load(tmp_path / "ckpt", "k", SHAPES) is None
    assert not epoch.exists()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "discarding the checkpoint" in err


def test_a_kill_between_saves_leaves_the_previous_epoch_usable(tmp_path):
    saved(tmp_path, 1)
    half = tmp_path / "ckpt/k/.epoch-0002.tmp-x"  # a save of epoch 2 killed before its rename
    half.mkdir()
    (half / "state.json").write_text("{")
    assert checkpoint.load(tmp_path / "ckpt", "k", SHAPES).epochs_done == 1
    saved(tmp_path, 2)
    assert [p.name for p in (tmp_path / "ckpt/k").glob("epoch-*")] == ["epoch-0002"]


def test_a_shared_root_keeps_what_is_not_this_runs_checkpoint(tmp_path):
    saved(tmp_path)
    colleague = tmp_path / "ckpt/alice-experiment/results.csv"
    colleague.parent.mkdir()
    colleague.write_text("mine")
    checkpoint.remove(tmp_path / "ckpt", "k")
    assert colleague.read_text() == "mine" and not (tmp_path / "ckpt/k").exists()


def test_a_checkpoint_that_git_tracks_is_never_resumed_from(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "-q"], check=True)
    epoch = saved(Path("."))
    subprocess.run(["git", "add", "-f", "ckpt"], check=True)
    assert not checkpoint.usable(Path("ckpt"), "k")
    assert "tracked by Git" in capsys.readouterr().err
    checkpoint.remove(Path("ckpt"), "k")
    assert epoch.exists()  # a branch's files are not ours to delete


def locked_hashes(workspace) -> dict:
    """Every output's hash in dvc.lock but the ones holding wall times."""
    stages = yaml.safe_load((workspace / "dvc.lock").read_text())["stages"]
    return {out["path"]: out.get("md5") for stage in stages.values()
            for out in stage.get("outs", [])
            if out["path"] not in ("metrics/train.json", "models/live")}


TRAINED = ["models/model.keras", "models/fingerprint.json", "metrics/plots/training.csv"]


def test_dvc_repro_killed_mid_training_reruns_only_what_train_feeds_and_ends_as_a_straight_run(
    workspace, monkeypatch, tmp_path
):
    set_params(workspace, "train", epochs=3)  # train is stale: the next `dvc repro` runs it
    states = workspace / ".checkpoints/train"
    said = tmp_path / "killed.out"
    with said.open("w") as out:
        killed = subprocess.Popen(
            [sys.executable, "-m", "dvc", "repro"],
            cwd=workspace, env={**tool_env(), "PYTHONUNBUFFERED": "1"},  # said before the kill
            start_new_session=True, stdout=out, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 300
        while not list(states.glob("*/epoch-*/state.json")) and killed.poll() is None and (
            time.monotonic() < deadline
        ):
            time.sleep(0.01)
        os.killpg(killed.pid, signal.SIGKILL)  # no clean-up of any kind, as a preempted machine
        killed.wait()
    (state,) = states.glob("*/epoch-*/state.json")
    done = json.loads(state.read_text())["epochs_done"]
    assert 1 <= done < 3

    resumed = dvc(workspace, "repro")
    # a train param re-runs exactly train and what reads its model (after check_params)
    ran = stages_run(said.read_text()) + stages_run(resumed)
    assert ran == ["check_params", "train", "train", "evaluate"]
    assert f"resuming from the checkpoint after epoch {done} of 3" in resumed.stdout
    assert list(states.iterdir()) == []  # a finished run leaves no checkpoint behind
    assert "Data and pipelines are up to date" in dvc(workspace, "status").stdout
    diff = json.loads(dvc(workspace, "metrics", "diff", "--json").stdout)
    assert "loss" in diff["metrics/evaluate.json"] and "metrics/baseline.json" not in diff
    assert "train.epochs" in dvc(workspace, "params", "diff").stdout
    after_resume, lock = digests(workspace, TRAINED), locked_hashes(workspace)
    threads = json.loads((workspace / "metrics/train.json").read_text())["threads"]

    # never interrupted, and with other op threads (as a sweep worker sets them): neither a
    # resume nor the threads change the arithmetic; Keras' save time is taken out of the file
    monkeypatch.setenv("TF_NUM_INTEROP_THREADS", "1")
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "3")
    straight = dvc(workspace, "repro", "-f", "-s", "train")
    assert "resuming" not in straight.stdout
    other = json.loads((workspace / "metrics/train.json").read_text())["threads"]
    assert other == {"inter_op": "1", "intra_op": "3"} != threads
    assert digests(workspace, TRAINED) == after_resume
    # (only metrics/train.json and models/live change: they hold each epoch's wall seconds)
    assert locked_hashes(workspace) == lock
    assert "Data and pipelines are up to date" in dvc(workspace, "status").stdout  # evaluate too


def recorded_devices(workspace):
    """train.seed -> the CUDA_VISIBLE_DEVICES each finished experiment trained with."""
    found = {}
    for row in dvc_api.exp_show(repo=str(workspace)):
        if row["typ"] == "baseline" or row.get("State") != "Success":
            continue
        train = dvc_api.read("metrics/train.json", repo=str(workspace), rev=row["rev"])
        found[row["train.seed"]] = json.loads(train)["cuda_visible_devices"]
    return found


def test_a_two_gpu_sweep_stopped_and_started_again_resumes_both_runs_and_groups_them(
    workspace, tmp_path, monkeypatch
):
    monkeypatch.chdir(workspace)  # sweep.queue_status() asks DVC here
    shared = tmp_path / "checkpoints"  # a folder both workers use, as a bucket mount
    env = {**tool_env(), "SENTIMENT_CHECKPOINTS": str(shared)}
    # the sample lives in a git-ignored folder given by a relative path, as the README's
    # ../shared paths are: the queued copies under .dvc/tmp/exps/ do not have it
    command = ["make", "-s", "sweep", "GPUS=0 1", "SEEDS=1 2", "ARGS=-S train.epochs=6",
               f"VENV={sys.prefix}", "STAMP="]
    first = subprocess.Popen(command, cwd=workspace, env=env, start_new_session=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    while len(list(shared.glob("train/*/epoch-*"))) < 2 and time.monotonic() < deadline:
        assert first.poll() is None, first.stdout.read()
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGTERM)  # as Ctrl-C: make and the sweep it runs
    assert "sweep: stopped" in first.communicate(timeout=120)[0]
    assert len({path.parent for path in shared.glob("train/*/epoch-*")}) == 2  # both kept
    stopped = [name for name, state in sweep.queue_status().items() if state == "Failed"]
    assert len(stopped) == 2
    for name in stopped:
        log = dvc(workspace, "queue", "logs", name).stdout
        assert "train: stopped during epoch" in log and "Traceback" not in log

    again = subprocess.run(command, cwd=workspace, env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "2 experiments on 2 workers" in again.stdout
    resumed = [name for name, state in sweep.queue_status().items() if state == "Success"]
    assert len(resumed) == 2
    for name in resumed:
        log = dvc(workspace, "queue", "logs", name).stdout
        assert "train: resuming from the checkpoint after epoch" in log
    assert not list(shared.glob("train/*/epoch-*"))  # each finished run removed its own
    assert sorted(recorded_devices(workspace).values()) == ["0", "1"]  # a GPU each

    # a variant of a linear model's param: its BiLSTM is seed 1's, from the run-cache
    variant = dvc(workspace, "exp", "run", "-S", "train.epochs=6", "-S", "train.seed=1",
                  "-S", "baseline.C=2")
    assert "Stage 'train' is cached" in variant.stdout
    text = make(workspace, "experiments").stdout
    reference = table_row(text, "most common settings")  # C 4: 2 runs of 3
    assert reference[1] == "2 (1, 2)" and reference[-1] == "reference"
    accuracies = [float(x) for x in reference[3].split("–")]
    mean, std = (float(x) for x in reference[2].split(" ± "))
    assert accuracies[0] <= mean <= accuracies[1]
    assert np.isclose(std, np.std(accuracies, ddof=1), atol=0.011)
    row = table_row(text, "baseline.C=2")
    assert row[1] == "1 (1)"
    assert "McNemar p" in row[-1] and row[-1].endswith(
        ("**better**", "**worse**", "**within noise**")
    )


@pytest.mark.parametrize("link_at", [".checkpoints", ".checkpoints/train", ".checkpoints/train/k"])
def test_a_checkpoint_reached_through_a_committed_link_at_any_level_is_never_used(
    tmp_path, monkeypatch, capsys, link_at
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(checkpoint.ENV, raising=False)
    subprocess.run(["git", "init", "-q"], check=True)
    (tmp_path / "live").mkdir()
    checkpoint.save(Path("planted/train"), "k", 1, [np.zeros(3)], {"wait": 0.0}, "live")
    planted = Path("planted/train/k/epoch-0001")
    link = Path(link_at)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(Path(*[".."] * (len(link.parts) - 1), "planted", *link.parts[1:]))
    assert (Path(".checkpoints/train/k/epoch-0001")).is_dir()  # the link reaches the weights
    subprocess.run(["git", "add", "-f", "planted", ".checkpoints"], check=True)
    root = checkpoint.folder("train")
    assert not checkpoint.usable(root, "k")
    said = capsys.readouterr().err
    assert "is a symbolic link" in said or "is tracked by Git" in said
    checkpoint.remove(root, "k")
    assert planted.is_dir()  # what the link points at is not ours to delete


def test_a_checkpoint_root_that_is_a_file_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(checkpoint.ENV, str(tmp_path / "bucket"))
    (tmp_path / "bucket").mkdir()
    (tmp_path / "bucket/train").write_text("not a folder")
    assert not checkpoint.usable(checkpoint.folder("train"), "k")
    assert "is a file, not a folder" in capsys.readouterr().err
