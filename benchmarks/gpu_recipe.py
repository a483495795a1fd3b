"""The notebook's full recipe on a lent GPU machine, from compact inputs carried to it.

A device machine gets only the working tree (at most 64 MiB) and cannot reach `../shared`
or the Hub; it has PyTorch and JAX but no TensorFlow. So, here, `pack` squeezes the real
`encode` + `embed` outputs of one or more workspaces (one per split) into one file, each
array xz-compressed: token ids as uint16 (max_vocab 45,000 < 65,536), each split's
embedding matrix as row numbers into one table of the distinct float32 rows (the splits'
vocabularies overlap, so two splits fit where two matrices would not), test labels, review
ids, and what made them
(the params of prepare, encode and embed, the inputs' hashes in dvc.lock). There, `run`
trains the committed `train` params (BiLSTM(256), 20 epochs, or `--epochs N`) through the
same `sentiment.training.train`, on Keras' torch backend (cuDNN LSTM) when TensorFlow is
absent, and writes accuracy with its 95% interval, the per-epoch curve with wall times,
peak GPU memory and the machine to `$OUT/gpu_recipe<tag>.json`, and the per-review
predictions.

    python -m benchmarks.gpu_recipe pack [WORKSPACE ...]         # here, after `dvc repro embed`
    python -m benchmarks.gpu_recipe run --split S [--seed N]     # on the GPU machine
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import lzma
import os
import time
from pathlib import Path

import numpy as np

PACKED = Path("gpu_inputs.npz")  # git-ignored; carried to the device machine
INPUTS = ["data/encoded/x_train.npy", "data/encoded/y_train.npy", "data/encoded/x_test.npy",
          "data/encoded/y_test.npy", "data/embedding_matrix.npy"]


def provenance(workspace: Path) -> dict:
    """The params that made the packed arrays and their hashes in dvc.lock."""
    from sentiment.provenance import locked_md5, read_lock

    used = {}
    for stage in ("prepare", "encode", "embed"):
        used.update(json.loads((workspace / f"data/params_used/{stage}.json").read_text()))
    stages = read_lock(workspace / "dvc.lock")
    return {"params": used, "md5": {path: locked_md5(path, stages) for path in INPUTS}}


def pack(workspaces: list[Path]) -> None:
    import pandas as pd

    from sentiment import evaluation

    arrays: dict[str, np.ndarray] = {}
    matrices = {}
    for workspace in workspaces:
        made = provenance(workspace)
        split = made["params"]["prepare.split"]
        if split in matrices:
            raise SystemExit(f"pack: two workspaces of split {split}: give one per split")
        loaded = {Path(path).stem: np.load(workspace / path) for path in INPUTS}
        matrices[split] = loaded.pop("embedding_matrix")
        if max(loaded["x_train"].max(), loaded["x_test"].max()) >= 2**16:
            raise SystemExit(f"pack: {workspace}'s token ids do not fit uint16: "
                             "encode.max_vocab must be below 65,536")
        for name in ("x_train", "x_test"):
            loaded[name] = loaded[name].astype(np.uint16)
        texts = pd.read_parquet(workspace / "data/prepared/test.parquet")["text"]
        loaded["test_ids"] = np.array(evaluation.review_ids(texts))
        # what `unpack` must rebuild, bit for bit: each array's SHA-256 as it will be used
        made["sha256"] = {name: digest(array) for name, array in
                          {**loaded, "embedding_matrix": matrices[split]}.items()}
        loaded["provenance"] = np.array(json.dumps(made, sort_keys=True))
        arrays.update({f"{split}/{name}": array for name, array in loaded.items()})
    stacked = np.concatenate(list(matrices.values()))
    rows, row_of = np.unique(stacked, axis=0, return_inverse=True)
    if len(rows) >= 2**16:
        raise SystemExit(f"pack: {len(rows)} distinct vectors do not fit uint16 row numbers")
    starts = np.cumsum([0] + [len(m) for m in matrices.values()])
    for split, start, end in zip(matrices, starts, starts[1:]):
        arrays[f"{split}/matrix_rows"] = row_of.reshape(-1)[start:end].astype(np.uint16)
    arrays["vector_rows"] = rows
    np.savez(PACKED, **{key: squeeze(array) for key, array in arrays.items()})
    print(f"{PACKED}: splits {', '.join(matrices)}, {len(rows)} distinct vectors, "
          f"{PACKED.stat().st_size / 2**20:.1f} MiB")


def squeeze(array: np.ndarray) -> np.ndarray:
    """xz-compressed bytes; floats by byte plane first (their exponent bytes then compress)."""
    planes = array
    if array.dtype.kind == "f":
        planes = array.view(np.uint8).reshape(-1, array.itemsize).T
    header = json.dumps({"dtype": array.dtype.str, "shape": array.shape}).encode() + b"\n"
    return np.frombuffer(header + lzma.compress(np.ascontiguousarray(planes).tobytes()), np.uint8)


MAX_ARRAY_BYTES = 256 * 2**20  # the real embedding matrix is 54 MB, x_train 22 MB


def unsqueeze(squeezed: np.ndarray) -> np.ndarray:
    """An array `squeeze` wrote, decompressed no further than its header's size allows (a
    small file cannot expand into gigabytes)."""
    header, body = squeezed.tobytes().split(b"\n", 1)
    meta = json.loads(header)
    dtype = np.dtype(meta["dtype"])
    size = int(np.prod(meta["shape"], dtype=np.int64)) * dtype.itemsize
    if not 0 <= size <= MAX_ARRAY_BYTES:
        raise SystemExit(f"run: a packed array claims {size} bytes (at most {MAX_ARRAY_BYTES})")
    raw = lzma.LZMADecompressor().decompress(body, max_length=size + 1)
    if len(raw) != size:
        raise SystemExit(f"run: a packed array holds {len(raw)} bytes, its header says {size}")
    data = np.frombuffer(raw, np.uint8)
    if dtype.kind == "f":
        data = np.ascontiguousarray(data.reshape(dtype.itemsize, -1).T)
    return data.view(dtype).reshape(meta["shape"])


def unpack(split: str | None) -> tuple[str, dict[str, np.ndarray]]:
    """One split's arrays, its embedding matrix rebuilt row by row."""
    packed = np.load(PACKED)
    splits = sorted({key.split("/")[0] for key in packed.files if "/" in key})
    split = split or splits[0]
    if split not in splits:
        raise SystemExit(f"run: {PACKED} holds splits {splits}, not {split!r}: pass --split")
    arrays = {key.split("/")[1]: unsqueeze(packed[key])
              for key in packed.files if key.startswith(split + "/")}
    arrays["embedding_matrix"] = unsqueeze(packed["vector_rows"])[arrays.pop("matrix_rows")]
    recorded = json.loads(str(arrays["provenance"])).get("sha256", {})
    for name, array in arrays.items():
        if name != "provenance" and recorded.get(name) != digest(array):
            raise SystemExit(f"run: {split}/{name} in {PACKED} is not the array pack "
                             "recorded (its SHA-256 differs): pack it again")
    return split, arrays


def digest(array: np.ndarray) -> str:
    """An array's SHA-256 over its type, shape and bytes."""
    import hashlib

    header = json.dumps([array.dtype.str, list(array.shape)]).encode()
    return hashlib.sha256(header + np.ascontiguousarray(array).tobytes()).hexdigest()


def choose_backend() -> str:
    """TensorFlow where installed (the project's backend); else torch, which a GPU box of
    this workplace has (its cuDNN LSTM keeps the recipe's kernel)."""
    if "KERAS_BACKEND" not in os.environ:
        has_tf = importlib.util.find_spec("tensorflow") is not None
        os.environ["KERAS_BACKEND"] = "tensorflow" if has_tf else "torch"
    return os.environ["KERAS_BACKEND"]


def peak_gpu_mib() -> int | None:
    import keras

    if keras.backend.backend() == "torch":
        import torch

        if torch.cuda.is_available():
            return round(torch.cuda.max_memory_allocated() / 2**20)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if tf.config.list_physical_devices("GPU"):
            return round(tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20)
    return None


def run(split: str | None, epochs: int | None, deterministic: bool, seed: int | None = None,
        tag: str = "") -> None:
    choose_backend()
    import keras

    from sentiment import devices, evaluation, params, training
    from stages import train

    split, packed = unpack(split)
    x, y = packed["x_train"].astype(np.int32), packed["y_train"]
    matrix = packed["embedding_matrix"]
    p = params.read_section(train.SECTION, train.PARAMS)
    p.update(deterministic=deterministic, **({"epochs": epochs} if epochs else {}))
    p.update({"seed": seed} if seed is not None else {})
    out = Path(os.environ.get("OUT", "."))
    result_path = out / f"gpu_recipe{tag}.json"
    curve: list[dict] = []
    started: list[float] = []

    def epoch_end(epoch: int, logs: dict) -> None:
        row = {"epoch": epoch + 1, **{k: round(float(v), 6) for k, v in logs.items()}}
        curve.append({**row, "seconds": round(time.perf_counter() - started[-1], 2)})
        print(json.dumps(curve[-1]), flush=True)
        # a run stopped by its time limit still leaves its curve so far
        result_path.write_text(json.dumps({"params": p, "curve": curve, "finished": False}))

    clock = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda *_: started.append(time.perf_counter()), on_epoch_end=epoch_end
    )
    begin = time.perf_counter()
    net = training.train(x, y, matrix, training.Recipe(**p), None, extra_callbacks=[clock])
    train_seconds = time.perf_counter() - begin
    probs = np.asarray(net.predict(packed["x_test"].astype(np.int32), batch_size=256, verbose=0))
    metrics = evaluation.test_metrics(packed["y_test"], probs)
    evaluation.write_predictions(
        out / f"gpu_predictions{tag}.csv", list(packed["test_ids"]), packed["y_test"], probs[:, 1]
    )
    result = {
        "params": p,
        "inputs": json.loads(str(packed["provenance"])),
        "metrics": metrics,
        "curve": curve,
        "train_seconds": round(train_seconds, 1),
        "peak_gpu_memory_mib": peak_gpu_mib(),
        "environment": devices.environment(),
        "finished": True,
    }
    result_path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{split} accuracy {metrics['accuracy']:.4f} in {train_seconds:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("pack", "run"))
    parser.add_argument("workspaces", nargs="*", type=Path, default=[Path(".")],
                        help="pack: workspaces after `dvc repro embed`, one per split")
    parser.add_argument("--split", help="run: which packed split (default: the first)")
    parser.add_argument("--epochs", type=int, help="default: train.epochs from params.yaml")
    parser.add_argument("--deterministic", choices=("true", "false"), default="true")
    parser.add_argument("--seed", type=int, help="default: train.seed from params.yaml")
    parser.add_argument("--tag", default="", help="suffix of the output files' names")
    args = parser.parse_args()
    if args.what == "pack":
        pack(args.workspaces)
    else:
        run(args.split, args.epochs, args.deterministic == "true", args.seed, args.tag)


if __name__ == "__main__":
    main()
