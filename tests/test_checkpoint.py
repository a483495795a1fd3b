"""A killed training run resumes at its next epoch and ends where an uninterrupted one does."""

import json

import numpy as np
import pytest

from sentiment import checkpoint, model

SETTINGS = dict(
    units=4,
    spatial_dropout=0.2,
    dropout=0.2,
    dense_dropout=0.3,
    learning_rate=0.05,
    weight_decay=0.01,
    batch_size=8,
    epochs=3,
    validation_split=0.25,
    lr_factor=0.5,
    lr_patience=0,  # the plateau schedule acts every epoch: its counters must carry over
    seed=3,
    deterministic=True,
    mixed_precision=False,
    distribute="off",
)


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
    net = model.train(
        x, y, matrix, str(folder / "live"), **SETTINGS, checkpoint_dir=folder / "ckpt",
        checkpoint_key=key, **extra
    )
    return net.predict(x, verbose=0), net.optimizer.learning_rate.numpy()


def test_a_run_killed_after_epoch_1_of_3_resumes_and_ends_identical(data, tmp_path, capsys):
    straight, straight_lr = trained(data, tmp_path / "straight")
    with pytest.raises(Killed):
        trained(data, tmp_path / "killed", extra_callbacks=[kill_before_epoch(2)])
    state = json.loads((tmp_path / "killed/ckpt/state.json").read_text())
    assert state["epochs_done"] == 1
    resumed, resumed_lr = trained(data, tmp_path / "killed")
    assert "resuming from the checkpoint after epoch 1 of 3" in capsys.readouterr().out
    np.testing.assert_array_equal(resumed, straight)  # exactly, not approximately
    assert resumed_lr == straight_lr < SETTINGS["learning_rate"]  # the schedule carried over
    assert files(tmp_path / "killed/live") == files(tmp_path / "straight/live")
    for name in ("train/accuracy", "eval/loss"):
        tsv = tmp_path / f"killed/live/plots/metrics/{name}.tsv"
        assert len(tsv.read_text().splitlines()) == 1 + SETTINGS["epochs"]  # one row an epoch


def test_a_checkpoint_for_other_params_or_inputs_is_discarded(data, tmp_path, capsys):
    with pytest.raises(Killed):
        trained(data, tmp_path, key="old", extra_callbacks=[kill_before_epoch(2)])
    trained(data, tmp_path, key="new")
    err = capsys.readouterr().err
    assert "discarding the checkpoint" in err and "made with other params" in err


def test_the_key_follows_params_and_file_bytes(tmp_path):
    data = tmp_path / "x.npy"
    data.write_bytes(b"one")
    key = checkpoint.run_key({"units": 4}, [str(data)])
    assert checkpoint.run_key({"units": 4}, [str(data)]) == key
    assert checkpoint.run_key({"units": 5}, [str(data)]) != key
    data.write_bytes(b"two")
    assert checkpoint.run_key({"units": 4}, [str(data)]) != key


@pytest.mark.parametrize("damage", ["state.json", "variables.npz", "garbage", "truncated"])
def test_a_damaged_checkpoint_is_discarded_not_trusted(tmp_path, capsys, damage):
    where = tmp_path / "ckpt"
    (tmp_path / "live").mkdir()
    checkpoint.save(where, "k", 1, [np.zeros(3)], {"wait": 0.0}, tmp_path / "live")
    if damage == "garbage":
        (where / "state.json").write_text("[1e99999")
    elif damage == "truncated":  # killed while the disk was writing it, say
        arrays = where / "variables.npz"
        arrays.write_bytes(arrays.read_bytes()[:40])
    else:
        (where / damage).unlink()
    assert checkpoint.load(where, "k") is None
    assert not where.exists()
    assert "discarding the checkpoint" in capsys.readouterr().err


def test_dvc_repro_killed_mid_training_resumes_and_gives_the_same_predictions(workspace):
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import dvc, stages_run
    from test_pipeline import set_params

    from sentiment.demo import tool_env

    set_params(workspace, "train", epochs=4)  # train is stale: the next `dvc repro` runs it
    state = workspace / ".checkpoints/train/state.json"
    killed = subprocess.Popen(
        [sys.executable, "-m", "dvc", "repro"],
        cwd=workspace, env=tool_env(), start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while not state.exists() and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(killed.pid, signal.SIGKILL)  # no clean-up of any kind, as a preempted machine
    killed.wait()
    done = json.loads(state.read_text())["epochs_done"]
    assert 1 <= done < 4

    resumed = dvc(workspace, "repro")
    assert stages_run(resumed) == ["train", "evaluate"]
    assert f"resuming from the checkpoint after epoch {done} of 4" in resumed.stdout
    assert not state.exists()  # a finished run leaves no checkpoint behind
    assert "Data and pipelines are up to date" in dvc(workspace, "status").stdout
    after_resume = (workspace / "data/predictions/bilstm.csv").read_bytes()

    straight = dvc(workspace, "repro", "-f", "-s", "train", "evaluate")  # never interrupted
    assert "resuming" not in straight.stdout
    assert (workspace / "data/predictions/bilstm.csv").read_bytes() == after_resume
