"""The notebook's BiLSTM, built from params, and its file: saved byte-stable, loaded safely,
and bound to the vocabulary and encoding it was trained with (fingerprint).

The LSTM keeps Keras' cuDNN-eligible settings (tanh/sigmoid, no recurrent dropout, no
unroll, bias on, and no mask, since the sequences are left-padded), so on a GPU it runs
the fused cuDNN kernel and on a CPU the same code runs unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sentiment.devices import set_cpu_threads
from sentiment.io import PipelineError, atomic_path, file_digest, read_json

CUDNN_SETTINGS = {
    "activation": "tanh",
    "recurrent_activation": "sigmoid",
    "recurrent_dropout": 0.0,
    "unroll": False,
    "use_bias": True,
}



def build_model(
    embedding_matrix: np.ndarray,
    max_seq: int,
    units: int,
    spatial_dropout: float,
    dropout: float,
    dense_dropout: float,
    n_classes: int = 2,
    use_cudnn: bool | str = "auto",
):
    """Input -> Embedding(word2vec init) -> SpatialDropout1D -> BiLSTM -> max-pool -> softmax."""
    import keras
    from keras import layers

    vocab_size, dim = embedding_matrix.shape
    inputs = keras.Input(shape=(max_seq,), dtype="int32", name="tokens")
    embedding = layers.Embedding(vocab_size, dim, trainable=True, name="embedding")
    x = embedding(inputs)
    x = layers.SpatialDropout1D(spatial_dropout)(x)
    x = layers.Bidirectional(
        layers.LSTM(
            units, dropout=dropout, return_sequences=True, use_cudnn=use_cudnn, **CUDNN_SETTINGS
        ),
        name="bilstm",
    )(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dropout(dense_dropout)(x)
    # float32 output keeps the softmax stable under mixed precision
    outputs = layers.Dense(n_classes, activation="softmax", dtype="float32", name="output")(x)
    model = keras.Model(inputs, outputs, name="sentiment_bilstm")
    # set_weights, not a Constant initializer, which would copy the matrix into the config
    embedding.set_weights([embedding_matrix])
    return model



def compile_model(model, learning_rate: float, weight_decay: float) -> None:
    import keras

    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )



def fingerprint(*paths: str | Path) -> dict[str, str]:
    """Each file's SHA-256 by name. train records the model's own with its vocabulary's and
    encoding's, so a model from another run, even one of the same shapes, is never used
    with these files, nor these files with another model."""
    return {Path(path).name: file_digest(path).hexdigest() for path in paths}



def check_fingerprint(recorded_path: str, model_path: str, *paths: str) -> None:
    """Refuse a model, vocabulary or encoding other than the three one train run wrote."""
    fix = "take the model and its files from one run (`dvc pull models/` or `dvc repro train`)"
    recorded = read_json(recorded_path, "train")
    expected = {Path(p).name for p in (model_path, *paths)}
    if not isinstance(recorded, dict) or not expected <= set(recorded):
        raise PipelineError(
            f"{recorded_path} does not name the SHA-256 of {', '.join(sorted(expected))}, "
            f"as train writes it: {fix}"
        )
    if not Path(model_path).is_file():
        raise PipelineError(f"{model_path} is missing: run `dvc repro train` (or `dvc pull`) first")
    for name, digest in fingerprint(model_path, *paths).items():
        if recorded[name] != digest:
            raise PipelineError(
                f"{name} is not from the run that wrote {recorded_path} (its SHA-256 "
                f"differs): {fix}"
            )



def _renumbered(config: Any, ids: dict[int, int]) -> Any:
    """`shared_object_id`s (Python object addresses, new in every process) numbered in the
    order they appear, the same number for the same object."""
    if isinstance(config, dict):
        return {k: ids.setdefault(v, len(ids) + 1) if k == "shared_object_id"
                else _renumbered(v, ids) for k, v in config.items()}
    if isinstance(config, list):
        return [_renumbered(v, ids) for v in config]
    return config



def save_model(net, path: str | Path) -> None:
    """`net.save`, then the same bytes for the same weights: Keras writes the save time
    (metadata.json's `date_saved`, the weights entry's timestamp) and object addresses
    (config.json's `shared_object_id`) into the `.keras` zip, which would change the file,
    dvc.lock and everything downstream on every re-run of train."""
    import json
    import zipfile

    path = Path(path)
    net.save(path)
    with zipfile.ZipFile(path) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        for info, data in entries:
            if info.filename == "metadata.json":
                metadata = json.loads(data)
                metadata.pop("date_saved", None)
                data = json.dumps(metadata).encode()
            elif info.filename == "config.json":
                data = json.dumps(_renumbered(json.loads(data), {})).encode()
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type, fixed.external_attr = info.compress_type, info.external_attr
            archive.writestr(fixed, data)



def load_model(path: str):
    """A trained model, loaded with Keras' safe_mode (no arbitrary code from the file)."""
    import zipfile
    from pathlib import Path

    import keras

    if not Path(path).is_file():
        raise PipelineError(f"{path} is missing: run `dvc repro train` (or `dvc pull`) first")
    set_cpu_threads()  # evaluate and predict run the BiLSTM as training does
    try:
        return keras.models.load_model(path, safe_mode=True)
    except (ValueError, OSError, zipfile.BadZipFile, KeyError, TypeError) as error:
        first = (str(error).splitlines() or [type(error).__name__])[0][:200]
        if "safe_mode" in str(error):
            raise PipelineError(
                f"{path} holds code (a Lambda layer), which is refused for safety "
                "(Keras safe_mode): use a model this pipeline trained (`dvc repro train`)"
            ) from None
        raise PipelineError(
            f"{path} is unreadable ({first}): re-run `dvc repro -f train` then `dvc repro`"
        ) from None
