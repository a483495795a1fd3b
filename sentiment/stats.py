"""How much of a number is signal: bootstrap intervals and paired tests on test predictions.

A single test set of ~10,000 reviews leaves about ±0.6 points of sampling noise on ~90%
accuracy, so every metric file carries a 95% interval and every comparison of two models
on the same reviews is paired (same resamples, McNemar's exact test on the disagreements).

Resampling is done through (resamples, n) matrices of draw counts, a block of resamples at
a time (CHUNK_CELLS bounds a block, so memory does not grow with the number of resamples):
each statistic is a matrix product, a sum over some columns or a cumulative sum, never a
Python loop over resamples. The rows are put in a canonical order (by their values)
first, so an interval does not depend on the order of the reviews in a file.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import numpy as np

RESAMPLES = 1000  # bootstrap resamples for every interval (seeded: same input, same bytes)
SEED = 0
LEVEL = 0.95
ALPHA = 0.05  # McNemar's p below this, with an interval clear of zero, is "better"/"worse"


def predicted_labels(prob_pos) -> np.ndarray:
    """The one decision rule (0 = neg, 1 = pos) that metrics, comparisons and predict share."""
    return (np.asarray(prob_pos) > 0.5).astype(np.int64)


def _right(labels: np.ndarray, prob_pos) -> np.ndarray:
    return predicted_labels(prob_pos) == labels


CHUNK_CELLS = 2**24  # draws per block: about 0.5 GiB of working memory at most


def count_blocks(
    n: int, resamples: int = RESAMPLES, seed: int = SEED, cells: int = CHUNK_CELLS
) -> Iterator[np.ndarray]:
    """Blocks of (k, n) int32 draw counts, k resamples at a time, together the same
    (resamples, n) matrix whatever the block size (one generator, drawn in row order)."""
    yield from _count_blocks(n, resamples, seed, cells)


@functools.lru_cache(maxsize=2)
def _count_blocks(n: int, resamples: int, seed: int, cells: int) -> tuple[np.ndarray, ...]:
    """Drawn once per process for a test set's size: every interval and pair of one test
    set (a report, the results check) resamples with the same counts, read-only."""
    rng = np.random.default_rng(seed)
    rows = max(1, min(resamples, cells // max(n, 1)))
    blocks = []
    for start in range(0, resamples, rows):
        k = min(rows, resamples - start)
        draws = rng.integers(0, n, size=(k, n))
        draws += (np.arange(k) * n)[:, None]
        block = np.bincount(draws.ravel(), minlength=k * n).reshape(k, n).astype(np.int32)
        block.flags.writeable = False
        blocks.append(block)
    return tuple(blocks)


def draw_counts(n: int, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """(resamples, n) int32: how often each of n items is drawn in each bootstrap resample."""
    return np.concatenate(list(count_blocks(n, resamples, seed)))


def bootstrap(n: int, statistic: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """`statistic(counts)` for every resample, computed block by block."""
    return np.concatenate([statistic(block) for block in count_blocks(n)])


def canonical_order(*columns) -> np.ndarray:
    """An order of the rows that depends only on their values: rows that are equal in
    every column are interchangeable, so any input order gives the same resamples."""
    return np.lexsort([np.asarray(c) for c in reversed(columns)])


def interval(samples: np.ndarray) -> dict[str, float]:
    """The percentile interval of bootstrap samples, NaN-safe (a resample may lack a class)."""
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.nanpercentile(samples, [tail, 100 - tail])
    return {"low": round(float(low), 6), "high": round(float(high), 6)}


def _accuracy(weights: np.ndarray, correct: np.ndarray) -> np.ndarray:
    return weights @ correct.astype(np.float64) / weights.sum(axis=1)


def _f1_macro(weights: np.ndarray, labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Macro F1 per resample from one product: (tp, fp, fn) of the positive class are
    (fn, fp, tp)-mirrors of the negative class's, so four cell counts give both."""
    cells = np.stack([(labels == 1) & (predicted == 1), (labels == 0) & (predicted == 1),
                      (labels == 1) & (predicted == 0), (labels == 0) & (predicted == 0)], 1)
    tp1, fp1, fn1, tp0 = (weights @ cells.astype(np.float64)).T
    scores = []
    for tp, fp, fn in ((tp0, fn1, fp1), (tp1, fp1, fn1)):
        denominator = 2 * tp + fp + fn
        with np.errstate(invalid="ignore", divide="ignore"):
            scores.append(np.where(denominator > 0, 2 * tp / denominator, 0.0))
    return (scores[0] + scores[1]) / 2


def _roc_auc(counts: np.ndarray, labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUC per resample; tied scores count one half, as in sklearn.

    Each drawn positive counts the drawn negatives below its score twice and those tied
    with it once: with C the running count of negatives in score order, that is
    C[below] + C[below or tied]. Integer arithmetic throughout, one division at the end."""
    negatives = np.flatnonzero(labels != 1)
    negatives = negatives[np.argsort(scores[negatives], kind="stable")]
    positives = np.flatnonzero(labels == 1)
    negative_scores = scores[negatives]
    running = np.zeros((len(counts), len(negatives) + 1), dtype=np.int32)  # at most n
    np.cumsum(counts[:, negatives], axis=1, out=running[:, 1:])
    below = np.searchsorted(negative_scores, scores[positives], side="left")
    not_above = np.searchsorted(negative_scores, scores[positives], side="right")
    drawn_positives = counts[:, positives]
    twice_wins = np.einsum("ij,ij->i", drawn_positives,
                           running[:, below] + running[:, not_above], dtype=np.int64)
    pairs = drawn_positives.sum(axis=1, dtype=np.int64) * running[:, -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, twice_wins / (2 * pairs), np.nan)


def metric_intervals(labels: np.ndarray, prob_pos: np.ndarray) -> dict[str, dict[str, float]]:
    """95% bootstrap intervals of accuracy, macro F1 and ROC AUC over the test reviews."""
    labels = np.asarray(labels)
    prob_pos = np.asarray(prob_pos, dtype=np.float64)
    order = canonical_order(labels, prob_pos)
    labels, prob_pos = labels[order], prob_pos[order]
    predicted = predicted_labels(prob_pos)

    def statistics(counts: np.ndarray) -> np.ndarray:
        weights = counts.astype(np.float64)  # converted once for the two products
        return np.column_stack([_accuracy(weights, predicted == labels),
                                _f1_macro(weights, labels, predicted),
                                _roc_auc(counts, labels, prob_pos)])

    samples = bootstrap(len(labels), statistics)
    return {f"{name}_ci": interval(samples[:, column])
            for column, name in enumerate(("accuracy", "f1_macro", "roc_auc"))}


def mcnemar_p(base_only: int, head_only: int) -> float:
    """Exact two-sided McNemar p: of the reviews only one model gets right, is the split fair?"""
    from scipy.stats import binomtest

    n = base_only + head_only
    return 1.0 if n == 0 else float(binomtest(min(base_only, head_only), n, 0.5).pvalue)


def paired_comparison(labels: np.ndarray, base_pos: np.ndarray, head_pos: np.ndarray) -> dict:
    """Head minus base accuracy on the same reviews: change, paired 95% interval, p, verdict.

    One pair has one interval whichever side is head: it is resampled with the side that
    gets more reviews right as the base (ties: the lexicographically larger sorted
    probabilities), and the other orientation is its exact mirror (negated, sides swapped).
    """
    labels, base_pos, head_pos = (np.asarray(a) for a in (labels, base_pos, head_pos))
    if _resampled_as_base(labels, head_pos, base_pos):
        return mirrored(_paired(labels, head_pos, base_pos))
    return _paired(labels, base_pos, head_pos)


def _resampled_as_base(labels: np.ndarray, first: np.ndarray, second: np.ndarray) -> bool:
    """Whether `first` is the side a pair is resampled with as the base (see above)."""
    right = int(_right(labels, first).sum()), int(_right(labels, second).sum())
    if right[0] != right[1]:
        return right[0] > right[1]
    a, b = np.sort(first.astype(np.float64)), np.sort(second.astype(np.float64))
    differ = np.flatnonzero(a != b)
    return bool(differ.size) and bool(a[differ[0]] > b[differ[0]])


def mirrored(c: dict) -> dict:
    """A paired comparison seen from the other side: base and head swapped."""
    return {
        "base_accuracy": c["head_accuracy"],
        "head_accuracy": c["base_accuracy"],
        "change": -c["change"] + 0.0,  # never -0.0
        "change_ci": {"low": -c["change_ci"]["high"] + 0.0, "high": -c["change_ci"]["low"] + 0.0},
        "base_only": c["head_only"],
        "head_only": c["base_only"],
        "p_value": c["p_value"],
        "verdict": {"better": "worse", "worse": "better"}.get(c["verdict"], c["verdict"]),
    }


def _paired(labels: np.ndarray, base_pos: np.ndarray, head_pos: np.ndarray) -> dict:
    order = canonical_order(labels, base_pos, head_pos)
    labels, base_pos, head_pos = labels[order], base_pos[order], head_pos[order]
    base_right, head_right = _right(labels, base_pos), _right(labels, head_pos)
    gained = np.flatnonzero(head_right & ~base_right)
    lost = np.flatnonzero(base_right & ~head_right)

    def resampled_change(counts: np.ndarray) -> np.ndarray:
        """Only the reviews the two sides disagree on move the change: their draws alone."""
        net = counts[:, gained].sum(1, dtype=np.int64) - counts[:, lost].sum(1, dtype=np.int64)
        return net / len(labels)

    result = {
        "base_accuracy": float(base_right.mean()),
        "head_accuracy": float(head_right.mean()),
        "change": (len(gained) - len(lost)) / len(labels),
        "change_ci": interval(bootstrap(len(labels), resampled_change)),
        "base_only": len(lost),
        "head_only": len(gained),
        "p_value": mcnemar_p(len(lost), len(gained)),
    }
    result["verdict"] = verdict(result["change_ci"], result["p_value"])
    return result


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment of a family of p values (same order as given): the
    k-th smallest is multiplied by (m - k + 1), and no adjusted p is below an earlier one."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted, running = [0.0] * len(p_values), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def verdict(change_ci: dict[str, float], p_value: float) -> str:
    """ "better"/"worse" only when the interval clears zero and McNemar agrees."""
    if p_value < ALPHA and change_ci["low"] > 0:
        return "better"
    if p_value < ALPHA and change_ci["high"] < 0:
        return "worse"
    return "within noise"


def paired_over_seeds(labels: np.ndarray, base_runs: list, head_runs: list) -> dict:
    """Two configurations, each run with the same seeds, compared on the same reviews.

    Pairs are matched by seed. The interval resamples reviews for the seed-averaged change;
    the verdict needs it clear of zero *and* every seed pair's McNemar test to agree, so a
    difference that one lucky seed carries stays "within noise".
    """
    pairs = [paired_comparison(labels, b, h) for b, h in zip(base_runs, head_runs)]
    labels = np.asarray(labels)
    change = np.mean(
        [
            _right(labels, h).astype(np.float64) - _right(labels, b)
            for b, h in zip(base_runs, head_runs)
        ],
        axis=0,
    )
    order = canonical_order(labels, *base_runs, *head_runs)
    change = change[order]
    change_ci = interval(bootstrap(len(labels), lambda c: c @ change / len(labels)))
    verdicts = {p["verdict"] for p in pairs}
    pooled = verdict(change_ci, max(p["p_value"] for p in pairs))
    return {
        "change": float(change.mean()),
        "change_ci": change_ci,
        "p_values": [p["p_value"] for p in pairs],
        "verdict": pooled if verdicts == {pooled} else "within noise",
    }
