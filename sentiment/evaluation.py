"""Test-set metrics and plot data in one schema, shared by the BiLSTM and the baseline,
so `dvc metrics show` / `dvc metrics diff` list every model side by side."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from sentiment.data import LABEL_NAMES
from sentiment.io import atomic_path

MAX_CURVE_POINTS = 500  # keeps ROC/PR plot files small enough for Git and PR diffs


def test_metrics(labels: np.ndarray, probs: np.ndarray) -> dict:
    """Accuracy, cross-entropy, ROC AUC, macro F1 and per-class scores.

    `probs` is (n, 2): the predicted probability of each class.
    """
    from sklearn.metrics import classification_report, log_loss, roc_auc_score

    predicted = probs.argmax(axis=1)
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


def write_training_curve(live_dir: str | Path, path: str | Path) -> None:
    """Train vs validation accuracy and loss by epoch, from DVCLive's per-epoch logs."""
    live_dir = Path(live_dir) / "plots" / "metrics"
    columns: dict[str, list[str]] = {}
    for split, prefix in (("train", ""), ("eval", "val_")):
        for metric in ("accuracy", "loss"):
            file = live_dir / split / f"{metric}.tsv"
            if file.exists():
                lines = file.read_text(encoding="utf-8").split("\n")[1:]
                columns[prefix + metric] = [line.split("\t")[1] for line in lines if line]
    epochs = len(next(iter(columns.values()), []))
    rows = ([e + 1] + [values[e] for values in columns.values()] for e in range(epochs))
    write_csv(path, ["epoch", *columns], rows)
