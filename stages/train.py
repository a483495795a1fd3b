"""train: fit the BiLSTM on the encoded training split, logging each epoch with DVCLive.

The training curve (metrics/plots/training.csv) is rewritten after every epoch, so `dvc
plots show` and DVC's VS Code extension show a long run while it trains; metrics/train.json
records the machine, the software and each epoch's wall seconds."""

from sentiment import checkpoint, devices, model, params, training
from sentiment.io import PipelineError, load_array, outputs, run_stage, write_json

SECTION = "train"  # its params.yaml section: the keys below, each checked by its rule
PARAMS = {
    "units": params.integer(1),
    "spatial_dropout": params.fraction(low_open=False),
    "dropout": params.fraction(low_open=False),
    "dense_dropout": params.fraction(low_open=False),
    "learning_rate": params.positive(),
    "weight_decay": params.Rule("a finite number >= 0", lambda v: params.is_number(v) and v >= 0),
    "batch_size": params.integer(1),
    "epochs": params.integer(1),
    "validation_split": params.fraction(low_open=False),
    "lr_factor": params.fraction(low_open=True),
    "lr_patience": params.integer(0),
    "seed": params.seed(),
    "deterministic": params.flag(),
    "mixed_precision": params.flag(),
    "distribute": params.choice("auto", "off"),
}

INPUTS = [
    "data/encoded/x_train.npy",
    "data/encoded/y_train.npy",
    "data/embedding_matrix.npy",
    "models/vocab.json",
    "models/encoding.json",
]
CODE = [
    "stages/train.py", "sentiment/model.py", "sentiment/training.py", "sentiment/devices.py",
]
CURVE = "metrics/plots/training.csv"  # rewritten after every epoch: a run shows while it trains


def main() -> None:
    p = params.read_section(SECTION, PARAMS)
    devices.thread_settings()  # a bad TF_NUM_* is one line here, before TensorFlow reads it
    x = load_array(INPUTS[0], "encode", "int32", 2)
    y = load_array(INPUTS[1], "encode", "int64", 1)
    matrix = load_array(INPUTS[2], "embed", "float32", 2)
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
    # a killed run resumes from its last epoch; other params, inputs or code start afresh
    resume_from = checkpoint.folder("train")
    key = checkpoint.run_key(p, [*INPUTS, *CODE])
    with outputs("train") as out:
        live = out("models/live")
        net = training.train(
            x, y, matrix, training.Recipe(**p), str(live),
            checkpoint_dir=resume_from, checkpoint_key=key, curve=CURVE,
        )
        model.save_model(net, out("models/model.keras"))  # same weights, same bytes
        # the model's own hash with its vocabulary's: evaluate and predict refuse any mix
        bound = model.fingerprint(out("models/model.keras"), *INPUTS[3:])
        write_json(out("models/fingerprint.json"), bound)
        training.write_training_curve(live, out(CURVE))
        seconds = training.epoch_seconds(live)
        write_json(out("metrics/train.json"), {
            **devices.environment(), "epoch_seconds": seconds, "train_seconds": round(sum(seconds)),
        })
        write_json(out(params.used_path("train")), params.used())
    checkpoint.remove(resume_from, key)


if __name__ == "__main__":
    run_stage(main)
