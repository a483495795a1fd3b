"""Fault injection on the real stages: kills, a full disk and a read-only folder, at
several points of a stage. Every time the outputs are all old or all new, the failure
is one line, and the next `dvc repro` recovers and leaves no temporary file."""

import json
import subprocess
import sys

import pytest
from helpers import DATA_OUTPUTS, digests, dvc, set_params, stages_run
from helpers import stage_script as run_stage_script

from lab.demo import DEMO_PARAMS, tool_env
from sentiment import pipeline

ENCODE_OUTPUTS = [n for n in DATA_OUTPUTS if n.startswith(("data/encoded/", "models/"))]
TRAIN_OUTPUTS = ["models/model.keras", "metrics/train.json", "models/live/metrics.json"]

# Runs a stage with one fault at the Nth call of a function every output passes through.
INJECT = """
import errno, os, signal, sys, runpy
import {module} as target
real, calls = target.{name}, 0
def faulty(*args, **kwargs):
    global calls
    calls += 1
    if calls == {at}:
        {fault}
    return real(*args, **kwargs)
target.{name} = faulty
sys.argv = ["{stage}"]
runpy.run_module("stages.{stage}", run_name="__main__")
"""
KILL = "os.kill(os.getpid(), signal.SIGKILL)"
FULL_DISK = "raise OSError(errno.ENOSPC, 'No space left on device', str(args[-1]))"
READ_ONLY = "raise OSError(errno.EROFS, 'Read-only file system', str(args[-1]))"
# what NumPy's ndarray.tofile raises inside np.save on a full disk: no errno at all
NUMPY_FULL = "raise OSError('Not enough free space to write 2400 bytes after offset 128')"


def run_with_fault(workspace, stage, fault, at, target="os.replace"):
    module, name = target.rsplit(".", 1)
    code = INJECT.format(module=module, name=name, at=at, fault=fault, stage=stage)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=workspace, env=tool_env(), capture_output=True, text=True
    )


def litter(workspace):
    """Temporary files or staging folders anywhere in the workspace's data, models, metrics."""
    return [p for d in ("data", "models", "metrics") for p in (workspace / d).rglob(".*.tmp-*")]


# encode writes six outputs (six os.replace calls into their staging folders), then publishes
@pytest.mark.parametrize("at", [1, 3, 6])
def test_encode_killed_at_any_point_before_publishing_leaves_all_old_outputs(workspace, at):
    set_params(workspace, "encode", max_vocab=150)
    before = digests(workspace, ENCODE_OUTPUTS)
    result = run_with_fault(workspace, "encode", KILL, at)
    assert result.returncode == -9
    assert digests(workspace, ENCODE_OUTPUTS) == before
    assert litter(workspace)  # a SIGKILL skips every cleanup: the next run must do it


@pytest.mark.parametrize(
    "fault, message, target",
    [
        (FULL_DISK, "encode: error: no space left on the device (", "os.replace"),
        (READ_ONLY, "encode: error: cannot write (", "os.replace"),
        (NUMPY_FULL, "encode: error: no space left on the device: free", "numpy.save"),
    ],
)
def test_a_failed_write_is_one_line_and_leaves_all_old_outputs(workspace, fault, message, target):
    set_params(workspace, "encode", max_vocab=150)
    before = digests(workspace, ENCODE_OUTPUTS)
    result = run_with_fault(workspace, "encode", fault, 2, target)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(message)
    assert digests(workspace, ENCODE_OUTPUTS) == before
    assert litter(workspace) == []  # a failure (unlike a kill) cleans up after itself


def test_after_kills_in_encode_and_train_repro_reruns_encode_and_below_and_leaves_no_litter(
    workspace
):
    set_params(workspace, "encode", max_vocab=150)  # re-runs encode and all below, not prepare
    assert run_with_fault(workspace, "encode", KILL, 5).returncode == -9
    set_params(workspace, "train", learning_rate=0.002)
    trained = digests(workspace, TRAIN_OUTPUTS)
    # killed after training and saving, just before the last output: nothing is published
    killed = run_with_fault(workspace, "train", KILL, 1, target="sentiment.devices.environment")
    assert killed.returncode == -9
    assert digests(workspace, TRAIN_OUTPUTS) == trained
    assert litter(workspace)

    ran = stages_run(dvc(workspace, "repro"))
    below = pipeline.downstream(pipeline.outputs("encode", workspace / "dvc.yaml"),
                                workspace / "dvc.yaml")
    assert ran[:2] == ["check_params", "encode"] and set(ran[2:]) == set(below)
    assert "embed" in below and "prepare" not in ran
    assert litter(workspace) == []
    assert "up to date" in dvc(workspace, "status").stdout


def truncate_a_parquet_file(workspace):
    dataset = workspace / "sample/imdb/plain_text/test-00000-of-00001.parquet"
    dataset.write_bytes(dataset.read_bytes()[:-100])


def empty_every_review(workspace):
    from datasets import Dataset

    for file in (workspace / "sample/imdb/plain_text").glob("*.parquet"):
        Dataset.from_dict({"text": ["  "] * 4, "label": [0, 1] * 2}).to_parquet(str(file))


def save_a_lambda_model(workspace):
    import keras

    inputs = keras.Input((DEMO_PARAMS["encode"]["max_seq"],))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t[:, :2])(inputs))
    target = workspace / "models/model.keras"
    target.chmod(0o644)
    target.unlink()
    model.save(target)
    # with a matching fingerprint, as one crafted to pass the identity check would have
    from sentiment.model import fingerprint

    files = [target, workspace / "models/vocab.json", workspace / "models/encoding.json"]
    record = workspace / "models/fingerprint.json"
    record.chmod(0o644)
    record.write_text(json.dumps(fingerprint(*files)))


BAD_INPUTS = [
    (
        "train",
        {"train": {"seed": 2**32}},
        None,
        "train.seed: got 4294967296; expected an integer in",
    ),
    ("train", {"train": {"validation_split": 0.999}}, None, "leaves 0 to train on"),
    ("train", {"train": {"learning_rate": float("inf")}}, None, "expected a finite number > 0"),
    (
        "embed",
        {"embed": {"vectors": "corpus", "min_count": 10**6}},
        None,
        "embed.min_count: no word of the corpus occurs 1000000 times",
    ),
    ("prepare", {}, truncate_a_parquet_file, "-00000-of-00001.parquet is unreadable ("),
    ("prepare", {}, empty_every_review, "reviews of a split are empty: check the dataset"),
    (
        "evaluate",
        {},
        save_a_lambda_model,
        "holds code (a Lambda layer), which is refused for safety",
    ),
]
STAGE_OUTPUTS = {
    "prepare": ["data/prepared/train.parquet", "metrics/data.json"],
    "embed": ["data/embedding_matrix.npy", "metrics/embed.json"],
    "train": TRAIN_OUTPUTS,
    "evaluate": ["metrics/evaluate.json", "data/predictions/bilstm.csv"],
}


@pytest.mark.parametrize("stage, params, damage, message", BAD_INPUTS)
def test_bad_params_data_and_model_files_are_one_line_and_change_nothing(
    workspace, stage, params, damage, message
):
    for section, values in params.items():
        set_params(workspace, section, **values)
    if damage:
        damage(workspace)
    before = digests(workspace, STAGE_OUTPUTS[stage])
    result = run_stage_script(workspace, stage)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    # one line, or for params one line per problem under the error line
    error = result.stderr[result.stderr.index(f"{stage}: error: ") :].strip().splitlines()
    assert message in error[0] or error[0].endswith("invalid params.yaml:") and message in error[1]
    assert len(error) <= 2, error
    assert digests(workspace, STAGE_OUTPUTS[stage]) == before
    assert litter(workspace) == []


def test_running_out_of_memory_is_one_line_naming_the_sizes_to_lower(workspace):
    result = run_with_fault(
        workspace, "train", "raise MemoryError()", 1, "sentiment.model.build_model"
    )
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("train: error: out of memory: lower the sizes in params.yaml (train.units")
    )
    assert litter(workspace) == []
