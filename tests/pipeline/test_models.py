"""A model is a stage: discovered from dvc.yaml, owning its params, and in every table."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import dvc, make, run, stages_run

from sentiment import pipeline

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs/models.md"


def worked_example() -> tuple[list[str], str, str]:
    """docs/models.md's worked example: (its first bash block, dvc.yaml block, params block)."""
    text = DOC.read_text(encoding="utf-8").split("## Worked example", 1)[1]
    bash = re.findall(r"```bash\n(.*?)```", text, re.S)
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    return bash[0].strip().splitlines(), blocks[0], blocks[1]


def add_stage(workspace: Path, block: str) -> None:
    """Paste a stage block under `stages:` in dvc.yaml, as a user does in an editor."""
    pipeline_file = workspace / "dvc.yaml"
    document = yaml.safe_load(pipeline_file.read_text())
    document["stages"].update(yaml.safe_load(block))
    pipeline_file.write_text(yaml.safe_dump(document, sort_keys=False))


def apply_worked_example(folder: Path, commands: bool = True) -> None:
    """docs/models.md's worked example, as a contributor applies it: its commands (the
    script), its stage block pasted into dvc.yaml, its section appended to params.yaml.
    Where the project already holds it (a clone that applied it), it is taken out first
    (`dvc remove`, its section and script), so the example applies as the doc says."""
    script, stage_block, params_block = worked_example()
    (name,) = yaml.safe_load(stage_block)
    if name in yaml.safe_load((folder / "dvc.yaml").read_text())["stages"]:
        from dvc.utils.serialize import modify_yaml

        for file, section in (("dvc.yaml", "stages"), ("dvc.lock", "stages"),
                              ("params.yaml", None)):
            if (folder / file).is_file():
                with modify_yaml(folder / file) as document:
                    (document[section] if section else document).pop(name, None)
        (folder / f"stages/{name}.py").unlink(missing_ok=True)
    for command in script if commands else []:
        run(folder, "bash", "-c", command)
    add_stage(folder, stage_block)
    with (folder / "params.yaml").open("a") as file:
        file.write("\n" + params_block)


def test_the_models_are_the_stages_that_publish_predictions_and_metrics():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    publishing = {
        out.removeprefix("data/predictions/").removesuffix(".csv")
        for stage in stages.values() for out in stage.get("outs", [])
        if isinstance(out, str) and out.startswith("data/predictions/") and stage.get("metrics")
    }
    found = pipeline.models(ROOT / "dvc.yaml")
    assert set(found) == publishing and len(found) >= 2
    assert found["bilstm"] == ("data/predictions/bilstm.csv", "metrics/evaluate.json")


def test_the_worked_example_adds_a_variant_that_alone_runs_and_shows_up_everywhere(workspace):
    committed = yaml.safe_load(run(workspace, "git", "show", "HEAD:dvc.yaml").stdout)
    apply_worked_example(workspace)
    # no run-cache: where the project already held the example, it ran before (and then
    # params.yaml and stages/ are as they were: check_params has nothing to check)
    ran = stages_run(dvc(workspace, "repro", "--no-run-cache"))
    assert ran[-1:] == ["nbsvm_tri"] and set(ran) <= {"check_params", "nbsvm_tri"}
    assert "up to date" in dvc(workspace, "status").stdout
    assert (workspace / "metrics/plots/nbsvm_tri/roc.csv").is_file()

    models = make(workspace, "models").stdout
    assert "| nbsvm (base) vs nbsvm_tri (head) |" in models
    assert "| bilstm (base) vs nbsvm_tri (head) |" in models
    assert (workspace / "dvc_plots/roc-every-model.png").stat().st_size > 1000

    report = run(workspace, sys.executable, "-m", "lab.report", "--base", "HEAD").stdout
    if "nbsvm_tri" not in committed["stages"]:  # the doc's case: a project without it
        assert "- **nbsvm_tri**: new in this branch" in report
    else:  # a clone that had already applied it: paired with its committed results
        assert "| nbsvm_tri |" in report


def test_a_new_key_in_one_stages_section_stales_only_that_stage(workspace):
    script = workspace / "stages/baseline.py"
    text = script.read_text()
    text = text.replace('PARAMS = {\n', 'PARAMS = {\n    "note": params.text(),\n', 1)
    text = text.replace("params.read_section(SECTION, PARAMS)",
                        "params.read_section(SECTION, PARAMS)\n    p.pop(\"note\")", 1)
    script.write_text(text)
    params_file = workspace / "params.yaml"
    params_file.write_text(params_file.read_text().replace("baseline:\n",
                                                           "baseline:\n  note: trigrams next\n"))
    assert stages_run(dvc(workspace, "repro")) == ["check_params", "baseline"]


def test_two_linear_models_are_paired_when_there_is_no_bilstm(workspace):
    document = yaml.safe_load((workspace / "dvc.yaml").read_text())
    del document["stages"]["evaluate"]  # a repo of linear models only
    (workspace / "dvc.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    models = subprocess.run([sys.executable, "-m", "lab.report", "--models"],
                            cwd=workspace, capture_output=True, text=True, check=True).stdout
    assert "| baseline (base) vs nbsvm (head) |" in models
    assert "bilstm" not in models


def test_predictions_that_are_not_the_ones_dvc_lock_names_are_refused(workspace):
    predictions = workspace / "data/predictions/nbsvm.csv"
    rows = predictions.read_text().splitlines()
    predictions.write_text("\n".join([rows[0], *reversed(rows[1:])]) + "\n")  # another file
    models = subprocess.run([sys.executable, "-m", "lab.report", "--models"],
                            cwd=workspace, capture_output=True, text=True)
    assert models.returncode != 0
    assert models.stderr.strip().splitlines() == [
        "report: error: data/predictions/nbsvm.csv is not the one dvc.lock names (its MD5 "
        "differs): `dvc checkout data/predictions/nbsvm.csv` (or `dvc pull`) first, or "
        "`dvc repro` to make it"]


def test_make_runs_is_one_narrow_row_per_experiment_with_every_models_interval(workspace):
    models = pipeline.models(workspace / "dvc.yaml")
    table = make(workspace, "runs").stdout.strip().splitlines()
    assert table[0] == "| experiment | " + " | ".join(  # no param varies between these rows
        f"{name} acc % (95% CI)" for name in models) + " |"
    workspace_row = next(row for row in table if row.startswith("| workspace |"))
    assert workspace_row.count("–") == len(models)
    assert max(len(row) for row in table) < 40 * len(models)


def test_the_worked_example_applied_to_the_project_needs_no_test_edited(tmp_path):
    """docs/models.md applied to a copy of the project as a contributor's clone has it:
    the tests that read dvc.yaml, params.yaml and the package layout pass there unchanged."""
    import shutil

    from lab.demo import project_files

    clone = tmp_path / "clone"
    for name in project_files():
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, clone / name)
    apply_worked_example(clone)
    structure = ["tests/unit/test_layout.py", "tests/unit/test_params.py",
                 "tests/pipeline/test_pipeline.py::"
                 "test_every_stages_code_deps_are_exactly_the_modules_its_script_imports",
                 "tests/pipeline/test_models.py::"
                 "test_the_models_are_the_stages_that_publish_predictions_and_metrics"]
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             *structure], cwd=clone, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert " passed" in result.stdout and "nbsvm_tri" in (clone / "dvc.yaml").read_text()


def test_a_model_stage_that_never_ran_is_not_paired_from_a_hand_made_file(workspace):
    apply_worked_example(workspace, commands=False)  # its block and section, never run
    predictions = workspace / "data/predictions/nbsvm_tri.csv"
    predictions.write_text((workspace / "data/predictions/bilstm.csv").read_text())
    models = make(workspace, "models").stdout
    assert "- **nbsvm_tri**: dvc.lock does not name data/predictions/nbsvm_tri.csv" in models
    assert "nbsvm_tri (head)" not in models


@pytest.mark.parametrize("how", [["--models"], ["--experiments"], ["--runs"],
                                 ["--base", "HEAD"]])
def test_every_report_refuses_a_committed_link_before_dvc_reads_it(workspace, how):
    metrics = workspace / "metrics/evaluate.json"
    metrics.unlink()
    metrics.symlink_to("/dev/zero")
    run(workspace, "git", "add", "-A")
    run(workspace, "git", "commit", "-qm", "a link to /dev/zero")
    result = subprocess.run([sys.executable, "-m", "lab.report", *how], cwd=workspace,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "report: error: this commit holds symbolic links (`metrics/evaluate.json`), which can "
        "point at any file of the machine that reads it, so nothing of it was read: commit "
        "the files themselves instead of links"]
