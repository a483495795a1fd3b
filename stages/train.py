"""train: fit the BiLSTM on the encoded training split, logging each epoch with DVCLive."""

import sys

from sentiment import model, params
from sentiment.io import PipelineError, atomic_dir, atomic_path, load_array, run_stage


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

    import keras
    from dvclive import Live
    from dvclive.keras import DVCLiveCallback

    model.seed_everything(p["seed"])
    model.set_precision(p["mixed_precision"])
    with model.strategy_scope(p["distribute"]):
        net = model.build_model(
            matrix, x.shape[1], p["units"], p["spatial_dropout"], p["dropout"], p["dense_dropout"]
        )
        model.compile_model(net, p["learning_rate"], p["weight_decay"])
    lr_schedule = keras.callbacks.ReduceLROnPlateau(
        monitor="val_loss" if p["validation_split"] else "loss",
        factor=p["lr_factor"],
        patience=p["lr_patience"],
    )
    with atomic_dir("models/live") as live_dir, atomic_path("models/model.keras") as model_file:
        with Live(str(live_dir), dvcyaml=False, save_dvc_exp=False, report=None) as live:
            net.fit(
                x,
                keras.utils.to_categorical(y, 2),
                epochs=p["epochs"],
                batch_size=p["batch_size"],
                validation_split=p["validation_split"],
                callbacks=[lr_schedule, DVCLiveCallback(live=live)],
                verbose=1
                if sys.stdout.isatty()
                else 2,  # a bar on a terminal, a line per epoch in logs
            )
        net.save(model_file)


if __name__ == "__main__":
    run_stage(main)
