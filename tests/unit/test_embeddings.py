"""Row i of the matrix is the vector of the word with index i; the rest stay zero."""

import numpy as np
import pytest
from gensim.models import KeyedVectors
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentiment import embeddings
from sentiment.io import PipelineError


@pytest.fixture
def vectors():
    kv = KeyedVectors(4)
    kv.add_vectors(["good", "bad", "film"], np.arange(12, dtype=np.float32).reshape(3, 4) + 1)
    return kv


def test_rows_follow_the_word_index_and_missing_words_stay_zero(vectors):
    words = ["<oov>", "film", "unknown", "good", "bad"]
    matrix, coverage = embeddings.embedding_matrix(words, max_vocab=5, vectors=vectors, dim=4)
    assert matrix.shape == (5, 4) and matrix.dtype == np.float32
    np.testing.assert_array_equal(matrix[0], 0)  # padding
    np.testing.assert_array_equal(matrix[1], 0)  # <oov>
    np.testing.assert_array_equal(matrix[2], vectors["film"])
    np.testing.assert_array_equal(matrix[3], 0)  # not in the vectors
    np.testing.assert_array_equal(matrix[4], vectors["good"])  # "bad" is index 5 >= max_vocab
    assert coverage == pytest.approx(2 / 3)


def test_matrix_has_max_vocab_rows_even_for_a_small_vocabulary(vectors):
    matrix, coverage = embeddings.embedding_matrix(["<oov>", "good"], 10, vectors, 4)
    assert matrix.shape == (10, 4) and coverage == 1.0


def test_dimension_mismatch_says_what_to_set(vectors):
    with pytest.raises(
        PipelineError, match=r"embed.dim: is 300 but the vectors have 4 .*embed.dim: 4"
    ):
        embeddings.embedding_matrix(["<oov>"], 10, vectors, 300)


def test_hub_layout_loads_memory_mapped(vectors, tmp_path):
    vectors.save(str(tmp_path / "w.model"), separately=["vectors"])
    loaded = embeddings.load_vectors(tmp_path, None)
    assert isinstance(loaded.vectors, np.memmap)
    np.testing.assert_array_equal(loaded["bad"], vectors["bad"])


@pytest.mark.parametrize(("name", "binary"), [("w.bin", True), ("w.txt", False)])
def test_word2vec_formats_load_without_pickle_and_respect_limit(vectors, tmp_path, name, binary):
    vectors.save_word2vec_format(str(tmp_path / name), binary=binary)
    loaded = embeddings.load_vectors(tmp_path, limit=2)
    assert loaded.index_to_key == ["good", "bad"]


def test_folder_must_hold_exactly_one_vectors_file(vectors, tmp_path):
    with pytest.raises(PipelineError, match=r"must hold exactly one vectors file .* found none"):
        embeddings.load_vectors(tmp_path, None)
    vectors.save_word2vec_format(str(tmp_path / "a.bin"), binary=True)
    vectors.save_word2vec_format(str(tmp_path / "b.txt"))
    with pytest.raises(PipelineError, match=r"found a.bin, b.txt"):
        embeddings.load_vectors(tmp_path, None)


def test_broken_vectors_file_is_one_clear_error(tmp_path):
    (tmp_path / "w.bin").write_bytes(b"not word2vec")
    with pytest.raises(PipelineError, match=r"^embed.vectors: .*w.bin is unreadable .*re-download"):
        embeddings.load_vectors(tmp_path, None)


class Payload:
    """What an attacker would pickle: unpickling it calls os.system."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def test_a_crafted_model_file_runs_nothing_and_is_refused(tmp_path):
    import pickle

    marker = tmp_path / "pwned"
    folder = tmp_path / "vectors"
    folder.mkdir()
    (folder / "evil.model").write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(PipelineError, match=r"asks to load posix.system.*refused for safety"):
        embeddings.load_vectors(folder, None)
    assert not marker.exists()


def test_a_model_file_whose_npy_has_the_wrong_shape_is_refused(vectors, tmp_path):
    vectors.save(str(tmp_path / "w.model"), separately=["vectors"])
    np.save(tmp_path / "w.model.vectors.npy", np.zeros((2, 4), dtype=np.float32))
    with pytest.raises(PipelineError, match=r"has vectors of shape \(2, 4\), expected \(3, 4\)"):
        embeddings.load_vectors(tmp_path, None)


def test_a_model_file_whose_npy_holds_pickled_objects_is_refused(vectors, tmp_path):
    vectors.save(str(tmp_path / "w.model"), separately=["vectors"])
    np.save(tmp_path / "w.model.vectors.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(PipelineError, match=r"w.model.vectors.npy is missing or unreadable"):
        embeddings.load_vectors(tmp_path, None)


def test_the_restricted_loader_reads_what_gensim_saved(vectors, tmp_path):
    vectors.save(str(tmp_path / "w.model"), separately=["vectors"])
    loaded = embeddings.load_vectors(tmp_path, None)
    assert loaded.index_to_key == vectors.index_to_key
    np.testing.assert_array_equal(loaded.vectors, vectors.vectors)


def test_random_init_is_seeded_and_keeps_padding_zero():
    a = embeddings.random_matrix(50, 8, seed=1)
    np.testing.assert_array_equal(a, embeddings.random_matrix(50, 8, seed=1))
    np.testing.assert_array_equal(a[0], 0)
    assert np.abs(a).max() <= 0.05 and a.dtype == np.float32


def test_corpus_vectors_are_repeatable_and_cover_the_corpus_words():
    sentences = [["a", "superb", "film"], ["a", "dull", "film"], ["superb", "acting"]] * 50
    first = embeddings.train_vectors(sentences, dim=8, window=2, epochs=2, min_count=1, seed=3)
    second = embeddings.train_vectors(sentences, dim=8, window=2, epochs=2, min_count=1, seed=3)
    np.testing.assert_array_equal(first.vectors, second.vectors)
    assert set(first.index_to_key) == {"a", "superb", "film", "dull", "acting"}
    other = embeddings.train_vectors(sentences, dim=8, window=2, epochs=2, min_count=1, seed=4)
    assert not np.array_equal(first.vectors, other.vectors)


def test_non_finite_vectors_are_refused_naming_how_many_words(tmp_path):
    (tmp_path / "w.txt").write_text("3 2\ngood 0.1 0.2\nbad nan 0.3\nfilm inf -inf\n")
    vectors = embeddings.load_vectors(tmp_path, None)
    with pytest.raises(PipelineError, match=r"2 of the vocabulary's word vectors hold NaN or inf"):
        embeddings.embedding_matrix(["<oov>", "good", "bad", "film"], 5, vectors, 2)


@pytest.mark.parametrize("name, binary", [("w.bin", True), ("w.txt", False), ("w.bin.gz", True)])
def test_word2vec_files_are_streamed_keeping_only_the_wanted_words(tmp_path, name, binary):
    from gensim.models import KeyedVectors

    rng = np.random.default_rng(0)
    words = ["the", "café", "naïve", "film", "dull", "superb"]
    kv = KeyedVectors(5)
    kv.add_vectors(words, rng.normal(size=(len(words), 5)).astype(np.float32))
    kv.save_word2vec_format(str(tmp_path / name), binary=binary)
    expected = KeyedVectors.load_word2vec_format(str(tmp_path / name), binary=binary)

    everything = embeddings.load_vectors(tmp_path, None)
    assert everything.index_to_key == expected.index_to_key
    np.testing.assert_array_equal(everything.vectors, expected.vectors)

    some = embeddings.load_vectors(tmp_path, None, wanted={"café", "superb", "absent"})
    assert some.index_to_key == ["café", "superb"]
    np.testing.assert_array_equal(some.vectors, expected.vectors[[1, 5]])
    assert embeddings.load_vectors(tmp_path, 2).index_to_key == ["the", "café"]


def test_a_truncated_word2vec_file_is_unreadable(tmp_path):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(4)
    kv.add_vectors(["good", "bad"], np.ones((2, 4), np.float32))
    kv.save_word2vec_format(str(tmp_path / "w.bin"), binary=True)
    (tmp_path / "w.bin").write_bytes((tmp_path / "w.bin").read_bytes()[:-6])
    with pytest.raises(
        PipelineError, match=r"w.bin is unreadable \(the file ends inside a vector\)"
    ):
        embeddings.load_vectors(tmp_path, None)


def test_case_fallback_is_opt_in_and_prefers_the_exact_word():
    from gensim.models import KeyedVectors

    kv = KeyedVectors(2)
    kv.add_vectors(
        ["Paris", "NASA", "film", "Film"], np.array([[1, 1], [2, 2], [3, 3], [9, 9]], np.float32)
    )
    words = ["<oov>", "paris", "nasa", "film", "zzz"]
    plain, plain_coverage = embeddings.embedding_matrix(words, 6, kv, 2)
    assert plain_coverage == 1 / 4 and plain[4].tolist() == [3, 3]
    matrix, coverage = embeddings.embedding_matrix(words, 6, kv, 2, case_fallback=True)
    assert coverage == 3 / 4
    assert matrix[2:6].tolist() == [[1, 1], [2, 2], [3, 3], [0, 0]]  # `film`, not `Film`


def test_token_coverage_weighs_words_by_their_training_tokens():
    matrix = np.zeros((6, 2), np.float32)
    matrix[2] = 1  # only the word at index 2 has a vector
    counts = [0, 90, 5, 5]  # the OOV token, then the kept words by index 2, 3, 4
    assert embeddings.token_coverage(matrix, counts) == pytest.approx(0.9)


def _build_on_the_class(attribute: str) -> bytes:
    """A pickle that names KeyedVectors and BUILDs straight onto the class (no instance)."""
    name = attribute.encode()
    return (
        b"\x80\x02cgensim.models.keyedvectors\nKeyedVectors\n"  # GLOBAL: the class itself
        + b"N}X"
        + len(name).to_bytes(4, "little")
        + name
        + b"X\x05\x00\x00\x00pwned"
        + b"s\x86b."  # SETITEM, TUPLE2 (None, {attribute: "pwned"}), BUILD, STOP
    )


def test_a_build_on_the_keyed_vectors_class_changes_nothing_and_is_refused(tmp_path):
    before = KeyedVectors.most_similar
    (tmp_path / "evil.model").write_bytes(_build_on_the_class("most_similar"))
    with pytest.raises(PipelineError, match=r"evil.model is not a gensim 4 KeyedVectors file"):
        embeddings.load_vectors(tmp_path, None)
    assert KeyedVectors.most_similar is before  # only a throwaway subclass was touched


def test_an_array_larger_than_its_file_is_refused_before_it_is_allocated(tmp_path):
    reconstruct = b"cnumpy.core.multiarray\n_reconstruct\n"
    huge = b"cnumpy\nndarray\n" + b"J\x00\xca\x9a\x3b\x85" + b"C\x01b" + b"\x87R."  # (10**9,)
    (tmp_path / "big.model").write_bytes(b"\x80\x03" + reconstruct + huge)
    with pytest.raises(PipelineError, match=r"describes an array larger than the file itself"):
        embeddings.load_vectors(tmp_path, None)


WORDS = st.lists(st.one_of(st.text(max_size=5), st.integers(), st.none()), max_size=6)
STATES = st.fixed_dictionaries(
    {
        "index_to_key": st.one_of(WORDS, st.text(max_size=3), st.none()),
        "key_to_index": st.one_of(
            st.dictionaries(st.text(max_size=5), st.one_of(st.integers(-3, 8), st.text())),
            st.lists(st.integers(), max_size=3),
        ),
        "vector_size": st.one_of(st.integers(-2, 5), st.floats(), st.text(max_size=2)),
        "vectors": st.one_of(
            st.none(),
            st.integers(0, 6).flatmap(
                lambda n: st.sampled_from(["float32", "int64", "complex64", "U3", "object"]).map(
                    lambda dtype: np.zeros((n, 4), dtype=dtype)
                )
            ),
        ),
    }
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(state=STATES)
def test_any_keyed_vectors_state_loads_only_when_it_keeps_the_contract(tmp_path, state):
    import pickle

    kv = KeyedVectors(4)
    vars(kv).update(state)
    (tmp_path / "w.model").write_bytes(pickle.dumps(kv))
    try:
        loaded = embeddings.load_vectors(tmp_path, None)
    except PipelineError as error:
        assert "\n" not in str(error) and str(error).startswith("embed.vectors: ")
        return
    keys = loaded.index_to_key
    assert all(loaded.key_to_index[k] == i for i, k in enumerate(keys))
    assert loaded.vectors.shape == (len(keys), loaded.vector_size)
    assert np.issubdtype(loaded.vectors.dtype, np.floating)


def test_an_array_made_by_calling_ndarray_directly_is_refused(tmp_path):
    class Direct:  # pickles as `numpy.ndarray((3, 300), 'float32')`: memory, no data
        def __reduce__(self):
            return (np.ndarray, ((3, 300), "float32"))

    import pickle

    kv = KeyedVectors(300)
    vars(kv)["norms"] = Direct()
    (tmp_path / "w.model").write_bytes(pickle.dumps(kv))
    with pytest.raises(PipelineError, match="constructs a NumPy array directly") as error:
        embeddings.load_vectors(tmp_path, None)
    assert "\n" not in str(error.value)


def test_a_self_referencing_structure_is_named_in_a_bounded_message(tmp_path):
    import pickle

    nested: list = []
    for _ in range(40):  # repr() of this would be 2**40 items long
        nested = [nested, nested]
    kv = KeyedVectors(4)
    kv.index_to_key, kv.key_to_index = ["a"], {"a": nested}
    (tmp_path / "w.model").write_bytes(pickle.dumps(kv))
    with pytest.raises(PipelineError) as error:
        embeddings.load_vectors(tmp_path, None)
    assert len(str(error.value)) < 400


def test_fasttext_vec_lines_ending_in_a_space_load(tmp_path):
    (tmp_path / "w.vec").write_text("2 3\ngood 1 2 3 \nbad 4 5 6 \n")
    loaded = embeddings.load_vectors(tmp_path, None)
    np.testing.assert_array_equal(loaded["bad"], [4, 5, 6])


@pytest.mark.parametrize("binary", [False, True])
def test_a_word_listed_twice_keeps_its_first_row_as_gensim_does(tmp_path, binary):
    rows = [("good", [1.0, 2.0]), ("bad", [3.0, 4.0]), ("good", [9.0, 9.0])]
    path = tmp_path / ("w.bin" if binary else "w.txt")
    with open(path, "wb") as handle:
        handle.write(b"3 2\n")
        for word, row in rows:
            if binary:
                handle.write(word.encode() + b" " + np.array(row, "<f4").tobytes() + b"\n")
            else:
                handle.write(f"{word} {row[0]} {row[1]}\n".encode())
    ours = embeddings.load_vectors(path, None)
    theirs = KeyedVectors.load_word2vec_format(str(path), binary=binary)
    listed = [k for k in theirs.index_to_key if k is not None]  # gensim pads with None
    assert ours.index_to_key == listed == ["good", "bad"]
    np.testing.assert_array_equal(ours["good"], theirs["good"])
