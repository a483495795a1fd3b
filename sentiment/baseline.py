"""The linear models every BiLSTM number is judged against, on the same split.

`fit_predict`: TF-IDF + logistic regression, the cheap baseline. `nbsvm_fit_predict`: NBSVM
(Wang & Manning 2012, "Baselines and Bigrams"), the literature's linear anchor on IMDB
(91.22% with uni+bigrams on the official 25k/25k split).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sentiment.io import PipelineError


def fit_predict(
    train_texts: Sequence[str],
    train_labels: np.ndarray,
    test_texts: Sequence[str],
    ngram_max: int,
    min_df: int,
    max_features: int | None,
    C: float,
    max_iter: int,
) -> np.ndarray:
    """Class probabilities (n, 2) for the test texts; deterministic (liblinear, no shuffling)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    _check_min_df("baseline", min_df, len(train_texts))
    vectorizer = TfidfVectorizer(
        ngram_range=(1, ngram_max), min_df=min_df, max_features=max_features, sublinear_tf=True
    )
    try:
        features = vectorizer.fit_transform(train_texts)
    except ValueError as error:  # e.g. "After pruning, no terms remain"
        raise PipelineError(
            f"baseline: TF-IDF kept no words ({error}): lower baseline.min_df"
        ) from None
    classifier = LogisticRegression(C=C, max_iter=max_iter, solver="liblinear")
    classifier.fit(features, train_labels)
    return classifier.predict_proba(vectorizer.transform(test_texts))


def _check_min_df(stage: str, min_df: int, n_texts: int) -> None:
    if min_df > n_texts:
        raise PipelineError(
            f"{stage}.min_df: {min_df} is more than the {n_texts} training reviews, "
            "so no word could be kept: lower it"
        )


# Words, and the two punctuation marks that carry sentiment on their own ("!" and "?"):
# Wang & Manning keep punctuation tokens; scikit-learn's default pattern drops them.
NBSVM_TOKENS = r"(?u)\b\w+\b|[!?]"


def nbsvm_fit_predict(
    train_texts: Sequence[str],
    train_labels: np.ndarray,
    test_texts: Sequence[str],
    ngram_max: int,
    min_df: int,
    alpha: float,
    C: float,
    beta: float,
    max_iter: int,
    classifier: str = "svm",
) -> np.ndarray:
    """NBSVM as Wang & Manning describe it: binarized n-gram features scaled by the Naive
    Bayes log-count ratio r = log((p/|p|_1) / (q/|q|_1)) (p, q: the feature counts in
    positive and negative reviews plus `alpha`), an L2-regularised squared-hinge linear SVM
    on them, and its weights interpolated towards their mean magnitude,
    w' = (1 - beta) * mean|w| + beta * w.

    `classifier="lr"` fits a logistic regression on the same features instead (NB-LR, the
    variant later work reports beside NBSVM).

    Returns (n, 2) scores in the shape of class probabilities: P(pos) = sigmoid(margin).
    The sigmoid keeps the decision (margin > 0) and the ranking (ROC AUC), but an SVM's
    margin is no calibrated probability, so this model's log-loss is not comparable.
    """

    vectorizer, features, ratio = nb_features(train_texts, train_labels, ngram_max, min_df, alpha)
    fitted = nb_fit(features, train_labels, C, max_iter, classifier)
    return nb_predict(fitted, beta, vectorizer.transform(test_texts).multiply(ratio).tocsr())


def nb_features(texts: Sequence[str], labels: np.ndarray, ngram_max: int, min_df: int,
                alpha: float):
    """Binarized n-grams scaled by the NB log-count ratio: (vectorizer, features, ratio)."""
    from sklearn.feature_extraction.text import CountVectorizer

    _check_min_df("nbsvm", min_df, len(texts))
    vectorizer = CountVectorizer(
        ngram_range=(1, ngram_max), min_df=min_df, binary=True, token_pattern=NBSVM_TOKENS
    )
    try:
        features = vectorizer.fit_transform(texts).tocsr()
    except ValueError as error:
        raise PipelineError(f"nbsvm: kept no words ({error}): lower nbsvm.min_df") from None
    labels = np.asarray(labels)
    if len(np.unique(labels)) < 2:
        raise PipelineError("nbsvm: the training reviews hold one label only: add data")
    p = alpha + np.asarray(features[labels == 1].sum(axis=0)).ravel()
    q = alpha + np.asarray(features[labels == 0].sum(axis=0)).ravel()
    ratio = np.log((p / p.sum()) / (q / q.sum()))
    return vectorizer, features.multiply(ratio).tocsr(), ratio


def nb_fit(features, labels: np.ndarray, C: float, max_iter: int, classifier: str = "svm"):
    """The linear classifier on NB features: squared-hinge SVM (NBSVM) or logistic (NB-LR)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    if classifier == "lr":
        model = LogisticRegression(C=C, max_iter=max_iter, solver="liblinear")
    else:
        model = LinearSVC(C=C, loss="squared_hinge", max_iter=max_iter, dual=True, random_state=0)
    return model.fit(features, np.asarray(labels))


def nb_predict(fitted, beta: float, features) -> np.ndarray:
    """(n, 2) scores from weights interpolated towards their mean magnitude by `beta`."""
    from scipy.special import expit

    w = fitted.coef_.ravel()
    interpolated = (1 - beta) * np.abs(w).mean() + beta * w
    prob_pos = expit(features @ interpolated + fitted.intercept_[0])
    return np.column_stack([1 - prob_pos, prob_pos])
