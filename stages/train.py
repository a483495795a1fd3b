"""train: fit the BiLSTM on the encoded training split, logging each epoch with DVCLive."""

from sentiment import model, params
from sentiment.io import (
    PipelineError,
    atomic_dir,
    atomic_path,
    load_array,
    run_stage,
    write_json,
)


def main() -> None:
    p = params.read_section("train")
    x = load_array("data/encoded/x_train.npy", "encode", "int32", 2)
    y = load_array("data/encoded/y_train.npy", "encode", "int64", 1)
    matrix = load_array("data/embedding_matrix.npy", "embed", "float32", 2)
    if len(x) != len(y):
        raise PipelineError("x_train and y_train differ in length: re-run `dvc repro -f encode`")
    if x.size and x.max() >= len(matrix):
        raise PipelineError(
            f"x_train uses token index {x.max()} but the embedding matrix has {len(matrix)} rows: "
            "re-run `dvc repro embed`"
        )
    with atomic_dir("models/live") as live_dir, atomic_path("models/model.keras") as model_file:
        net = model.train(x, y, matrix, str(live_dir), **p)
        net.save(model_file)
    write_json("metrics/train.json", model.environment())


if __name__ == "__main__":
    run_stage(main)
