"""Metrics and plot files in the one schema shared by every model."""

import csv
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentiment import evaluation
from sentiment.io import PipelineError

LABELS = np.array([0, 0, 1, 1, 1])
PROBS = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])


def test_metrics_count_what_they_claim():
    m = evaluation.test_metrics(LABELS, PROBS)
    assert m["accuracy"] == pytest.approx(3 / 5)
    # neg: predicted {0, 4}, right on 0 -> precision 1/2, recall 1/2
    assert m["neg"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    # pos: predicted {1, 2, 3}, right on 2, 3 -> precision 2/3, recall 2/3
    assert m["pos"]["precision"] == pytest.approx(2 / 3, abs=1e-6)
    assert m["f1_macro"] == pytest.approx((0.5 + 2 / 3) / 2, abs=1e-6)
    # ROC AUC: of the 6 (pos, neg) pairs, pos scores higher in 5
    assert m["roc_auc"] == pytest.approx(5 / 6, abs=1e-6)
    expected_loss = -np.mean(np.log(PROBS[np.arange(5), LABELS]))
    assert m["loss"] == pytest.approx(expected_loss, abs=1e-6)


def read(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_plot_files_hold_confusion_rows_and_curves(tmp_path):
    evaluation.write_plots(tmp_path, LABELS, PROBS)
    confusion = read(tmp_path / "confusion.csv")
    assert confusion[0] == ["actual", "predicted"]
    assert confusion[1:] == [
        ["neg", "neg"],
        ["neg", "pos"],
        ["pos", "pos"],
        ["pos", "pos"],
        ["pos", "neg"],
    ]
    roc = read(tmp_path / "roc.csv")
    assert roc[0] == ["fpr", "tpr"] and roc[1] == ["0.0", "0.0"] and roc[-1] == ["1.0", "1.0"]
    assert read(tmp_path / "precision_recall.csv")[0] == ["recall", "precision"]


def test_long_curves_are_thinned_but_keep_their_ends(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 5000)
    p = rng.random(5000)
    evaluation.write_plots(tmp_path, labels, np.stack([1 - p, p], axis=1))
    roc = read(tmp_path / "roc.csv")
    assert len(roc) - 1 <= evaluation.MAX_CURVE_POINTS
    assert roc[1] == ["0.0", "0.0"] and roc[-1] == ["1.0", "1.0"]


def test_training_curve_joins_train_and_validation_by_epoch(tmp_path):
    live = tmp_path / "live" / "plots" / "metrics"
    values = {
        ("train", "accuracy"): ("0.6", "0.8"),
        ("train", "loss"): ("0.9", "0.4"),
        ("eval", "accuracy"): ("0.5", "0.7"),
        ("eval", "loss"): ("1.1", "0.6"),
    }
    for (split, metric), column in values.items():
        (live / split).mkdir(parents=True, exist_ok=True)
        # the value column is found by name, wherever DVCLive puts it
        rows = "".join(f"{metric}-{i}\t{v}\t{i}\n" for i, v in enumerate(column))
        (live / split / f"{metric}.tsv").write_text(f"timestamp\t{metric}\tstep\n{rows}")
    from sentiment import training

    training.write_training_curve(tmp_path / "live", tmp_path / "training.csv")
    assert read(tmp_path / "training.csv") == [
        ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"],
        ["1", "0.6", "0.9", "0.5", "1.1"],
        ["2", "0.8", "0.4", "0.7", "0.6"],
    ]


def test_baseline_probabilities_separate_the_classes_it_was_fit_on():
    from sentiment import baseline

    train = ["a superb moving film", "superb acting", "a dull boring film", "boring and dull"] * 5
    labels = np.array([1, 1, 0, 0] * 5)
    probs = baseline.fit_predict(
        train,
        labels,
        ["superb film", "dull film"],
        ngram_max=2,
        min_df=1,
        max_features=None,
        C=4.0,
        max_iter=100,
    )
    assert probs.shape == (2, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert probs[0, 1] > 0.5 > probs[1, 1]


def test_metrics_carry_intervals_around_the_point_estimates():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 400)
    pos = np.clip(labels * 0.4 + rng.random(400) * 0.6, 0, 1)
    m = evaluation.test_metrics(labels, np.column_stack([1 - pos, pos]))
    for key in ("accuracy", "f1_macro", "roc_auc"):
        assert m[f"{key}_ci"]["low"] <= m[key] <= m[f"{key}_ci"]["high"]
        assert m[f"{key}_ci"]["low"] < m[f"{key}_ci"]["high"]


def test_predictions_round_trip_exactly_with_text_hash_ids(tmp_path):
    texts = ["A fine film.", "Awful.", "A fine film."]
    ids = evaluation.review_ids(texts)
    assert ids[2] == ids[0] + "-2" != ids[1] and len(ids[0]) == 16  # a repeat stays unique
    probs = np.array([0.1234567, 0.9, 1 / 3], dtype=np.float32)
    evaluation.write_predictions(tmp_path / "p.csv", ids, np.array([1, 0, 1]), probs)
    frame = evaluation.read_predictions(tmp_path / "p.csv")
    assert list(frame.columns) == ["id", "label", "prob_pos"]
    assert list(frame["id"]) == ids and list(frame["label"]) == [1, 0, 1]
    assert np.array_equal(frame["prob_pos"].to_numpy().astype(np.float32), probs)


CELLS = st.one_of(
    st.integers(-2, 3).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet='abc0123456789.,-"e ', max_size=6),
)


@settings(max_examples=100, deadline=None)
@given(
    header=st.sampled_from(["id,label,prob_pos", "id,prob_pos,label", "id,label", "x"]),
    rows=st.lists(st.tuples(CELLS, CELLS, CELLS), max_size=6),
)
def test_any_predictions_file_is_read_only_when_it_keeps_the_contract(header, rows):
    content = header + "\n" + "".join(",".join(row) + "\n" for row in rows)
    try:
        frame = evaluation.read_predictions(io.StringIO(content), "p.csv")
    except PipelineError as error:
        assert str(error).startswith("p.csv ") and "\n" not in str(error)
        return
    assert list(frame.columns) == ["id", "label", "prob_pos"]
    assert frame["id"].is_unique and set(frame["label"]) <= {0, 1}
    probs = frame["prob_pos"].to_numpy()
    assert np.isfinite(probs).all() and ((probs >= 0) & (probs <= 1)).all()


def test_the_same_reviews_in_another_order_pair_and_disagreeing_labels_are_refused():
    head = pd.DataFrame({"id": ["a", "b", "c"], "label": [1, 0, 1], "prob_pos": [0.9, 0.2, 0.6]})
    shuffled = head.iloc[[2, 0, 1]].reset_index(drop=True)
    aligned, _ = evaluation.paired(head, shuffled)
    assert list(aligned["id"]) == ["a", "b", "c"] and list(aligned["prob_pos"]) == [0.9, 0.2, 0.6]
    other, why = evaluation.paired(head, head.iloc[:2])
    assert other is None and "the test sets differ (2 vs 3 reviews)" in why
    lying = shuffled.assign(label=[1, 0, 0])
    with pytest.raises(PipelineError, match=r"different labels to 1 of the same reviews"):
        evaluation.paired(head, lying)
