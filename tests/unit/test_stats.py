"""Bootstrap intervals and paired tests, checked against hand-computed values."""

from math import comb, sqrt

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from sentiment import stats


def exact_mcnemar(b: int, c: int) -> float:
    """Two-sided exact McNemar p by hand: twice the binomial(b + c, 1/2) tail."""
    n, k = b + c, min(b, c)
    return min(1.0, 2 * sum(comb(n, i) for i in range(k + 1)) / 2**n)


@pytest.mark.parametrize("b, c, p", [(1, 6, 16 / 128), (0, 5, 2 / 32), (0, 6, 2 / 64), (3, 3, 1)])
def test_mcnemar_p_matches_the_binomial_tail(b, c, p):
    assert stats.mcnemar_p(b, c) == pytest.approx(p)
    assert stats.mcnemar_p(c, b) == pytest.approx(p)


def paired_example(head_only: int, base_only: int, n: int = 1000):
    """Labels all pos; both right on the first 900 reviews but for the planted flips."""
    labels = np.ones(n, dtype=np.int64)
    base = np.where(np.arange(n) < 900, 0.9, 0.1)
    head = base.copy()
    head[900 : 900 + head_only] = 0.9  # only head right
    base_flip = np.arange(base_only)
    head[base_flip] = 0.1  # only base right
    return labels, base, head


def test_paired_comparison_matches_hand_computed_change_interval_and_p():
    labels, base, head = paired_example(head_only=30, base_only=10)
    result = stats.paired_comparison(labels, base, head)
    assert (result["head_only"], result["base_only"]) == (30, 10)
    assert result["change"] == pytest.approx(0.02)
    assert result["p_value"] == pytest.approx(exact_mcnemar(10, 30))
    # per-review change d is +1 (30x), -1 (10x), 0: normal approximation of its mean's CI
    se = sqrt((40 / 1000 - 0.02**2) / 1000)
    assert result["change_ci"]["low"] == pytest.approx(0.02 - 1.96 * se, abs=0.0025)
    assert result["change_ci"]["high"] == pytest.approx(0.02 + 1.96 * se, abs=0.0025)
    assert result["verdict"] == "better"


def test_verdicts_say_worse_and_within_noise():
    labels, base, head = paired_example(head_only=10, base_only=30)
    assert stats.paired_comparison(labels, base, head)["verdict"] == "worse"
    labels, base, head = paired_example(head_only=12, base_only=10)
    small = stats.paired_comparison(labels, base, head)
    assert small["verdict"] == "within noise"
    assert small["change_ci"]["low"] < 0 < small["change_ci"]["high"]


def test_identical_predictions_change_nothing():
    labels, base, _ = paired_example(0, 0)
    result = stats.paired_comparison(labels, base, base)
    assert result["change"] == 0 and result["p_value"] == 1
    assert result["change_ci"] == {"low": 0.0, "high": 0.0}


def test_bootstrap_auc_and_f1_of_one_full_draw_equal_sklearn():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 500)
    scores = np.round(labels * 0.3 + rng.random(500) * 0.7, 1)  # many ties
    ones = np.ones((1, 500), dtype=np.int32)
    assert stats._roc_auc(ones, labels, scores)[0] == pytest.approx(roc_auc_score(labels, scores))
    weights = stats.draw_counts(500, resamples=1)
    drawn = np.repeat(np.arange(500), weights[0])
    assert stats._roc_auc(weights, labels, scores)[0] == pytest.approx(
        roc_auc_score(labels[drawn], scores[drawn])
    )


def test_accuracy_interval_has_the_binomial_width_and_is_repeatable():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 10_000)
    prob_pos = np.where(rng.random(10_000) < 0.91, labels, 1 - labels) * 0.8 + 0.1
    intervals = stats.metric_intervals(labels, prob_pos)
    accuracy = np.mean((prob_pos > 0.5) == labels)
    half = 1.96 * sqrt(accuracy * (1 - accuracy) / 10_000)  # about ±0.56 points at 91%
    ci = intervals["accuracy_ci"]
    assert ci["low"] < accuracy < ci["high"]
    assert (ci["high"] - ci["low"]) / 2 == pytest.approx(half, rel=0.15)
    assert set(intervals) == {"accuracy_ci", "f1_macro_ci", "roc_auc_ci"}
    assert stats.metric_intervals(labels, prob_pos) == intervals


def test_one_lucky_seed_does_not_make_a_variant_better():
    labels, base, _ = paired_example(0, 0)
    _, _, lucky = paired_example(head_only=40, base_only=0)
    result = stats.paired_over_seeds(labels, [base, base, base], [lucky, base, base])
    assert result["p_values"][0] < 0.05 and result["p_values"][1:] == [1.0, 1.0]
    assert result["verdict"] == "within noise"
    steady = stats.paired_over_seeds(labels, [base, base], [lucky, lucky])
    assert steady["verdict"] == "better"


def test_resamples_are_the_same_whatever_the_block_size():
    whole = np.concatenate(list(stats.count_blocks(37, resamples=50, cells=10**9)))
    blocks = list(stats.count_blocks(37, resamples=50, cells=37 * 7))
    assert [len(b) for b in blocks] == [7] * 7 + [1]
    np.testing.assert_array_equal(np.concatenate(blocks), whole)
    assert (whole.sum(axis=1) == 37).all()


def test_intervals_and_paired_comparisons_do_not_depend_on_the_order_of_the_rows():
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 300)
    base, head = rng.random(300), np.clip(labels * 0.3 + rng.random(300) * 0.7, 0, 1)
    shuffled = rng.permutation(300)
    assert stats.metric_intervals(labels, head) == stats.metric_intervals(
        labels[shuffled], head[shuffled]
    )
    assert stats.paired_comparison(labels, base, head) == stats.paired_comparison(
        labels[shuffled], base[shuffled], head[shuffled]
    )
