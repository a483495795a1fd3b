"""Choose each linear model's settings on a validation slice of the training side only.

The slice is the last `validation_split` of `data/prepared/train.parquet`: the reviews the
BiLSTM validates on (Keras' `validation_split` takes the tail), so every model is tuned on
the same held-out reviews and none sees the test side. Each family's grid is scored by
validation accuracy; the chosen settings are then fitted on the whole training side and
scored once on the test side (NBSVM at the paper's setting is the `nbsvm` stage's committed
params). What is written, per workspace:

    <out>/tuning.json                       the grid, each point's validation accuracy, the
                                            chosen points and the seconds the search took
    <out>/<name>/predictions.csv, params.json, metrics.json   one folder per test-side run

With `--equal-data`, each chosen point (and the workspace's committed `baseline` and
`nbsvm` settings) is also fitted on exactly the BiLSTM's training slice, the first 80%,
and scored on the test side: `<name>-equal` folders, the rows that compare with the BiLSTM
at equal training data.

    python -m lab.tuning WORKSPACE OUT [--family nbsvm] [--budget 60] [--equal-data]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from sentiment import baseline, data, evaluation, params, stats
from sentiment.io import PipelineError, run_stage, write_json
from stages import baseline as baseline_stage
from stages import nbsvm as nbsvm_stage

VALIDATION_SPLIT = 0.2  # train.validation_split of the committed recipe
GRIDS = {
    "tfidf_lr": {"ngram_max": [1, 2, 3], "C": [0.5, 1.0, 2.0, 4.0, 8.0, 16.0]},
    "nbsvm": {"ngram_max": [1, 2, 3], "C": [0.1, 1.0], "beta": [0.25, 0.5, 0.75, 1.0]},
    "nblr": {"ngram_max": [1, 2, 3], "C": [0.1, 1.0, 10.0]},
}
FIXED = {
    "tfidf_lr": {"min_df": 2, "max_features": None, "max_iter": 1000},
    "nbsvm": {"min_df": 1, "alpha": 1.0, "max_iter": 10000},
    "nblr": {"min_df": 1, "alpha": 1.0, "max_iter": 1000, "beta": 1.0, "classifier": "lr"},
}


def accuracy(labels: np.ndarray, probs: np.ndarray) -> float:
    return float((stats.predicted_labels(probs[:, 1]) == labels).mean())


def search(family: str, texts, labels, val_texts, val_labels,
           budget: float | None = None) -> list[dict]:
    """Validation accuracy of every grid point in grid order, or of those reached within
    `budget` seconds; features are built once per n-gram order."""
    grid, fixed, scores = GRIDS[family], FIXED[family], []
    deadline = None if budget is None else time.perf_counter() + budget
    for ngram_max in grid["ngram_max"]:
        if deadline is not None and scores and time.perf_counter() > deadline:
            print(f"tuning: {family} stopped by its {budget} s budget", flush=True)
            break
        if family == "tfidf_lr":
            for C in grid["C"]:
                p = {**fixed, "ngram_max": ngram_max, "C": C}
                probs = baseline.fit_predict(texts, labels, val_texts, **p)
                scores.append({**p, "val_accuracy": accuracy(val_labels, probs)})
            continue
        vectorizer, features, ratio = baseline.nb_features(
            texts, labels, ngram_max, fixed["min_df"], fixed["alpha"]
        )
        val = vectorizer.transform(val_texts).multiply(ratio).tocsr()
        for C in grid["C"]:
            fitted = baseline.nb_fit(
                features, labels, C, fixed["max_iter"], fixed.get("classifier", "svm")
            )
            for beta in grid.get("beta", [fixed.get("beta")]):
                p = {**fixed, "ngram_max": ngram_max, "C": C, "beta": beta}
                probs = baseline.nb_predict(fitted, beta, val)
                scores.append({**p, "val_accuracy": accuracy(val_labels, probs)})
        print(f"tuning: {family} ngram_max={ngram_max} done", flush=True)
    return scores


def fit_test(family: str, p: dict, train, test) -> np.ndarray:
    settings = {k: v for k, v in p.items() if k != "val_accuracy"}
    if family == "tfidf_lr":
        return baseline.fit_predict(train["text"], train["label"].to_numpy(), test["text"],
                                    **settings)
    return baseline.nbsvm_fit_predict(train["text"], train["label"].to_numpy(), test["text"],
                                      **settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--family", action="append", choices=list(GRIDS),
                        help="search only this family (repeat for several; default all)")
    parser.add_argument("--budget", type=float, help="seconds a family's search may take: "
                        "it stops after the n-gram order that passes it")
    parser.add_argument("--equal-data", action="store_true",
                        help="also fit on the BiLSTM's 80%% training slice (<name>-equal)")
    args = parser.parse_args()
    families = args.family or list(GRIDS)
    if args.out.exists() and not args.out.is_dir():
        raise PipelineError(f"{args.out} is a file: name a folder for the tuning results")
    train = data.read_split(args.workspace / "data/prepared/train.parquet")
    test = data.read_split(args.workspace / "data/prepared/test.parquet")
    for side, reviews in (("training", train), ("test", test)):
        if reviews["label"].nunique() < 2:
            raise PipelineError(f"the {side} side of {args.workspace} holds "
                                f"{len(reviews)} reviews of {reviews['label'].nunique()} "
                                "class(es): tuning needs both: run `dvc repro prepare` there")
    cut = int(len(train) * (1 - VALIDATION_SPLIT))
    fit, val = train.iloc[:cut], train.iloc[cut:]
    report = {"validation": {"reviews_fitted": len(fit), "reviews_validated": len(val),
                             "slice": "the last 20% of the training side, as the BiLSTM's"},
              "families": {}}
    runs = {}
    for family in families:
        start = time.perf_counter()
        scores = search(family, fit["text"], fit["label"].to_numpy(), val["text"],
                        val["label"].to_numpy(), args.budget)
        best = max(scores, key=lambda s: s["val_accuracy"])  # first of equals: grid order
        report["families"][family] = {
            "grid": GRIDS[family], "fixed": FIXED[family], "points": len(scores),
            "budget_seconds": args.budget,
            "search_seconds": round(time.perf_counter() - start, 1),
            "scores": scores, "chosen": best,
        }
        runs[f"{family}-tuned"] = (family, best, train)
        if args.equal_data:
            runs[f"{family}-tuned-equal"] = (family, best, fit)
    if args.equal_data:
        for family, stage in (("tfidf_lr", baseline_stage), ("nbsvm", nbsvm_stage)):
            committed = params.read_section(stage.SECTION, stage.PARAMS,
                                            args.workspace / "params.yaml")
            runs[f"{family}-committed-equal"] = (family, committed, fit)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "tuning.json", report)
    labels, ids = test["label"].to_numpy(), evaluation.review_ids(test["text"])
    for name, (family, p, fitted_on) in runs.items():
        start = time.perf_counter()
        probs = fit_test(family, p, fitted_on, test)
        folder = args.out / name
        folder.mkdir(exist_ok=True)
        evaluation.write_predictions(folder / "predictions.csv", ids, labels, probs[:, 1])
        write_json(folder / "metrics.json", evaluation.test_metrics(labels, probs))
        seconds = round(time.perf_counter() - start, 1)
        write_json(folder / "params.json", {**p, "family": family, "fit_seconds": seconds,
                                            "reviews_fitted": len(fitted_on)})
        print(f"tuning: {name} {p} test accuracy {accuracy(labels, probs):.4f}", flush=True)


if __name__ == "__main__":
    run_stage(main)
