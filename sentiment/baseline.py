"""The cheap baseline every BiLSTM number is judged against: TF-IDF + logistic regression."""

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

    if min_df > len(train_texts):
        raise PipelineError(
            f"baseline.min_df: {min_df} is more than the {len(train_texts)} training reviews, "
            "so no word could be kept: lower it"
        )
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
