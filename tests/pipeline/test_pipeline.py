"""The real `dvc repro` in a real Git repo, on the synthetic sample with tiny params."""

import json
import re

import pandas as pd
import yaml
from helpers import dvc, run, set_params, stage_script, stages_run

from sentiment import text


def test_repro_writes_every_output_and_leaves_the_pipeline_up_to_date(reproduced):
    for name in [
        "data/prepared/train.parquet",
        "data/encoded/x_train.npy",
        "models/vocab.json",
        "data/embedding_matrix.npy",
        "models/model.keras",
        "metrics/plots/bilstm/roc.csv",
        "metrics/plots/baseline/confusion.csv",
        "metrics/plots/nbsvm/precision_recall.csv",
    ]:
        assert (reproduced / name).is_file(), name
    metrics = json.loads((reproduced / "metrics/evaluate.json").read_text())
    assert 0.5 < metrics["accuracy"] <= 1.0 and set(metrics) >= {
        "loss",
        "roc_auc",
        "f1_macro",
        "neg",
        "pos",
    }
    training = (reproduced / "metrics/plots/training.csv").read_text().splitlines()
    epochs = yaml.safe_load((reproduced / "params.yaml").read_text())["train"]["epochs"]
    assert training[0] == "epoch,accuracy,loss,val_accuracy,val_loss"
    assert len(training) == 1 + epochs  # a row an epoch
    assert "Data and pipelines are up to date" in dvc(reproduced, "status").stdout
    assert stages_run(dvc(reproduced, "repro")) == []


def test_metrics_show_lists_the_bilstm_and_the_baseline(reproduced):
    shown = json.loads(dvc(reproduced, "metrics", "show", "--json").stdout)
    files = next(iter(shown.values()))["data"]
    software = files["metrics/train.json"]["data"]["software"]
    import keras
    import tensorflow as tf

    assert (software["tensorflow"], software["keras"]) == (tf.__version__, keras.__version__)
    assert files["metrics/train.json"]["data"]["device"] == "CPU"
    assert files["metrics/evaluate.json"]["data"]["accuracy"] > 0.5
    assert files["metrics/baseline.json"]["data"]["accuracy"] > 0.5
    embed = files["metrics/embed.json"]["data"]
    assert embed["coverage"] > 0.5 and 0.5 < embed["token_coverage"] <= 1


def test_a_stage_prints_its_result_without_tensorflow_start_up_noise(workspace):
    result = stage_script(workspace, "evaluate")
    assert result.returncode == 0
    assert result.stdout.startswith("evaluate: accuracy ")
    assert "I0000" not in result.stderr and "E0000" not in result.stderr, result.stderr


def test_max_seq_change_does_not_rerun_embed(workspace):
    set_params(workspace, "encode", max_seq=40)
    # the vocabulary is the same bytes, so embed (which reads it) is not re-run; what reads
    # the arrays is (max_vocab re-runs everything below encode: test_faults.py)
    assert stages_run(dvc(workspace, "repro", "embed")) == ["check_params", "encode"]
    assert "train:" in dvc(workspace, "status").stdout


def test_mistyped_key_fails_the_run_with_one_clear_line(workspace):
    set_params(workspace, "train", learnig_rate=0.003)
    result = dvc(workspace, "repro", check=False)
    assert result.returncode != 0
    assert "train.learnig_rate: unknown key (a typo?)" in result.stderr
    assert "Traceback" not in result.stderr


def test_targeted_repro_of_train_stops_on_a_mistyped_key_in_check_params(workspace):
    set_params(workspace, "train", learning_rate=0.003, learnig_rate=0.003)
    result = dvc(workspace, "repro", "train", check=False)
    assert result.returncode != 0
    assert stages_run(result) == ["check_params"]
    assert "train.learnig_rate: unknown key (a typo?)" in result.stderr


def test_check_params_marker_never_changes_so_valid_edits_rerun_only_their_stages(workspace):
    marker = (workspace / "data/params_checked.txt").read_bytes()
    set_params(workspace, "baseline", C=2.0)
    assert stages_run(dvc(workspace, "repro", "baseline")) == ["check_params", "baseline"]
    assert (workspace / "data/params_checked.txt").read_bytes() == marker
    assert stages_run(dvc(workspace, "repro")) == []


def test_invalid_value_stops_the_stage_before_it_writes(workspace):
    written = ["models/model.keras", "metrics/train.json", "models/live/metrics.json"]
    before = {name: (workspace / name).read_bytes() for name in written}  # train's outputs
    set_params(workspace, "train", dropout=1.5)
    result = run(workspace, "python", "-m", "stages.train", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "train: error: invalid params.yaml:",
        "  train.dropout: got 1.5; expected a number in [0, 1)",
    ]
    assert {name: (workspace / name).read_bytes() for name in written} == before


def test_official_split_with_corpus_trained_vectors_prepares_and_embeds(workspace):
    set_params(workspace, "prepare", split="official", unlabelled=True)
    set_params(workspace, "embed", vectors="corpus", dim=16, epochs=2, min_count=1)
    set_params(workspace, "encode", strip_html=True)
    dvc(workspace, "repro", "embed")  # what follows reads arrays of the same shapes
    stats = json.loads((workspace / "metrics/data.json").read_text())
    # the sample's planted duplicates: 2 within train, 5 test copies of train reviews
    assert stats["reviews"] == {"train": 598, "test": 595, "unlabelled": 200}
    assert stats["dropped"] == {"empty": 0, "duplicates": 2, "test_in_train": 5}
    embed = json.loads((workspace / "metrics/embed.json").read_text())
    # train + unlabelled (no test), tokenized as encode does: `<br />` gone, so no word "br"
    corpus = [
        text.words(text.clean(t, strip_html=True))
        for name in ("train", "unlabelled")
        for t in pd.read_parquet(workspace / f"data/prepared/{name}.parquet")["text"]
    ]
    distinct = {w for words in corpus for w in words}
    assert "br" not in distinct
    assert embed["source"]["revision"] == f"corpus:798 reviews, {len(distinct)} words"
    assert embed["coverage"] > 0.9


def mermaid_edges(text: str) -> set[tuple[str, str]]:
    """Edges of `a --> b & c` lines (README) or `nodeN-->nodeM` lines (`dvc dag --mermaid`)."""
    names = dict(re.findall(r'(node\d+)\["(\w+)"\]', text))
    edges = set()
    for left, right in re.findall(r"^\s*([\w ]+?)\s*-->\s*([\w &]+?)\s*$", text, re.MULTILINE):
        for target in right.split("&"):
            edges.add((names.get(left, left), names.get(target.strip(), target.strip())))
    return edges


def test_the_readmes_pipeline_graph_is_dvc_dag(reproduced):
    readme = (reproduced / "README.md").read_text()
    block = mermaid_edges(readme.split("```mermaid")[1].split("```")[0])
    dag = mermaid_edges(dvc(reproduced, "dag", "--mermaid").stdout)
    # among the stages the README draws, the same edges (a stage added since is not drawn)
    drawn = {stage for edge in block for stage in edge}
    assert block == {(a, b) for a, b in dag if a in drawn and b in drawn}
    assert ("check_params", "train") in dag


def imported_modules(path, root):
    """Every `sentiment` module a file imports, directly or through other modules."""
    import ast

    found, todo = set(), [path]
    while todo:
        tree = ast.parse((root / todo.pop()).read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "sentiment":
                    names = [f"sentiment.{alias.name}" for alias in node.names]
                else:
                    names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                file = name.replace(".", "/") + ".py"
                if name.startswith("sentiment.") and file not in found:
                    found.add(file)
                    todo.append(file)
    return found


def test_every_stages_code_deps_are_exactly_the_modules_its_script_imports():
    from lab.demo import ROOT

    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        script = f"stages/{name}.py"
        code_deps = {d for d in stage["deps"] if d.endswith(".py")}
        if "stages" in stage["deps"]:  # every script (check_params reads their rules)
            code_deps.add(script)
        assert code_deps == {script} | imported_modules(script, ROOT), name
