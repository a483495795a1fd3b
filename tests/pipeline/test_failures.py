"""Bad inputs and killed stages end in one clear line and never in a half-written output."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml
from helpers import dvc, set_params, stage_script, stages_run

from lab.demo import DEMO_PARAMS, tool_env


def snapshot(workspace):
    """Digest of every output file (data/, models/, metrics/), to prove nothing changed."""
    files = {}
    for folder in ("data", "models", "metrics"):
        for path in sorted((workspace / folder).rglob("*")):
            if path.is_file():
                files[str(path.relative_to(workspace))] = hashlib.sha256(
                    path.read_bytes()
                ).hexdigest()
    return files


def assert_one_line_error(result, prefix):
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(prefix), result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_dataset_folder_missing_a_column_changes_nothing(workspace):
    from datasets import Dataset

    broken = workspace / "broken" / "plain_text"
    broken.mkdir(parents=True)
    for split in ("train", "test"):
        Dataset.from_dict({"review": ["fine"] * 4, "label": [0, 1] * 2}).to_parquet(
            str(broken / f"{split}-00000-of-00001.parquet")
        )
    set_params(workspace, "prepare", dataset="broken")
    before = snapshot(workspace)
    result = stage_script(workspace, "prepare")
    assert_one_line_error(result, "prepare: error: prepare.dataset: train+test has columns")
    assert snapshot(workspace) == before


def test_missing_local_dataset_names_the_param(workspace):
    set_params(workspace, "prepare", dataset="../nowhere/imdb")
    before = snapshot(workspace)
    result = stage_script(workspace, "prepare")
    assert_one_line_error(result, "prepare: error: prepare.dataset: no such file or directory")
    assert snapshot(workspace) == before


def test_unreachable_hub_names_the_param_to_set(workspace):
    set_params(workspace, "embed", vectors="fse/not-in-the-cache")
    env = {**tool_env(), "HF_HUB_OFFLINE": "1"}
    before = snapshot(workspace)
    result = subprocess.run(
        [sys.executable, "-m", "stages.embed"],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
    )
    assert_one_line_error(result, "embed: error: embed.vectors: HF_HUB_OFFLINE=1 is set")
    assert "set embed.vectors to a local directory" in result.stderr
    assert snapshot(workspace) == before


def test_truncated_array_names_the_stage_to_rerun_and_repro_recovers(workspace):
    x_train = workspace / "data/encoded/x_train.npy"
    x_train.chmod(0o644)  # DVC may link outputs read-only from its cache
    x_train.write_bytes(x_train.read_bytes()[:-500])
    result = stage_script(workspace, "train")
    assert_one_line_error(result, "train: error: data/encoded/x_train.npy is unreadable")
    assert "dvc repro -f encode" in result.stderr
    repro = dvc(workspace, "repro").stdout
    assert "Stage 'encode' is cached - skipping run, checking out outputs" in repro
    train_reviews = json.loads((workspace / "metrics/data.json").read_text())["reviews"]["train"]
    assert np.load(x_train).shape == (train_reviews, DEMO_PARAMS["encode"]["max_seq"])
    assert "up to date" in dvc(workspace, "status").stdout


def test_matrix_that_disagrees_with_the_vocabulary_names_embed(workspace):
    matrix = workspace / "data/embedding_matrix.npy"
    matrix.chmod(0o644)
    np.save(matrix, np.zeros((10, 300), np.float32))
    result = stage_script(workspace, "train")
    assert_one_line_error(result, "train: error: x_train uses token index")
    assert "re-run `dvc repro embed`" in result.stderr


def test_training_stopped_mid_epoch_keeps_the_previous_model_logs_and_metrics(workspace):
    # (that the next `dvc repro` recovers from a killed train is test_faults' rehearsal)
    # enough epochs that a loaded machine cannot finish them before the signal lands
    set_params(workspace, "train", learning_rate=0.002, epochs=12)
    before = snapshot(workspace)
    process = subprocess.Popen(
        [sys.executable, "-m", "stages.train"],
        cwd=workspace,
        env={**tool_env(), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    for line in process.stdout:  # wait until training is under way (stderr shares the pipe,
        if "train: epoch 1 of" in line:  # so a line may start with another's tail)
            break
    else:
        raise AssertionError(f"train never started an epoch (exit {process.wait()})")
    os.kill(process.pid, signal.SIGTERM)
    process.wait(timeout=60)
    assert process.returncode != 0
    assert snapshot(workspace) == before  # previous model, logs and metrics, no temp files


def test_a_refused_edit_once_undone_leaves_the_pipeline_up_to_date(workspace):
    params = (workspace / "params.yaml").read_text()
    set_params(workspace, "train", dropout=1.5)
    assert dvc(workspace, "repro", check=False).returncode != 0  # check_params refuses it
    (workspace / "params.yaml").write_text(params)
    assert "Data and pipelines are up to date" in dvc(workspace, "status").stdout


def test_params_edited_while_a_stage_runs_publish_nothing_and_the_lock_keeps_the_old_values(
    workspace,
):
    set_params(workspace, "train", learning_rate=0.002, epochs=3)  # the edit lands in epoch 1
    lock = yaml.safe_load((workspace / "dvc.lock").read_text())["stages"]["train"]
    process = subprocess.Popen(
        [sys.executable, "-m", "dvc", "repro", "train"],
        cwd=workspace,
        env={**tool_env(), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = []
    for line in process.stdout:  # wait until training is under way, then edit params.yaml
        output.append(line)
        if "train: epoch 1 of" in line:  # stderr shares the pipe: not always at a line start
            set_params(workspace, "train", learning_rate=0.005)  # as a refused `exp run -S` does
            break
    output += process.stdout.readlines()
    assert process.wait(timeout=300) != 0
    (error,) = [line for line in output if "train: error:" in line]
    assert "the `train` section of params.yaml changed while the stage ran" in error
    assert yaml.safe_load((workspace / "dvc.lock").read_text())["stages"]["train"] == lock
    assert not (workspace / "models/model.keras").exists()  # DVC removed it; none published
    assert not list((workspace / "models").glob(".*.tmp-*"))
    status = dvc(workspace, "status").stdout
    assert "train:" in status and "up to date" not in status  # the next repro re-runs it


def test_the_dvc_cache_on_another_filesystem_with_symlinks_is_the_big_disk_layout(workspace):
    """What DVC supports for a bigger disk: its cache there (`dvc cache dir`) and the
    workspace's outputs as links into it (`cache.type symlink`); an output folder that is
    itself a symlink out of the repository is refused by DVC on every `dvc repro`."""
    elsewhere = Path(tempfile.mkdtemp(dir="/dev/shm"))  # tmpfs: not the workspace's disk
    try:
        assert os.stat(elsewhere).st_dev != os.stat(workspace).st_dev
        dvc(workspace, "cache", "dir", str(elsewhere / "cache"))
        dvc(workspace, "config", "cache.type", "symlink")
        shutil.copytree(workspace / ".dvc/cache", elsewhere / "cache", dirs_exist_ok=True)
        dvc(workspace, "checkout", "--relink")
        assert (workspace / "data/encoded/x_train.npy").is_symlink()
        set_params(workspace, "encode", max_seq=24)
        ran = stages_run(dvc(workspace, "repro", "encode"))  # what follows is any stage's
        assert ran == ["check_params", "encode"]
        x_train = workspace / "data/encoded/x_train.npy"
        assert x_train.is_symlink() and Path(os.readlink(x_train)).is_relative_to(elsewhere)
        assert np.load(x_train).shape[1] == 24
        assert "encode:" not in dvc(workspace, "status", "encode").stdout
    finally:
        shutil.rmtree(elsewhere)
