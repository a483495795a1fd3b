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
