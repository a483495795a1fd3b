"""nbsvm: Wang & Manning's NBSVM (uni+bigrams) on prepare's split, the literature's anchor."""

from sentiment import baseline, data, evaluation, params
from sentiment.io import run_stage

SECTION = "nbsvm"  # its params.yaml section: the keys below, each checked by its rule
PARAMS = {
    "ngram_max": params.integer(1),
    "min_df": params.integer(1),
    "alpha": params.positive(),
    "C": params.positive(),
    "beta": params.fraction(low_open=False, high_open=False),
    "max_iter": params.integer(1),
}


def main() -> None:
    p = params.read_section(SECTION, PARAMS)
    train = data.read_split("data/prepared/train.parquet")
    test = data.read_split("data/prepared/test.parquet")
    probs = baseline.nbsvm_fit_predict(
        train["text"], train["label"].to_numpy(), test["text"], **p
    )
    evaluation.publish_linear_model(SECTION, probs, test)


if __name__ == "__main__":
    run_stage(main)
