"""Research results are files, and the documents' tables are generated from them."""

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from lab import results
from sentiment import evaluation
from sentiment.io import PipelineError

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_research_tables_are_what_the_result_files_give(monkeypatch):
    monkeypatch.chdir(ROOT)
    results.render(check=True)  # raises when a table in the documents differs


def test_a_number_typed_into_a_generated_table_is_caught(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    doc = tmp_path / "research.md"
    text = (ROOT / "docs/research.md").read_text(encoding="utf-8")
    first = results.runs()[next(iter(results.runs()))]["metrics"]["accuracy"]
    shown = f"{100 * first:.2f}"
    assert shown in text
    doc.write_text(text.replace(shown, "99.99", 1), encoding="utf-8")
    with pytest.raises(PipelineError, match="make results"):
        results.render(check=True, documents=[doc])
    results.render(check=False, documents=[doc])
    assert doc.read_text(encoding="utf-8") == text


def _predictions(path: Path, labels: np.ndarray, prob_pos: np.ndarray) -> Path:
    ids = [f"review{i:04d}" for i in range(len(labels))]
    evaluation.write_predictions(path, ids, labels, prob_pos)
    return path


def _record(root: Path, name: str, split: str, predictions: Path, metrics: Path, model: str,
            shared_with: str | None = None):
    args = argparse.Namespace(
        model=model, split=split, label=name, predictions=predictions, metrics=metrics,
        params=metrics, environment=None, gpu_run=None, seed=0, command="", differs=[],
        shared_with=shared_with,
    )
    return results.record(name, args, root)


def test_runs_on_one_split_are_paired_review_by_review_and_tables_follow(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    good = np.where(labels == 1, 0.9, 0.1)
    noisy = np.where(rng.random(400) < 0.3, 1 - good, good)
    metrics = tmp_path / "m.json"
    root = tmp_path / "results"
    for name, probs, split, model in (("strong", good, "official", "bilstm"),
                                      ("weak", noisy, "official", "nbsvm"),
                                      ("elsewhere", good, "random", "nbsvm")):
        metrics.write_text(json.dumps(evaluation.test_metrics(labels, np.c_[1 - probs, probs])))
        _record(root, name, split, _predictions(tmp_path / f"{name}.csv", labels, probs),
                metrics, model, shared_with="weak" if name == "strong" else None)
    results.pair(root)
    strong = json.loads((root / "strong/paired.json").read_text())
    assert set(strong) == {"weak"}  # not the run on the other split
    assert strong["weak"]["change"] > 0.2 and strong["weak"]["verdict"] == "better"
    table = results.headline(root, "official")
    assert "`weak`" in table and "BiLSTM +" in table and "**better**" in table  # BiLSTM − weak
    assert "`elsewhere`" not in table
    generated = results.blocks(root)
    assert {"headline-official", "headline-random", "curve-random", "tuning-random"} <= set(
        generated)
    assert "`elsewhere`" in generated["headline-random"]
    assert "GPU shared with `weak`" in generated["runs"]  # its seconds are not clean


def test_predictions_that_are_not_the_recorded_ones_are_not_paired(tmp_path, capsys):
    labels = np.array([0, 1] * 50)
    metrics = tmp_path / "m.json"
    metrics.write_text(json.dumps(evaluation.test_metrics(labels, np.c_[1 - labels, labels])))
    root = tmp_path / "results"
    for name in ("a", "b"):
        _record(root, name, "official",
                _predictions(tmp_path / f"{name}.csv", labels, labels * 0.8 + 0.1), metrics,
                "nbsvm")
    shutil.copyfile(tmp_path / "a.csv", root / "b/predictions.csv")
    with (root / "b/predictions.csv").open("a") as file:
        file.write("extra,1,0.5\n")
    results.pair(root)
    assert "not the recorded one; b not paired" in capsys.readouterr().err
    assert json.loads((root / "a/paired.json").read_text()) == {}


def test_a_run_name_that_is_not_a_plain_folder_name_is_refused(tmp_path):
    with pytest.raises(PipelineError, match="run name"):
        results.record("../escape", argparse.Namespace(), tmp_path)
