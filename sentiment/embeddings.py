"""The embedding matrix: row i holds the word vector of the word with index i.

Vectors are memory-mapped (`mmap='r'`), so only the rows of vocabulary words are read:
the 3.6 GB GoogleNews file is never loaded whole.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from sentiment.io import PipelineError

RANDOM = "random"  # `embed.vectors: random`: no pretrained vectors, Keras-like uniform init
CORPUS = "corpus"  # `embed.vectors: corpus`: word2vec trained here on the training texts
WORD2VEC_BINARY = (".bin", ".bin.gz")
WORD2VEC_TEXT = (".txt", ".txt.gz", ".vec", ".vec.gz")


def vectors_file(path: Path) -> Path:
    """The one vectors file in a folder: a gensim `.model` (Hub layout) or word2vec format."""
    if path.is_file():
        return path
    kinds = (".model",) + WORD2VEC_BINARY + WORD2VEC_TEXT
    found = sorted(p for p in path.iterdir() if p.name.endswith(kinds))
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise PipelineError(
            f"embed.vectors: {path} must hold exactly one vectors file (*.model with its "
            f".model.vectors.npy, or word2vec *.bin / *.txt); found {names}"
        )
    return found[0]


def load_vectors(path: Path, limit: int | None):
    """gensim KeyedVectors; `.model` files are pickles, so load them only from trusted pins."""
    from gensim.models import KeyedVectors

    file = vectors_file(path)
    try:
        if file.name.endswith(".model"):
            return KeyedVectors.load(str(file), mmap="r")
        binary = file.name.endswith(WORD2VEC_BINARY)
        return KeyedVectors.load_word2vec_format(str(file), binary=binary, limit=limit)
    except (OSError, ValueError, EOFError, UnicodeDecodeError) as error:
        first = (str(error).splitlines() or [type(error).__name__])[0]
        raise PipelineError(f"embed.vectors: cannot load {file} ({first})") from None


def embedding_matrix(
    words: list[str], max_vocab: int, vectors, dim: int
) -> tuple[np.ndarray, float]:
    """(max_vocab x dim float32 matrix, share of vocabulary words found in `vectors`).

    Rows 0 (padding), 1 (OOV) and words absent from `vectors` stay zero, as in the notebook.
    """
    if vectors.vector_size != dim:
        raise PipelineError(
            f"embed.dim: is {dim} but the vectors have {vectors.vector_size} dimensions; "
            f"set embed.dim: {vectors.vector_size}"
        )
    matrix = np.zeros((max_vocab, dim), dtype=np.float32)
    rows, keys = [], []
    for i, word in enumerate(words[1 : max_vocab - 1], start=2):  # words[0] is the OOV token
        key = vectors.key_to_index.get(word)
        if key is not None:
            rows.append(i)
            keys.append(key)
    if keys:
        order = np.argsort(keys)  # read the memory map front to back
        matrix[np.asarray(rows)[order]] = vectors.vectors[np.asarray(keys)[order]]
    real_words = max(min(len(words), max_vocab - 1) - 1, 1)
    return matrix, len(rows) / real_words


def random_matrix(max_vocab: int, dim: int, seed: int) -> np.ndarray:
    """Uniform(-0.05, 0.05) like Keras' default Embedding init; padding row stays zero."""
    rng = np.random.default_rng(seed)
    matrix = rng.uniform(-0.05, 0.05, size=(max_vocab, dim)).astype(np.float32)
    matrix[0] = 0.0
    return matrix


def _stable_hash(word: str) -> int:
    """gensim seeds each word's initial vector with this; Python's hash() varies by process."""
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=4).digest(), "little")


def train_vectors(
    sentences: list[list[str]], dim: int, window: int, epochs: int, min_count: int, seed: int
):
    """Skip-gram word2vec on the corpus itself; one worker and a stable hash, so repeatable."""
    from gensim.models import Word2Vec

    model = Word2Vec(
        sentences,
        vector_size=dim,
        window=window,
        epochs=epochs,
        min_count=min_count,
        sg=1,
        seed=seed,
        workers=1,
        hashfxn=_stable_hash,
    )
    return model.wv
