"""The notebook's full recipe on a lent GPU machine, from compact inputs carried to it.

A device machine gets only the working tree (at most 64 MiB) and cannot reach `../shared`
or the Hub. So, here, `pack` squeezes a real `encode` + `embed` output into one file:
token ids as uint16 (max_vocab 45,000 < 65,536), the embedding matrix as float16, test
labels and review ids, compressed (about 40 MB for the real 40k/10k split). There,
`run` unpacks it, trains the default params (`params.yaml`: BiLSTM(256), 20 epochs, or
`--epochs N`) through the `train` recipe, and writes accuracy with its 95% interval,
seconds per epoch, peak GPU memory and the GPU's name to `$OUT/gpu_recipe.json`.

    python -m benchmarks.gpu_recipe pack                        # here, after `dvc repro embed`
    python -m benchmarks.gpu_recipe run [--deterministic false] # on the GPU machine
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

PACKED = Path("gpu_inputs.npz")  # git-ignored; carried to the device machine


def pack() -> None:
    import pandas as pd

    from sentiment import evaluation

    arrays = {name: np.load(f"data/encoded/{name}.npy") for name in ("x_train", "y_train")}
    arrays["x_test"] = np.load("data/encoded/x_test.npy")
    arrays["y_test"] = np.load("data/encoded/y_test.npy")
    assert max(arrays["x_train"].max(), arrays["x_test"].max()) < 2**16
    for name in ("x_train", "x_test"):
        arrays[name] = arrays[name].astype(np.uint16)
    arrays["embedding_matrix"] = np.load("data/embedding_matrix.npy").astype(np.float16)
    ids = evaluation.review_ids(pd.read_parquet("data/prepared/test.parquet")["text"])
    arrays["test_ids"] = np.array(ids)
    np.savez_compressed(PACKED, **arrays)
    print(f"{PACKED}: {PACKED.stat().st_size / 2**20:.1f} MiB")


def run(epochs: int | None, deterministic: bool, seed: int | None = None, tag: str = "") -> None:
    import keras
    import tensorflow as tf

    from sentiment import evaluation, model, params

    packed = np.load(PACKED)
    x, y = packed["x_train"].astype(np.int32), packed["y_train"]
    matrix = packed["embedding_matrix"].astype(np.float32)
    p = params.read_section("train")
    p.update(deterministic=deterministic, **({"epochs": epochs} if epochs else {}))
    p.update({"seed": seed} if seed is not None else {})
    times: list[float] = []
    clock = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda *_: times.append(time.perf_counter()),
        on_epoch_end=lambda *_: times.__setitem__(-1, time.perf_counter() - times[-1]),
    )
    gpus = tf.config.list_physical_devices("GPU")
    with tempfile.TemporaryDirectory() as live_dir:
        net = model.train(x, y, matrix, live_dir, **p, extra_callbacks=[clock])
    peak_mib = round(tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20) if gpus else 0
    probs = net.predict(packed["x_test"].astype(np.int32), batch_size=256, verbose=0)
    metrics = evaluation.test_metrics(packed["y_test"], probs)
    out = Path(os.environ.get("OUT", "."))
    evaluation.write_predictions(
        out / f"gpu_predictions{tag}.csv", list(packed["test_ids"]), packed["y_test"], probs[:, 1]
    )
    result = {
        "params": p,
        "accuracy": metrics["accuracy"],
        "accuracy_ci": metrics["accuracy_ci"],
        "roc_auc": metrics["roc_auc"],
        "seconds_per_epoch": [round(t, 1) for t in times],
        "peak_gpu_memory_mib": peak_mib if gpus else None,
        **model.environment(),
    }
    (out / f"gpu_recipe{tag}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("pack", "run"))
    parser.add_argument("--epochs", type=int, help="default: train.epochs from params.yaml")
    parser.add_argument("--deterministic", choices=("true", "false"), default="true")
    parser.add_argument("--seed", type=int, help="default: train.seed from params.yaml")
    parser.add_argument("--tag", default="", help="suffix of the output files' names")
    args = parser.parse_args()
    if args.what == "pack":
        pack()
    else:
        run(args.epochs, args.deterministic == "true", args.seed, args.tag)


if __name__ == "__main__":
    main()
