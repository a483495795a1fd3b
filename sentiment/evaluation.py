"""Test-set metrics and plot data in one schema, shared by the BiLSTM and the baseline,
so `dvc metrics show` / `dvc metrics diff` list every model side by side."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sentiment import stats
from sentiment.data import LABEL_NAMES
from sentiment.io import PipelineError, atomic_path, outputs, write_json

if TYPE_CHECKING:  # imported where used: check_params imports this module, never needs it
    import pandas as pd

MAX_CURVE_POINTS = 500  # keeps ROC/PR plot files small enough for Git and PR diffs


def test_metrics(labels: np.ndarray, probs: np.ndarray) -> dict:
    """Accuracy, cross-entropy, ROC AUC, macro F1 and per-class scores, with 95% intervals.

    `probs` is (n, 2): the predicted probability of each class. A review is called `pos`
    when P(pos) > 0.5, the same rule the paired comparisons apply to saved predictions.
    """
    from sklearn.metrics import classification_report, log_loss, roc_auc_score

    predicted = stats.predicted_labels(probs[:, 1])
    report = classification_report(
        labels,
        predicted,
        labels=[0, 1],
        target_names=list(LABEL_NAMES),
        output_dict=True,
        zero_division=0,
    )
    metrics = {
        "accuracy": float(np.mean(predicted == labels)),
        "loss": float(log_loss(labels, probs, labels=[0, 1])),
        "roc_auc": float(roc_auc_score(labels, probs[:, 1])),
        "f1_macro": float(report["macro avg"]["f1-score"]),
    }
    for name in LABEL_NAMES:
        metrics[name] = {
            "precision": float(report[name]["precision"]),
            "recall": float(report[name]["recall"]),
            "f1": float(report[name]["f1-score"]),
            "support": int(report[name]["support"]),
        }
    metrics.update(stats.metric_intervals(labels, probs[:, 1]))
    return _rounded(metrics)


def _rounded(value):
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return round(value, 6) if isinstance(value, float) else value


def _thin(*columns: np.ndarray) -> list[tuple]:
    """At most MAX_CURVE_POINTS evenly spaced points, always keeping both ends."""
    n = len(columns[0])
    keep = np.unique(np.linspace(0, n - 1, min(n, MAX_CURVE_POINTS)).round().astype(int))
    return [tuple(round(float(c[i]), 6) for c in columns) for i in keep]


def write_csv(path: str | Path, header: list[str], rows) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)


def write_plots(folder: str | Path, labels: np.ndarray, probs: np.ndarray) -> None:
    """Confusion-matrix rows, ROC and precision-recall curves as CSV for `dvc plots`."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    folder = Path(folder)
    predicted = probs.argmax(axis=1)
    write_csv(
        folder / "confusion.csv",
        ["actual", "predicted"],
        ((LABEL_NAMES[a], LABEL_NAMES[p]) for a, p in zip(labels, predicted)),
    )
    fpr, tpr, _ = roc_curve(labels, probs[:, 1])
    write_csv(folder / "roc.csv", ["fpr", "tpr"], _thin(fpr, tpr))
    precision, recall, _ = precision_recall_curve(labels, probs[:, 1])
    write_csv(folder / "precision_recall.csv", ["recall", "precision"], _thin(recall, precision))


def review_ids(texts: Iterable[str]) -> list[str]:
    """A review's id is a hash of its text: the same review has the same id in any revision.
    A text repeated in one split (`prepare.dedupe: false`) gets `-2`, `-3`, … on its repeats,
    so ids stay unique and repeats still pair with the same repeats of another revision."""
    seen: dict[str, int] = {}
    ids = []
    for t in texts:
        digest = hashlib.blake2b(t.encode("utf-8"), digest_size=8).hexdigest()
        seen[digest] = seen.get(digest, 0) + 1
        ids.append(digest if seen[digest] == 1 else f"{digest}-{seen[digest]}")
    return ids


def write_predictions(path: str | Path, ids: list[str], labels: np.ndarray, prob_pos) -> None:
    """One row per test review (id, label, P(pos)), so two revisions compare review by review.

    P(pos) is written with `repr` of its float32 value, which reads back exactly.
    """
    rows = (
        (i, int(label), repr(float(np.float32(p)))) for i, label, p in zip(ids, labels, prob_pos)
    )
    write_csv(path, ["id", "label", "prob_pos"], rows)


def read_predictions(source, name: str = "predictions file") -> pd.DataFrame:
    """Predictions written by `write_predictions`, from a path or an open text file, checked
    against their contract: unique ids, labels 0/1, probabilities finite and in [0, 1]."""
    import pandas as pd

    try:
        frame = pd.read_csv(source, dtype={"id": str, "label": "float64", "prob_pos": "float64"})
    except (ValueError, pd.errors.ParserError) as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise PipelineError(f"{name} is unreadable ({first})") from None
    if list(frame.columns) != ["id", "label", "prob_pos"]:
        raise PipelineError(f"{name} has columns {list(frame.columns)}, not id, label, prob_pos")
    problems = []
    if frame["id"].isna().any() or frame["id"].duplicated().any():
        problems.append("ids missing or repeated")
    if not frame["label"].isin((0, 1)).all():
        problems.append("labels other than 0 and 1")
    probs = frame["prob_pos"].to_numpy()
    if not (np.isfinite(probs).all() and ((probs >= 0) & (probs <= 1)).all()):
        problems.append("probabilities that are not finite numbers in [0, 1]")
    if problems:
        raise PipelineError(
            f"{name} has {' and '.join(problems)}: it was not written by this project's "
            "evaluate/baseline; re-run the stage that wrote it"
        )
    return frame.astype({"label": "int64"})


def paired(head: pd.DataFrame, base: pd.DataFrame) -> tuple[pd.DataFrame | None, str]:
    """`base` in `head`'s review order when both hold the same reviews (any order), else
    None and why not. Labels that disagree on a shared review are an error: one side lies."""
    if set(head["id"].to_numpy()) != set(base["id"].to_numpy()):  # not Arrow's slow iterator
        return None, f"the test sets differ ({len(base)} vs {len(head)} reviews)"
    aligned = base.set_index("id").loc[head["id"]].reset_index()
    disagree = int((aligned["label"].to_numpy() != head["label"].to_numpy()).sum())
    if disagree:
        raise PipelineError(
            f"the two revisions' predictions give different labels to {disagree} of the same "
            "reviews: one file is not what evaluate wrote; re-run `dvc repro` on it"
        )
    return aligned, ""


def publish_linear_model(stage: str, probs: np.ndarray, test: pd.DataFrame) -> None:
    """A linear model's outputs in evaluate's schema: predictions paired by review id,
    metrics with intervals, its plots (metrics/plots/<stage>/) and the params that made them
    (all published together)."""
    from sentiment import params

    labels = test["label"].to_numpy()
    metrics = test_metrics(labels, probs)
    with outputs(stage) as out:
        write_predictions(
            out(f"data/predictions/{stage}.csv"), review_ids(test["text"]), labels, probs[:, 1]
        )
        write_json(out(f"metrics/{stage}.json"), metrics)
        write_plots(out(f"metrics/plots/{stage}"), labels, probs)
        write_json(out(params.used_path(stage)), params.used())
    print(summary(stage, metrics))


def summary(stage: str, metrics: dict) -> str:
    """The stage's closing line: headline numbers with their 95% intervals."""
    parts = []
    for key, name in (("accuracy", "accuracy"), ("roc_auc", "ROC AUC")):
        ci = metrics[f"{key}_ci"]
        parts.append(f"{name} {metrics[key]:.4f} (95% CI {ci['low']:.4f}–{ci['high']:.4f})")
    return f"{stage}: " + ", ".join(parts)
