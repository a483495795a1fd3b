"""The TF-IDF baseline: deterministic, and its params checked against the data."""

import numpy as np
import pytest

from sentiment import baseline
from sentiment.io import PipelineError

TEXTS = ["a great film", "a dull film", "great acting", "dull plot"] * 3
LABELS = np.array([1, 0, 1, 0] * 3)


def test_probabilities_for_every_test_review_and_the_same_on_a_rerun():
    args = (TEXTS, LABELS, ["great", "dull"], 2, 1, None, 4.0, 100)
    probs = baseline.fit_predict(*args)
    assert probs.shape == (2, 2) and probs[0, 1] > 0.5 > probs[1, 1]
    np.testing.assert_array_equal(probs, baseline.fit_predict(*args))


@pytest.mark.parametrize(("min_df", "message"), [(13, "is more than the 12"), (7, "kept no")])
def test_a_min_df_the_data_cannot_meet_is_one_line(min_df, message):
    with pytest.raises(PipelineError, match=message) as error:
        baseline.fit_predict(TEXTS, LABELS, ["great"], 1, min_df, None, 4.0, 100)
    assert "\n" not in str(error.value) and "baseline" in str(error.value)


def nbsvm(test_texts, beta=0.25, **overrides):
    settings = dict(ngram_max=2, min_df=1, alpha=1.0, C=1.0, beta=beta, max_iter=10000)
    return baseline.nbsvm_fit_predict(TEXTS, LABELS, test_texts, **{**settings, **overrides})


def test_nbsvm_separates_the_training_words_and_is_deterministic():
    probs = nbsvm(["great", "dull", "a great film"])
    assert probs.shape == (3, 2) and np.allclose(probs.sum(axis=1), 1)
    assert probs[0, 1] > 0.5 > probs[1, 1] and probs[2, 1] > 0.5
    np.testing.assert_array_equal(probs, nbsvm(["great", "dull", "a great film"]))


def test_nbsvm_at_beta_1_is_the_svm_on_nb_scaled_binary_features():
    from scipy.special import logit
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.svm import LinearSVC

    tests = ["great great film", "dull", "a film"]
    vectorizer = CountVectorizer(
        ngram_range=(1, 2), binary=True, token_pattern=baseline.NBSVM_TOKENS
    )
    x = vectorizer.fit_transform(TEXTS).toarray()
    p, q = 1 + x[LABELS == 1].sum(axis=0), 1 + x[LABELS == 0].sum(axis=0)
    r = np.log((p / p.sum()) / (q / q.sum()))
    svm = LinearSVC(C=1.0, max_iter=10000, dual=True, random_state=0).fit(x * r, LABELS)
    margins = svm.decision_function(vectorizer.transform(tests).toarray() * r)
    np.testing.assert_allclose(logit(nbsvm(tests, beta=1.0)[:, 1]), margins, rtol=1e-6)


def test_nbsvm_interpolation_moves_the_margin_linearly_in_beta():
    from scipy.special import logit

    tests = ["great film", "dull plot", "a"]
    margins = [logit(nbsvm(tests, beta=b)[:, 1]) for b in (0.0, 0.5, 1.0)]
    np.testing.assert_allclose(margins[1], (margins[0] + margins[2]) / 2, rtol=1e-6, atol=1e-9)


def test_nbsvm_keeps_exclamation_marks_as_words():
    shouting = ["bad film", "good film!", "bad plot", "good plot!"] * 2
    labels = np.array([0, 1, 0, 1] * 2)
    probs = baseline.nbsvm_fit_predict(shouting, labels, ["!", "?"], 1, 1, 1.0, 1.0, 1.0, 1000)
    assert probs[0, 1] > probs[1, 1]  # "!" marks the positive reviews; "?" is never seen


@pytest.mark.parametrize(
    ("overrides", "message"), [({"min_df": 13}, "is more than the 12"), ({"min_df": 7}, "kept no")]
)
def test_nbsvm_min_df_the_data_cannot_meet_is_one_line(overrides, message):
    with pytest.raises(PipelineError, match=message) as error:
        nbsvm(["great"], **overrides)
    assert "\n" not in str(error.value) and "nbsvm" in str(error.value)
