"""baseline: TF-IDF + logistic regression on prepare's split, metrics in evaluate's schema."""

from sentiment import baseline, data, evaluation, params
from sentiment.io import outputs, run_stage, write_json


def main() -> None:
    p = params.read_section("baseline")
    train = data.read_split("data/prepared/train.parquet")
    test = data.read_split("data/prepared/test.parquet")
    labels = test["label"].to_numpy()
    probs = baseline.fit_predict(train["text"], train["label"].to_numpy(), test["text"], **p)
    metrics = evaluation.test_metrics(labels, probs)
    with outputs("baseline") as out:
        ids = evaluation.review_ids(test["text"])
        evaluation.write_predictions(out("data/predictions/baseline.csv"), ids, labels, probs[:, 1])
        write_json(out("metrics/baseline.json"), metrics)
    print(evaluation.summary("baseline", metrics))


if __name__ == "__main__":
    run_stage(main)
