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


def test_every_committed_number_is_recomputed_and_the_tables_are_what_the_files_give(
    monkeypatch
):
    """Each kept predictions file gives its run's metrics and its pairs exactly, every other
    number agrees with its counts, and the documents' tables are the files' (one pass: the
    bootstrap intervals of 20 runs and their pairs take about 10 s)."""
    monkeypatch.chdir(ROOT)
    results.render(check=True)  # raises on any inconsistency or a table that differs


def test_a_number_typed_into_a_generated_table_is_caught(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    doc = tmp_path / "research.md"
    text = (ROOT / "docs/research.md").read_text(encoding="utf-8")
    first = results.runs()[next(iter(results.runs()))]["metrics"]["accuracy"]
    shown = f"{100 * first:.2f}"
    start = text.index("\n<!-- results:")  # a number inside a generated block
    assert shown in text[start:]
    doc.write_text(text[:start] + text[start:].replace(shown, "99.99", 1), encoding="utf-8")
    with pytest.raises(PipelineError, match="make results"):
        results.render(check=True, documents=[doc], recompute=False)
    results.render(check=False, documents=[doc], recompute=False)
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


def test_predictions_that_are_not_the_recorded_ones_are_refused(tmp_path):
    import lzma

    labels = np.array([0, 1] * 50)
    metrics = tmp_path / "m.json"
    metrics.write_text(json.dumps(evaluation.test_metrics(labels, np.c_[1 - labels, labels])))
    root = tmp_path / "results"
    for name in ("a", "b"):
        _record(root, name, "official",
                _predictions(tmp_path / f"{name}.csv", labels, labels * 0.8 + 0.1), metrics,
                "nbsvm")
    kept = root / "b" / results.PREDICTIONS
    kept.write_bytes(lzma.compress(lzma.decompress(kept.read_bytes()) + b"extra,1,0.5\n"))
    with pytest.raises(PipelineError, match="is not the predictions b/run.json names"):
        results.pair(root)


def test_committed_predictions_are_compact():
    kept = list((ROOT / "results").glob(f"*/{results.PREDICTIONS}"))
    assert kept and all(path.stat().st_size < 500_000 for path in kept)  # half a MB at most


def test_a_run_name_that_is_not_a_plain_folder_name_is_refused(tmp_path):
    with pytest.raises(PipelineError, match="run name"):
        results.record("../escape", argparse.Namespace(), tmp_path)


def _edited_copy(tmp_path, run: str, file: str, edit) -> Path:
    root = tmp_path / "results"  # without the predictions: the counts alone catch an edit
    shutil.copytree(ROOT / "results", root, ignore=shutil.ignore_patterns(results.PREDICTIONS))
    path = root / run / file
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))
    return root


@pytest.mark.parametrize("edit", ["accuracy-inside-interval", "accuracy-outside", "verdict",
                                  "change", "p", "one-side-of-a-pair"])
def test_a_hand_edited_result_is_caught(tmp_path, edit):
    run = "nbsvm-official-committed"

    def change(document):
        pair = document.get("bilstm-official-seed0-h200")
        if edit == "accuracy-inside-interval":
            document["metrics"]["accuracy"] = document["metrics"]["accuracy_ci"]["high"]
        elif edit == "accuracy-outside":
            document["metrics"]["accuracy"] = 0.95
        elif edit == "verdict":
            pair["verdict"] = "better"
        elif edit == "change":
            pair["change"] = -0.2
        elif edit == "p":
            pair["p_value"] = 0.001
        else:
            pair["change_ci"]["low"] -= 0.001

    root = _edited_copy(tmp_path, run, "run.json" if "accuracy" in edit else "paired.json",
                        change)
    assert results.inconsistencies(root)
    with pytest.raises(PipelineError, match="never edited"):
        results.render(check=True, root=root, documents=[])


def test_one_pair_has_one_interval_whichever_side_is_head():
    from sentiment import stats

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 300)
    a = np.clip(labels * 0.6 + rng.random(300) * 0.5, 0, 1)
    b = np.clip(labels * 0.5 + rng.random(300) * 0.55, 0, 1)
    assert stats.paired_comparison(labels, a, b) == stats.mirrored(
        stats.paired_comparison(labels, b, a))


@pytest.mark.parametrize("broken, says", [
    ("<!-- results:runs -->\n| typed |\n", "has no <!-- /results:runs --> after it"),
    ("<!-- results:runs -->\nx\n<!-- /results:runs -->\n<!-- results:runs -->\n"
     "<!-- /results:runs -->\n", "is there twice"),
    ("Prose quoting <!-- results:runs --> inline.\n", "inside other text"),
    ("<!-- /results:runs -->\n", "ends no open"),
])
def test_a_missing_doubled_or_quoted_marker_is_refused_and_nothing_is_written(
    tmp_path, monkeypatch, broken, says
):
    monkeypatch.chdir(ROOT)
    doc = tmp_path / "doc.md"
    doc.write_text("# Hand-written\n\nkept\n\n" + broken)
    before = doc.read_text()
    with pytest.raises(PipelineError, match=says):
        results.render(check=False, documents=[doc], recompute=False)
    assert doc.read_text() == before


def test_a_label_cannot_add_a_table_cell_a_row_or_a_marker():
    hostile = "TF-IDF | 99.99 | x\n| forged | <!-- /results:runs -->"
    shown = results.cell(hostile)
    assert "\n" not in shown and "<!--" not in shown and "-->" not in shown
    assert shown.count("|") == shown.count("\\|")  # every pipe escaped


def test_record_computes_metrics_refuses_other_ones_and_forgets_old_pairs(tmp_path):
    labels = np.array([0, 1] * 60)
    root = tmp_path / "results"
    good, poor = labels * 0.8 + 0.1, np.where(np.arange(120) % 3 == 0, 0.5, labels * 0.8 + 0.1)
    metrics = tmp_path / "m.json"
    for name, probs in (("a", good), ("b", poor)):
        metrics.write_text(json.dumps(evaluation.test_metrics(labels, np.c_[1 - probs, probs])))
        _record(root, name, "official", _predictions(tmp_path / f"{name}.csv", labels, probs),
                metrics, "nbsvm")
    results.pair(root)
    assert "b" in json.loads((root / "a/paired.json").read_text())
    metrics.write_text(json.dumps({**json.loads(metrics.read_text()), "accuracy": 0.99}))
    with pytest.raises(PipelineError, match="not what its predictions give"):
        _record(root, "b", "official", tmp_path / "b.csv", metrics, "nbsvm")
    metrics.write_text(json.dumps(evaluation.test_metrics(labels, np.c_[1 - good, good])))
    _record(root, "b", "official", _predictions(tmp_path / "b2.csv", labels, good), metrics,
            "nbsvm")  # recorded again, from other predictions: its old verdicts are gone
    assert "b" not in json.loads((root / "a/paired.json").read_text())
    assert not (root / "b/paired.json").exists()


def test_record_never_writes_through_a_link(tmp_path):
    labels = np.array([0, 1] * 10)
    outside = tmp_path / "outside.csv"
    outside.write_text("mine\n")
    root = tmp_path / "results"
    (root / "a").mkdir(parents=True)
    (root / "a" / results.PREDICTIONS).symlink_to(outside)
    metrics = tmp_path / "m.json"
    metrics.write_text(json.dumps(evaluation.test_metrics(labels, np.c_[1 - labels, labels])))
    with pytest.raises(PipelineError, match="symbolic link"):
        _record(root, "a", "official", _predictions(tmp_path / "p.csv", labels, labels * 1.0),
                metrics, "nbsvm")
    assert outside.read_text() == "mine\n"


def test_a_local_source_is_recorded_relative_to_the_repository(tmp_path, monkeypatch):
    repository, shared = tmp_path / "work/repo", tmp_path / "work/shared/imdb"
    repository.mkdir(parents=True)
    monkeypatch.chdir(repository)
    params = {"prepare": {"dataset": str(shared), "split": "official"}, "C": 1.0}
    assert results.portable(params) == {
        "prepare": {"dataset": "../shared/imdb", "split": "official"}, "C": 1.0}
    assert results.portable("stanfordnlp/imdb") == "stanfordnlp/imdb"  # a Hub id stays


def test_every_committed_run_names_its_sources_relative_to_the_repository(monkeypatch):
    monkeypatch.chdir(ROOT)

    def strings(value):
        if isinstance(value, dict):
            return [s for item in value.values() for s in strings(item)]
        return [value] if isinstance(value, str) else []

    for name, run in results.runs().items():
        named = strings({"params": run["params"], "inputs": run.get("inputs")})
        assert not [s for s in named if s.startswith("/")], name
        assert run["command"].startswith(("dvc ", "python ")), name  # a command, not prose
