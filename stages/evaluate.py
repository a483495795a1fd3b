"""evaluate: test-set metrics with intervals, per-review predictions, and the plots."""

from sentiment import data, evaluation, model, params
from sentiment.io import PipelineError, load_array, outputs, run_stage, write_json

SECTION = "evaluate"  # its params.yaml section: the keys below, each checked by its rule
PARAMS = {
    "batch_size": params.integer(1),
}


def main() -> None:
    p = params.read_section(SECTION, PARAMS)
    x = load_array("data/encoded/x_test.npy", "encode", "int32", 2)
    y = load_array("data/encoded/y_test.npy", "encode", "int64", 1)
    test = data.read_split("data/prepared/test.parquet")
    if len(test) != len(y):
        raise PipelineError(
            f"data/prepared/test.parquet has {len(test)} reviews but y_test has {len(y)}: "
            "re-run `dvc repro encode`"
        )
    model.check_fingerprint(
        "models/fingerprint.json", "models/model.keras", "models/vocab.json", "models/encoding.json"
    )
    net = model.load_model("models/model.keras")
    if net.input_shape[1] != x.shape[1]:
        raise PipelineError(
            f"the model expects sequences of {net.input_shape[1]} tokens but x_test has "
            f"{x.shape[1]}: re-run `dvc repro train`"
        )
    probs = net.predict(x, batch_size=p["batch_size"], verbose=0)
    metrics = evaluation.test_metrics(y, probs)
    with outputs("evaluate") as out:
        evaluation.write_predictions(
            out("data/predictions/bilstm.csv"), evaluation.review_ids(test["text"]), y, probs[:, 1]
        )
        evaluation.write_plots(out("metrics/plots/bilstm"), y, probs)
        write_json(out("metrics/evaluate.json"), metrics)
        write_json(out(params.used_path("evaluate")), params.used())
    print(evaluation.summary("evaluate", metrics))


if __name__ == "__main__":
    run_stage(main)
