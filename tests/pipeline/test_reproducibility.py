"""Same inputs, same bytes (a trained model's: tests/pipeline/test_checkpoint.py); artifacts
round-trip through a remote; experiments and reports."""

import json
import sys

import yaml
from helpers import DATA_OUTPUTS, digests, dvc, run, set_params, stages_run


def test_prepare_encode_embed_rewrite_identical_bytes(workspace):
    before = digests(workspace, DATA_OUTPUTS)
    ran = stages_run(dvc(workspace, "repro", "-f", "-s", "prepare", "encode", "embed"))
    assert ran == ["prepare", "encode", "embed"]
    assert digests(workspace, DATA_OUTPUTS) == before
    assert "up to date" in dvc(workspace, "status").stdout


def test_going_back_to_a_setting_restores_embed_and_a_model_from_the_run_cache(workspace):
    outputs = [
        "data/embedding_matrix.npy",
        "metrics/embed.json",
        "metrics/baseline.json",
        "metrics/plots/baseline/roc.csv",
        "data/predictions/baseline.csv",
    ]
    before = digests(workspace, outputs)
    C = yaml.safe_load((workspace / "params.yaml").read_text())["baseline"]["C"]
    set_params(workspace, "embed", seed=1)  # unused by loaded vectors: nothing below re-runs
    set_params(workspace, "baseline", C=C / 2)
    assert stages_run(dvc(workspace, "repro")) == ["check_params", "embed", "baseline"]
    set_params(workspace, "embed", seed=0)
    set_params(workspace, "baseline", C=C)
    back = dvc(workspace, "repro")
    # check_params' marker is `persist: true` (kept when a bad edit is refused), which DVC
    # never restores from the run-cache: it re-runs, in about a second; nothing else does
    assert stages_run(back) == ["check_params"]
    for name in ("embed", "baseline"):
        assert f"Stage '{name}' is cached - skipping run, checking out outputs" in back.stdout
    assert digests(workspace, outputs) == before


def test_push_then_fresh_clone_pull_is_up_to_date_and_reruns_nothing(workspace, tmp_path):
    remote = tmp_path / "remote"
    dvc(workspace, "remote", "add", "-d", "storage", str(remote))
    run(workspace, "git", "commit", "-qam", "add a remote")
    dvc(workspace, "push", "--run-cache")
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", str(workspace), str(clone))
    assert not (clone / "models/model.keras").exists()
    dvc(clone, "pull", "--run-cache")
    assert (clone / "models/model.keras").is_file()
    assert "Data and pipelines are up to date" in dvc(clone, "status").stdout
    assert stages_run(dvc(clone, "repro")) == []

    fresh = tmp_path / "fresh"
    run(tmp_path, "git", "clone", "-q", str(workspace), str(fresh))
    set_params(fresh, "baseline", C=3.0)
    ran = stages_run(dvc(fresh, "repro", "--pull", "--allow-missing"))
    assert ran == ["check_params", "baseline"]
    assert (fresh / "data/prepared/train.parquet").is_file()  # pulled, not recomputed
    # --allow-missing leaves what no stale stage needed unpulled; `dvc pull` fetches it (the
    # remote has it: nothing recomputed), and the workspace is then publishable
    dvc(fresh, "pull")
    published = run(fresh, sys.executable, "-m", "lab.branch", "publish")
    assert "publish: pushed to the DVC remote" in published.stdout
    assert stages_run(dvc(fresh, "repro")) == []


def test_exp_run_set_param_shows_in_exp_show_and_diff(workspace):
    dvc(workspace, "exp", "run", "-S", "baseline.C=3.0", "-n", "c3")
    shown = json.loads(dvc(workspace, "exp", "show", "--json").stdout)
    exps = [e for rev in shown for e in (rev.get("experiments") or [])]
    names = {e.get("name") for e in exps}
    assert "c3" in names
    diff = dvc(workspace, "exp", "diff", "HEAD", "c3").stdout
    assert "baseline.C" in diff and "metrics/baseline.json" in diff  # a metric moved


def test_exp_run_with_a_mistyped_key_fails(workspace):
    # DVC refuses `-S train.learnig_rate=…` itself; `-S +key=…` appends it, and would then
    # re-run nothing: check_params is what fails the run.
    refused = dvc(workspace, "exp", "run", "-S", "train.learnig_rate=0.003", check=False)
    assert refused.returncode != 0 and "learnig_rate" in refused.stderr
    result = dvc(workspace, "exp", "run", "-S", "+train.learnig_rate=0.003", check=False)
    assert result.returncode != 0
    assert "train.learnig_rate: unknown key (a typo?)" in result.stdout + result.stderr


def test_publish_names_edited_code_it_did_not_stage(workspace, tmp_path):
    dvc(workspace, "remote", "add", "-d", "storage", str(tmp_path / "remote"))
    run(workspace, "git", "commit", "-qam", "a remote")
    code = workspace / "sentiment/baseline.py"
    code.write_text(code.read_text() + "\n# a new idea\n")
    dvc(workspace, "repro")
    published = run(workspace, sys.executable, "-m", "lab.branch", "publish").stdout
    assert "also changed, not staged: sentiment/baseline.py (`git add` what made" in published
