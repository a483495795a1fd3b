"""The embedding matrix: row i holds the word vector of the word with index i.

Vectors are memory-mapped (`mmap='r'`), so only the rows of vocabulary words are read:
the 3.6 GB GoogleNews file is never loaded whole.

A gensim `.model` file is a Python pickle, and unpickling can run any code the file
names. It is therefore read by an unpickler that admits only what a saved KeyedVectors
holds (the class itself, NumPy arrays, builtin containers), and its `.npy` arrays without
pickle; anything else is refused before it runs.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np

from sentiment.io import PipelineError
from sentiment.params import short

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


# Every global a KeyedVectors pickle (gensim 4) may name; nothing here runs code from data.
SAFE_GLOBALS = {
    ("gensim.models.keyedvectors", "KeyedVectors"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("copyreg", "_reconstructor"),
    ("builtins", "object"),
    ("collections", "OrderedDict"),
}


class _KeyedVectorsUnpickler(pickle.Unpickler):
    """Admits only SAFE_GLOBALS, and hands out fresh stand-ins for the two that a BUILD
    could otherwise change for the whole process: a throwaway subclass of KeyedVectors
    (a BUILD on the class itself sets attributes on that subclass only) and a wrapper of
    copyreg's reconstructor. NumPy's array reconstruction is bounded by the file's size,
    and `numpy.ndarray` is handed out as a subclass that cannot be called: an array made by
    calling it would hold uninitialised memory, not data from the file."""

    def __init__(self, handle, file_name: str, size: int):
        super().__init__(handle, encoding="latin1")
        self.file_name, self.size = file_name, size
        self.keyed_vectors = None
        refuse = self._refuse_direct_array

        class FromFileOnly(np.ndarray):
            def __new__(cls, *args, **kwargs):
                refuse()

        self.array_type = FromFileOnly

    def _refuse_direct_array(self):
        raise PipelineError(
            f"embed.vectors: {self.file_name} constructs a NumPy array directly instead of "
            "from its data, which a KeyedVectors file never does; refused: re-download the "
            "vectors"
        )

    def find_class(self, module: str, name: str):
        if (module, name) not in SAFE_GLOBALS:
            raise PipelineError(
                f"embed.vectors: {self.file_name} asks to load {module}.{name}, which a "
                "KeyedVectors file never holds; refused for safety (a .model file is a pickle "
                "and could run code): use vectors from a source you trust, or word2vec .bin/.txt"
            )
        found = super().find_class(module, name)
        if name == "KeyedVectors":
            if self.keyed_vectors is None:
                self.keyed_vectors = type("KeyedVectors", (found,), {})
            return self.keyed_vectors
        if name == "_reconstructor":
            return lambda *args: found(*args)
        if name == "_reconstruct":
            return self._bounded(found)
        if name == "ndarray":
            return self.array_type
        return found

    def _bounded(self, reconstruct):
        def make(cls, shape, dtype):
            count = np.prod(np.asarray(shape, dtype=np.float64))  # no overflow
            if not np.isfinite(count) or count * np.dtype(dtype).itemsize > self.size:
                raise PipelineError(
                    f"embed.vectors: {self.file_name} describes an array larger than the "
                    "file itself; refused (a corrupt or crafted file): re-download the vectors"
                )
            return reconstruct(cls, shape, dtype)

        return make


def _plain_arrays(value, depth: int = 0):
    """Arrays the restricted unpickler made (a subclass of ndarray), as plain ndarrays,
    inside the containers a KeyedVectors holds."""
    if isinstance(value, np.ndarray):
        return value.view(np.ndarray)
    if depth < 4 and isinstance(value, dict):
        return type(value)((k, _plain_arrays(v, depth + 1)) for k, v in value.items())
    if depth < 4 and isinstance(value, list):
        return [_plain_arrays(v, depth + 1) for v in value]
    return value


def check_keyed_vectors(vectors, file: Path) -> None:
    """The contract of a loaded KeyedVectors: words are unique strings, indices 0..n-1
    agreeing both ways, and a finite-size real floating n x vector_size array."""

    def refuse(what: str) -> None:
        raise PipelineError(f"embed.vectors: {file.name} {what}; re-download the vectors")

    keys, index = vectors.index_to_key, vectors.key_to_index
    if not isinstance(keys, list) or not all(type(k) is str for k in keys):
        refuse("has an index_to_key that is not a list of words")
    if not isinstance(index, dict) or len(index) != len(keys):
        refuse("has a key_to_index that does not match index_to_key")
    for position, key in enumerate(keys):
        at = index.get(key)
        if type(at) not in (int, np.int64, np.int32) or at != position:
            refuse(f"maps {short(key)} to index {short(at)} instead of {position}")
    size = vectors.vector_size
    if type(size) is not int or size < 1:
        refuse(f"has vector_size {short(size)}, not a positive integer")
    array = getattr(vectors, "vectors", None)
    if not isinstance(array, np.ndarray) or not np.issubdtype(array.dtype, np.floating):
        refuse("has vectors that are not an array of real floating-point numbers")
    if array.shape != (len(keys), size):
        refuse(
            f"has vectors of shape {array.shape}, expected {(len(keys), size)} (one row per "
            "word); the .npy does not belong to this .model"
        )


def load_model_file(file: Path):
    """A gensim `.model` KeyedVectors through the restricted unpickler, checked against its
    contract before use; arrays memory-mapped."""
    from gensim.models import KeyedVectors

    with open(file, "rb") as handle:
        unpickler = _KeyedVectorsUnpickler(handle, file.name, file.stat().st_size)
        vectors = unpickler.load()
    stand_in = unpickler.keyed_vectors
    if stand_in is None or type(vectors) is not stand_in:
        raise PipelineError(
            f"embed.vectors: {file} is not a gensim 4 KeyedVectors file; "
            "save it with gensim 4 (KeyedVectors.save) or use word2vec .bin/.txt"
        )
    if set(vars(stand_in)) - {
        "__module__",
        "__doc__",
        "__qualname__",
        "__firstlineno__",
        "__static_attributes__",
    }:
        raise PipelineError(f"embed.vectors: {file} changes the KeyedVectors class; refused")
    vectors.__class__ = KeyedVectors
    state = vars(vectors)
    for key, value in list(state.items()):  # the unpickler's array subclass: plain again
        state[key] = _plain_arrays(value)
    if not {"index_to_key", "key_to_index", "vector_size"} <= set(state):
        raise PipelineError(
            f"embed.vectors: {file} is not a gensim 4 KeyedVectors file; "
            "save it with gensim 4 (KeyedVectors.save) or use word2vec .bin/.txt"
        )
    if state.get("__scipys") or state.get("__recursive_saveloads"):
        raise PipelineError(f"embed.vectors: {file} holds parts a KeyedVectors file never has")
    numpys = state.get("__numpys", [])
    if not isinstance(numpys, list) or not all(n in ("vectors", "vectors_lockf") for n in numpys):
        raise PipelineError(f"embed.vectors: {file} names arrays a KeyedVectors never has")
    for attribute in numpys:
        array_file = file.with_name(f"{file.name}.{attribute}.npy")
        try:
            array = np.load(array_file, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as error:
            raise PipelineError(
                f"embed.vectors: {array_file} is missing or unreadable ({error}); "
                "re-download the vectors"
            ) from None
        setattr(vectors, attribute, array)
    for attribute in state.get("__ignoreds", []) or []:
        if isinstance(attribute, str):
            setattr(vectors, attribute, None)
    check_keyed_vectors(vectors, file)
    return vectors


class _Chunks:
    """A byte stream read a chunk at a time, for the word2vec binary format's unframed words."""

    def __init__(self, handle, size: int = 1 << 20):
        self.handle, self.size, self.buffer, self.pos = handle, size, b"", 0

    def _more(self) -> bool:
        chunk = self.handle.read(self.size)
        self.buffer, self.pos = self.buffer[self.pos :] + chunk, 0
        return bool(chunk)

    def until_space(self) -> bytes:
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in b"\n\r":
                self.pos += 1
            end = self.buffer.find(b" ", self.pos)
            if end >= 0:
                word, self.pos = self.buffer[self.pos : end], end + 1
                return word
            if not self._more():
                raise EOFError("the file ends inside a word")

    def take(self, n: int) -> bytes:
        while len(self.buffer) - self.pos < n:
            if not self._more():
                raise EOFError("the file ends inside a vector")
        data, self.pos = self.buffer[self.pos : self.pos + n], self.pos + n
        return data


def read_word2vec(file: Path, wanted: set[str] | None, limit: int | None):
    """Stream a word2vec `.bin`/`.txt` (optionally gzipped), keeping only `wanted` words.

    Memory grows with the vocabulary, not with the file: the 3,000,000-word GoogleNews
    `.bin` is 3.6 GB, of which a 45,000-word vocabulary needs about 54 MB.
    """
    import gzip

    from gensim.models import KeyedVectors

    wanted_bytes = None if wanted is None else {w.encode("utf-8") for w in wanted}
    keys, rows, seen = [], [], set()
    with (gzip.open if file.name.endswith(".gz") else open)(file, "rb") as handle:
        header = handle.readline().split()
        if len(header) != 2 or not all(part.isdigit() for part in header):
            raise ValueError(f"the first line is not '<words> <dimensions>': {short(header)}")
        count, dim = int(header[0]), int(header[1])
        count = count if limit is None else min(count, limit)
        chunks = _Chunks(handle) if file.name.endswith(WORD2VEC_BINARY) else None
        for _ in range(count):
            if chunks is not None:
                word, raw = chunks.until_space(), chunks.take(4 * dim)
            else:
                # fastText's .vec ends each line with a space: strip all trailing space
                parts = handle.readline().rstrip().split(b" ")
                word, raw = parts[0], parts[1:]
                if len(raw) != dim:
                    raise ValueError(f"a line holds {len(raw)} numbers, expected {dim}")
            if word in seen:  # a word listed twice: the first row counts, as in gensim
                continue
            seen.add(word)
            if wanted_bytes is None or word in wanted_bytes:
                keys.append(word.decode("utf-8"))
                rows.append(
                    np.frombuffer(raw, dtype="<f4") if chunks else np.array(raw, dtype=np.float32)
                )
    vectors = KeyedVectors(dim)
    if keys:
        vectors.add_vectors(keys, np.vstack(rows).astype(np.float32))
    return vectors


def load_vectors(path: Path, limit: int | None, wanted: set[str] | None = None):
    """gensim KeyedVectors from a `.model` (restricted unpickling) or a word2vec file
    (streamed: only the `wanted` words are kept, all of them when None)."""
    file = vectors_file(path)
    try:
        if file.name.endswith(".model"):
            return load_model_file(file)
        return read_word2vec(file, wanted, limit)
    except (
        OSError,
        ValueError,
        EOFError,
        UnicodeError,
        pickle.UnpicklingError,
        TypeError,
        AttributeError,
        KeyError,
        IndexError,
        MemoryError,
        RecursionError,
    ) as error:  # what a corrupt or crafted pickle makes the unpickler raise
        first = (str(error).splitlines() or [type(error).__name__])[0][:200]
        raise PipelineError(
            f"embed.vectors: {file} is unreadable ({first}): re-download it"
        ) from None


def lookups(word: str, case_fallback: bool) -> list[str]:
    """The keys tried for a word: the lower-cased word, then (opt-in) `Word` and `WORD`,
    since the GoogleNews vectors are case-sensitive and hold many words only capitalised."""
    if not case_fallback:
        return [word]
    return list(dict.fromkeys([word, word[:1].upper() + word[1:], word.upper()]))


def embedding_matrix(
    words: list[str], max_vocab: int, vectors, dim: int, case_fallback: bool = False
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
        key = next(
            (
                k
                for k in map(vectors.key_to_index.get, lookups(word, case_fallback))
                if k is not None
            ),
            None,
        )
        if key is not None:
            rows.append(i)
            keys.append(key)
    if keys:
        order = np.argsort(keys)  # read the memory map front to back
        matrix[np.asarray(rows)[order]] = vectors.vectors[np.asarray(keys)[order]]
    broken = np.flatnonzero(~np.isfinite(matrix).all(axis=1))
    if broken.size:
        examples = ", ".join(repr(words[i - 1]) for i in broken[:3])
        raise PipelineError(
            f"embed.vectors: {broken.size} of the vocabulary's word vectors hold NaN or "
            f"infinite values (e.g. {examples}): fix or re-download the vectors"
        )
    real_words = max(min(len(words), max_vocab - 1) - 1, 1)
    return matrix, len(rows) / real_words


def token_coverage(matrix: np.ndarray, counts: list[int]) -> float:
    """Share of the training tokens of kept words whose row holds a vector: what the model
    actually sees, where the distinct-word share counts a rare word like a frequent one."""
    weights = np.zeros(len(matrix))
    weights[2 : 2 + len(counts) - 1] = counts[1 : len(matrix) - 1]  # counts[0] is the OOV token
    found = np.any(matrix != 0, axis=1)
    return float(weights[found].sum() / max(weights.sum(), 1))


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
        vector_size=dim,
        window=window,
        epochs=epochs,
        min_count=min_count,
        sg=1,
        seed=seed,
        workers=1,
        hashfxn=_stable_hash,
    )
    model.build_vocab(sentences)  # what Word2Vec(sentences, …) does, with a check in between
    if not model.wv.index_to_key:
        raise PipelineError(
            f"embed.min_count: no word of the corpus occurs {min_count} times or more; lower it"
        )
    model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
    return model.wv
