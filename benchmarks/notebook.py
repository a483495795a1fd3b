"""The `train` stage against the notebook's own code, as whole processes on the same arrays.

The notebook's side is written out here independently of `sentiment.model` (its Sequential
model, `compile`, one `fit` with ReduceLROnPlateau, `save`), so a cost that both would
share through our builder cannot hide. Both read the first `--samples` reviews of a real
`encode` + `embed` output (`--from WORKSPACE`), train the params.yaml recipe at full width
for `--epochs`, and save the model; each side runs `--repeats` times, alternating, and the
best wall time of each is compared (whole processes: imports, loading, training, saving).

    python -m benchmarks.notebook --from ../runs/official --samples 2000 --epochs 2
    python -m benchmarks.notebook ... --set deterministic=false   # a train param, both sides
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from benchmarks.common import report

NOTEBOOK = '''
import json, sys
import numpy as np
import keras
from keras import layers

p = json.loads(sys.argv[1])
x = np.load("data/encoded/x_train.npy")
y = keras.utils.to_categorical(np.load("data/encoded/y_train.npy"), 2)
matrix = np.load("data/embedding_matrix.npy")
keras.utils.set_random_seed(p["seed"])
model = keras.Sequential([
    keras.Input(shape=(x.shape[1],)),
    layers.Embedding(matrix.shape[0], matrix.shape[1], weights=[matrix]),
    layers.SpatialDropout1D(p["spatial_dropout"]),
    layers.Bidirectional(layers.LSTM(p["units"], dropout=p["dropout"], return_sequences=True)),
    layers.GlobalMaxPooling1D(),
    layers.Dropout(p["dense_dropout"]),
    layers.Dense(2, activation="softmax"),
])
model.compile(optimizer=keras.optimizers.AdamW(p["learning_rate"], weight_decay=p["weight_decay"]),
              loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=p["epochs"], batch_size=p["batch_size"],
          validation_split=p["validation_split"], verbose=2,
          callbacks=[keras.callbacks.ReduceLROnPlateau(factor=p["lr_factor"],
                                                       patience=p["lr_patience"])])
model.save("models/notebook.keras")
'''

INPUTS = ["data/encoded/x_train.npy", "data/encoded/y_train.npy", "data/embedding_matrix.npy",
          "models/vocab.json", "models/encoding.json"]


def workspace(source: Path, samples: int, epochs: int, overrides: dict) -> Path:
    """A folder holding the first `samples` training reviews and params.yaml's recipe."""
    folder = Path(tempfile.mkdtemp(prefix="notebook-bench-"))
    for path in INPUTS:
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        if path.startswith("data/encoded"):
            np.save(folder / path, np.load(source / path)[:samples])
        else:
            shutil.copyfile(source / path, folder / path)
    for package in ("stages", "sentiment"):  # a snapshot: edits during a run change nothing
        shutil.copytree(package, folder / package, ignore=shutil.ignore_patterns("__pycache__"))
    params = yaml.safe_load(Path("params.yaml").read_text())
    params["train"].update(epochs=epochs, **overrides)
    (folder / "params.yaml").write_text(yaml.safe_dump(params))
    return folder


def timed(cmd: list[str], cwd: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(Path.cwd()), "TF_CPP_MIN_LOG_LEVEL": "2"}
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode:
        sys.exit(f"{cmd} failed:\n{result.stderr[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--from", dest="source", type=Path, default=Path("."),
                        help="a workspace after `dvc repro embed` (default: this one)")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--set", action="append", default=[], help="train.KEY=VALUE (YAML)")
    parser.add_argument("--name", default="notebook")
    args = parser.parse_args()
    overrides = {k: yaml.safe_load(v) for k, v in (s.split("=", 1) for s in args.set)}
    folder = workspace(args.source, args.samples, args.epochs, overrides)
    p = yaml.safe_load((folder / "params.yaml").read_text())["train"]
    times: dict[str, list[float]] = {"notebook": [], "stage": []}
    curves = []  # the stage's logged metrics, full precision: equal on every repeat?
    for _ in range(args.repeats):
        times["notebook"].append(timed([sys.executable, "-c", NOTEBOOK, json.dumps(p)], folder))
        shutil.rmtree(folder / ".checkpoints", ignore_errors=True)
        times["stage"].append(timed([sys.executable, "-m", "stages.train"], folder))
        logs = (folder / "models/live/plots/metrics").rglob("*.tsv")
        curves.append(sorted((f.name, f.read_text()) for f in logs if "seconds" not in f.name))
        print(json.dumps(times), flush=True)
    shutil.rmtree(folder)
    best = {side: min(t) for side, t in times.items()}
    report(args.name, {
        "samples": args.samples, "epochs": args.epochs, "train_params": p,
        "seconds": {side: [round(t, 1) for t in ts] for side, ts in times.items()},
        "best_seconds": {side: round(t, 1) for side, t in best.items()},
        "stage_speedup": round(best["notebook"] / best["stage"], 3),
        "stage_repeats_identical": all(c == curves[0] for c in curves),
        "target": "stage_speedup >= 1.0 (aim 1.3)",
    })


if __name__ == "__main__":
    main()
