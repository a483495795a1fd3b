"""Text encoding identical to Keras 2's `Tokenizer` + `pad_sequences`, which Keras 3 dropped.

Same rules as the legacy class: lower-case, replace its default filter characters by
spaces, split on single spaces, rank words by count (ties keep first-appearance order),
put the OOV token at index 1, and map every word ranked at or beyond `max_vocab` to it.
Speed comes from doing the character work on many reviews at once: reviews are joined,
lower-cased and filtered in one pass (a byte-level translate of the UTF-8 text, exact
because every filter character is ASCII and UTF-8 never uses ASCII bytes inside a
multi-byte character), and words are counted by `collections.Counter` in C.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter

import numpy as np

from sentiment.io import PipelineError

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


def _normalise(text: str) -> str:
    """Lower-case and turn filter characters into spaces, as Keras 2 does."""
    raw = text.lower().encode("utf-8", "surrogatepass").translate(_TO_SPACES)
    return raw.decode("utf-8", "surrogatepass")


def words(text: str) -> list[str]:
    """Keras 2's `text_to_word_sequence` with its defaults."""
    return [w for w in _normalise(text).split(" ") if w]


def _normalised(texts: Iterable[str]) -> Iterator[str]:
    """`_normalise` of each text, computed a chunk of texts at a time."""
    chunk: list[str] = []
    for text in itertools.chain(texts, [None]):
        if text is not None:
            chunk.append(text)
            if len(chunk) < _CHUNK:
                continue
        if not chunk:
            break
        parts = _normalise(_SEPARATOR.join(chunk)).split(_SEPARATOR)
        if len(parts) != len(chunk):  # a review holds the separator itself: go one by one
            parts = [_normalise(t) for t in chunk]
        yield from parts
        chunk = []


def fit_vocabulary(texts: Iterable[str], oov_token: str) -> list[str]:
    """All words by rank: index i of the result has word index i + 1 (0 is padding)."""
    counts: Counter[str] = Counter()
    for normalised in _normalised(texts):
        counts.update(normalised.split(" "))
    counts.pop("", None)  # runs of spaces; removing it keeps the others' order
    if oov_token in counts:
        raise PipelineError(
            f"encode.oov_token {oov_token!r} occurs as a word in the reviews; "
            "pick a token with a filtered character, such as '<oov>'"
        )
    ranked = sorted(counts.items(), key=itemgetter(1), reverse=True)  # stable: ties keep order
    return [oov_token] + [word for word, _ in ranked]


def word_index(vocabulary: Sequence[str], max_vocab: int) -> dict[str, int]:
    """Word -> index for the words kept (index < max_vocab), as Keras' `num_words` does."""
    return {w: i for i, w in enumerate(vocabulary[: max_vocab - 1], start=1)}


def encode(
    texts: Iterable[str],
    index: dict[str, int],
    max_seq: int,
    padding: str = "pre",
    truncating: str = "pre",
) -> np.ndarray:
    """Sequences padded/truncated like `keras.utils.pad_sequences` (int32, value 0)."""
    rows = []
    for normalised in _normalised(texts):
        seq = [index.get(w, OOV_INDEX) for w in normalised.split(" ") if w]
        if len(seq) > max_seq:
            seq = seq[-max_seq:] if truncating == "pre" else seq[:max_seq]
        rows.append(seq)
    out = np.zeros((len(rows), max_seq), dtype=np.int32)
    for i, seq in enumerate(rows):
        if seq:
            if padding == "pre":
                out[i, max_seq - len(seq) :] = seq
            else:
                out[i, : len(seq)] = seq
    return out


def load_vocabulary(path: str) -> dict:
    """`vocab.json` from `encode`: {"oov_token", "max_vocab", "words"} (words by index - 1)."""
    from sentiment.io import read_json

    vocab = read_json(path, "encode")
    ok = (
        isinstance(vocab, dict)
        and isinstance(vocab.get("oov_token"), str)
        and isinstance(vocab.get("max_vocab"), int)
        and isinstance(vocab.get("words"), list)
        and vocab["words"][:1] == [vocab["oov_token"]]
        and len(vocab["words"]) < vocab["max_vocab"]
    )
    if not ok:
        raise PipelineError(
            f"{path} is not a vocabulary written by encode: re-run `dvc repro -f encode`"
        )
    return vocab
