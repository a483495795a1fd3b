"""baseline: TF-IDF + logistic regression on prepare's split, metrics in evaluate's schema."""

from sentiment import baseline, data, evaluation, params
from sentiment.io import run_stage


def main() -> None:
    p = params.read_section("baseline")
    train = data.read_split("data/prepared/train.parquet")
    test = data.read_split("data/prepared/test.parquet")
    probs = baseline.fit_predict(train["text"], train["label"].to_numpy(), test["text"], **p)
    evaluation.publish_linear_model("baseline", probs, test)


if __name__ == "__main__":
    run_stage(main)
