"""train: fit the BiLSTM on the encoded training split, logging each epoch with DVCLive."""

from sentiment import model, params
from sentiment.io import PipelineError, load_array, outputs, run_stage, write_json


def main() -> None:
    p = params.read_section("train")
    x = load_array("data/encoded/x_train.npy", "encode", "int32", 2)
    y = load_array("data/encoded/y_train.npy", "encode", "int64", 1)
    matrix = load_array("data/embedding_matrix.npy", "embed", "float32", 2)
    if len(x) != len(y):
        raise PipelineError(
            "x_train and y_train differ in length: re-run `dvc repro -f encode` then `dvc repro`"
        )
    if x.size and x.max() >= len(matrix):
        raise PipelineError(
            f"x_train uses token index {x.max()} but the embedding matrix has {len(matrix)} rows: "
            "re-run `dvc repro embed`"
        )
    fitted = int(len(x) * (1 - p["validation_split"]))  # Keras validates on the tail
    if fitted < 1 or (p["validation_split"] and fitted == len(x)):
        raise PipelineError(
            f"train.validation_split {p['validation_split']} of {len(x)} reviews leaves "
            f"{fitted} to train on and {len(x) - fitted} to validate: change it or add data"
        )
    with outputs("train") as out:
        net = model.train(x, y, matrix, str(out("models/live")), **p)
        net.save(out("models/model.keras"))
        fingerprint = model.fingerprint("models/vocab.json", "models/encoding.json")
        write_json(out("models/fingerprint.json"), fingerprint)
        write_json(out("metrics/train.json"), model.environment())


if __name__ == "__main__":
    run_stage(main)
