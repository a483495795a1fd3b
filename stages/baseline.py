"""baseline: TF-IDF + logistic regression on prepare's split, metrics in evaluate's schema."""

from sentiment import baseline, data, evaluation, params
from sentiment.io import run_stage, write_json


def main() -> None:
    p = params.read_section("baseline")
    train = data.read_split("data/prepared/train.parquet")
    test = data.read_split("data/prepared/test.parquet")
    probs = baseline.fit_predict(train["text"], train["label"].to_numpy(), test["text"], **p)
    metrics = evaluation.test_metrics(test["label"].to_numpy(), probs)
    write_json("metrics/baseline.json", metrics)
    print(f"baseline: accuracy {metrics['accuracy']:.4f}, ROC AUC {metrics['roc_auc']:.4f}")


if __name__ == "__main__":
    run_stage(main)
