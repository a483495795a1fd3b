"""dvc.lock cannot record params that did not make a stage's outputs."""

import json

import yaml
from helpers import dvc, stages_run

from sentiment import provenance

# The window: DVC reads params.yaml for dvc.lock after the stage's command exits. This
# command edits params.yaml right there, once, as a researcher setting up the next run would.
WINDOW = """
import pathlib, yaml
flag = pathlib.Path("edit-in-window")
if flag.exists():
    params = yaml.safe_load(open("params.yaml"))
    params["baseline"]["max_iter"] = 999
    pathlib.Path("params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    flag.unlink()
"""


def open_window_after(workspace, stage):
    (workspace / "window.py").write_text(WINDOW)
    stages = yaml.safe_load((workspace / "dvc.yaml").read_text())
    stages["stages"][stage]["cmd"] += " && python window.py"
    (workspace / "dvc.yaml").write_text(yaml.safe_dump(stages, sort_keys=False))


def test_an_edit_after_publishing_is_caught_by_the_next_repro_and_fixed_as_it_says(workspace):
    open_window_after(workspace, "baseline")  # a linear model: no TensorFlow to start
    (workspace / "edit-in-window").touch()
    assert stages_run(dvc(workspace, "repro")) == ["baseline"]  # the window opened
    lock = yaml.safe_load((workspace / "dvc.lock").read_text())
    assert lock["stages"]["baseline"]["params"]["params.yaml"]["baseline.max_iter"] == 999
    used = json.loads((workspace / "data/params_used/baseline.json").read_text())
    assert used["baseline.max_iter"] == 1000  # what really made the outputs

    assert provenance.lock_mismatches(workspace) == [
        "baseline: dvc.lock records baseline.max_iter=999 (made with 1000)"
    ]
    caught = dvc(workspace, "repro", check=False)
    assert caught.returncode != 0
    assert "check_params: error: dvc.lock records params that did not make these outputs" in (
        caught.stderr
    )
    assert "`dvc repro -f -s baseline`, then `dvc repro`" in caught.stderr

    assert stages_run(dvc(workspace, "repro", "-f", "-s", "baseline")) == ["baseline"]
    assert stages_run(dvc(workspace, "repro")) == ["check_params"]
    assert provenance.lock_mismatches(workspace) == []
    assert "Data and pipelines are up to date" in dvc(workspace, "status").stdout


def test_a_record_that_is_not_the_locked_one_proves_nothing(workspace):
    record = workspace / "data/params_used/evaluate.json"
    record.unlink()
    assert provenance.lock_mismatches(workspace) == []  # not pulled: nothing to check
    record.write_text(json.dumps({"evaluate.batch_size": 1}))
    assert provenance.lock_mismatches(workspace) == []  # another revision's: MD5 differs


def test_every_stage_but_check_params_records_the_values_it_used(reproduced):
    lock = provenance.read_lock(reproduced / "dvc.lock")
    for stage, entry in lock.items():
        if stage == "check_params":
            continue
        used = json.loads((reproduced / f"data/params_used/{stage}.json").read_text())
        locked = entry["params"]["params.yaml"]
        assert {k: used.get(k, "missing") for k in locked} == locked, stage
