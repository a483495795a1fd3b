"""baseline: TF-IDF + logistic regression on prepare's split, metrics in evaluate's schema."""

from sentiment import baseline, data, evaluation, params
from sentiment.io import run_stage

SECTION = "baseline"  # its params.yaml section: the keys below, each checked by its rule
PARAMS = {
    "ngram_max": params.integer(1),
    "min_df": params.integer(1),
    "max_features": params.integer(1, nullable=True),
    "C": params.positive(),
    "max_iter": params.integer(1),
}


def main() -> None:
    p = params.read_section(SECTION, PARAMS)
    train = data.read_split("data/prepared/train.parquet")
    test = data.read_split("data/prepared/test.parquet")
    probs = baseline.fit_predict(train["text"], train["label"].to_numpy(), test["text"], **p)
    evaluation.publish_linear_model(SECTION, probs, test)


if __name__ == "__main__":
    run_stage(main)
