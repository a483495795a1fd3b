"""Text encoding identical to Keras 2's `Tokenizer` + `pad_sequences`, which Keras 3 dropped.

Same rules as the legacy class: lower-case, replace its default filter characters by
spaces, split on single spaces, rank words by count (ties keep first-appearance order),
put the OOV token at index 1, and map every word ranked at or beyond `max_vocab` to it.
Speed comes from never touching single words in Python: reviews are lower-cased and
filtered a chunk at a time (a byte-level translate of the UTF-8 text, exact because every
filter character is ASCII and UTF-8 never uses ASCII bytes inside a multi-byte
character), then split, counted and looked up by Arrow compute kernels, and padded by
NumPy scatter.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from sentiment.io import PipelineError, read_json

# Keras 2's default `filters` for Tokenizer and text_to_word_sequence.
FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
_TO_SPACES = bytes.maketrans(FILTERS.encode(), b" " * len(FILTERS))
_SEPARATOR = "\x00"  # joins reviews for bulk work; never a filter or cased character
_CHUNK = 2000  # reviews per bulk pass: bounds the memory of the joined text
OOV_INDEX = 1  # padding is 0
_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def clean(text: str, strip_html: bool = False) -> str:
    """Optionally replace IMDB's `<br />` line breaks by spaces (off in the notebook)."""
    return _HTML_BREAK.sub(" ", text) if strip_html else text


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # lone surrogates (from argv) survive


def _normalise(text: str) -> bytes:
    """Lower-case and turn filter characters into spaces, as Keras 2 does (UTF-8 bytes)."""
    return _utf8(text.lower()).translate(_TO_SPACES)


def words(text: str) -> list[str]:
    """Keras 2's `text_to_word_sequence` with its defaults."""
    return [w.decode("utf-8", "surrogatepass") for w in _normalise(text).split(b" ") if w]


def _normalised(texts: Iterable[str]) -> Iterator[bytes]:
    """`_normalise` of each text, computed a chunk of texts at a time."""
    chunk: list[str] = []
    for text in itertools.chain(texts, [None]):
        if text is not None:
            chunk.append(text)
            if len(chunk) < _CHUNK:
                continue
        if not chunk:
            break
        parts = _normalise(_SEPARATOR.join(chunk)).split(_SEPARATOR.encode())
        if len(parts) != len(chunk):  # a review holds the separator itself: go one by one
            parts = [_normalise(t) for t in chunk]
        yield from parts
        chunk = []


def split_words(texts: Iterable[str]) -> tuple[Any, np.ndarray]:
    """(every word of every text, in order, as an Arrow array; the word count of each text).

    Fitting and encoding both start from this, so the training texts are split once.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    lists = pc.split_pattern(pa.array(list(_normalised(texts)), type=pa.large_binary()), b" ")
    flat = lists.flatten()
    nonempty = pc.not_equal(flat, pa.scalar(b"", pa.large_binary()))  # runs of spaces
    text_of_word = np.repeat(np.arange(len(lists)), np.diff(lists.offsets.to_numpy()))
    counts = np.bincount(
        text_of_word[nonempty.to_numpy(zero_copy_only=False)], minlength=len(lists)
    )
    return flat.filter(nonempty), counts


def fit_vocabulary(split: tuple[Any, np.ndarray], oov_token: str) -> list[str]:
    """All words of `split_words(texts)` by rank: entry i has word index i + 1 (0 pads)."""
    import pyarrow as pa

    words, _ = split
    encoded = words.dictionary_encode()  # dictionary in order of first appearance
    counts = np.bincount(encoded.indices.to_numpy(), minlength=len(encoded.dictionary))
    order = np.argsort(-counts, kind="stable")  # by count; ties keep first appearance
    ranked = [
        w.decode("utf-8", "surrogatepass")
        for w in encoded.dictionary.take(pa.array(order)).to_pylist()
    ]
    if oov_token in ranked:
        raise PipelineError(
            f"encode.oov_token {oov_token!r} occurs as a word in the reviews; "
            "pick a token with a filtered character, such as '<oov>'"
        )
    return [oov_token] + ranked


def token_counts(split: tuple[Any, np.ndarray], words: Sequence[str]) -> list[int]:
    """How often each of `words` occurs in `split_words(texts)`: weights for coverage."""
    import pyarrow.compute as pc

    tokens, _ = split
    counted = pc.value_counts(tokens)
    found = {
        w.decode("utf-8", "surrogatepass"): n
        for w, n in zip(counted.field(0).to_pylist(), counted.field(1).to_pylist())
    }
    return [int(found.get(w, 0)) for w in words]


def word_index(vocabulary: Sequence[str], max_vocab: int) -> dict[str, int]:
    """Word -> index for the words kept (index < max_vocab), as Keras' `num_words` does."""
    return {w: i for i, w in enumerate(vocabulary[: max_vocab - 1], start=1)}


def encode(
    split: tuple[Any, np.ndarray],
    index: dict[str, int],
    max_seq: int,
    padding: str = "pre",
    truncating: str = "pre",
) -> np.ndarray:
    """`split_words(texts)` as token ids, padded/truncated like `keras.utils.pad_sequences`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    words, lengths = split
    by_index = sorted(index, key=index.__getitem__)
    value_set = pa.array([_utf8(w) for w in by_index], type=pa.large_binary())
    position = pc.index_in(words, value_set=value_set)
    ids = np.asarray([index[w] for w in by_index] or [0], dtype=np.int32)
    found = position.is_valid().to_numpy(zero_copy_only=False)
    tokens = np.full(len(words), OOV_INDEX, dtype=np.int32)
    tokens[found] = ids[position.drop_null().to_numpy()]

    text = np.repeat(np.arange(len(lengths)), lengths)
    within = np.arange(len(tokens)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    kept = np.minimum(lengths, max_seq)
    first = lengths - kept if truncating == "pre" else np.zeros_like(lengths)
    column = within - first[text]
    keep = (column >= 0) & (column < kept[text])
    if padding == "pre":
        column = column + (max_seq - kept)[text]
    out = np.zeros((len(lengths), max_seq), dtype=np.int32)
    out[text[keep], column[keep]] = tokens[keep]
    return out


def load_vocabulary(path: str) -> dict:
    """`vocab.json` from `encode`: {"oov_token", "max_vocab", "words" (by index - 1), "counts"
    (each word's training tokens)}."""
    vocab = read_json(path, "encode")
    ok = (
        isinstance(vocab, dict)
        and isinstance(vocab.get("oov_token"), str)
        and isinstance(vocab.get("max_vocab"), int)
        and isinstance(vocab.get("words"), list)
        and vocab["words"][:1] == [vocab["oov_token"]]
        and len(vocab["words"]) < vocab["max_vocab"]
        and isinstance(vocab.get("counts"), list)
        and len(vocab["counts"]) == len(vocab["words"])
    )
    if not ok:
        raise PipelineError(
            f"{path} is not a vocabulary written by encode: "
            "re-run `dvc repro -f encode` then `dvc repro`"
        )
    return vocab
