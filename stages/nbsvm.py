"""nbsvm: Wang & Manning's NBSVM (uni+bigrams) on prepare's split, the literature's anchor."""

from sentiment import baseline, data, evaluation, params
from sentiment.io import run_stage


def main() -> None:
    p = params.read_section("nbsvm")
    train = data.read_split("data/prepared/train.parquet")
    test = data.read_split("data/prepared/test.parquet")
    probs = baseline.nbsvm_fit_predict(
        train["text"], train["label"].to_numpy(), test["text"], **p
    )
    evaluation.publish_linear_model("nbsvm", probs, test)


if __name__ == "__main__":
    run_stage(main)
