"""The tokenizer must give Keras 2's word index and sequences, byte for byte."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tf_keras.preprocessing.text import Tokenizer

from sentiment import text
from sentiment.io import PipelineError

TEXTS = [
    "This movie was GREAT!<br /><br />Really great, great fun.",
    "I didn't like it... the acting wasn't good; the plot? Terrible!!!",
    "",
    "   ",
    "Café naïve déjà-vu — “smart quotes” and emoji 🙂🎬 fun",
    "tab\tseparated\nnew line\r\ncarriage return and non\u00a0breaking space",
    "it's it's its IT'S 'quoted' words' edge'",
    "numbers 1 22 333 1,000 3.14 and under_scores and hy-phens",
    "a b c d e f g h i j k l m n o p q r s t u v w x y z a b c",
    "great fun fun terrible a a a the the",
]


def keras2(texts, num_words, oov="<oov>"):
    tokenizer = Tokenizer(num_words=num_words, oov_token=oov)
    tokenizer.fit_on_texts(texts)
    return tokenizer


@pytest.mark.parametrize("max_vocab", [2, 5, 20, 1000])
def test_word_index_and_sequences_match_keras2(max_vocab):
    oracle = keras2(TEXTS, max_vocab)
    vocabulary = text.fit_vocabulary(text.split_words(TEXTS), "<oov>")
    assert dict(zip(vocabulary, range(1, len(vocabulary) + 1))) == oracle.word_index
    index = text.word_index(vocabulary, max_vocab)
    ours = [[index.get(w, text.OOV_INDEX) for w in text.words(t)] for t in TEXTS]
    assert ours == oracle.texts_to_sequences(TEXTS)


def test_words_match_keras2_text_to_word_sequence():
    from tf_keras.preprocessing.text import text_to_word_sequence

    for t in TEXTS:
        assert text.words(t) == text_to_word_sequence(t)


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
def test_encode_matches_keras_pad_sequences(padding, truncating):
    import keras

    oracle = keras2(TEXTS, 30)
    expected = keras.utils.pad_sequences(
        oracle.texts_to_sequences(TEXTS), maxlen=7, padding=padding, truncating=truncating
    )
    index = text.word_index(text.fit_vocabulary(text.split_words(TEXTS), "<oov>"), 30)
    ours = text.encode(text.split_words(TEXTS), index, 7, padding, truncating)
    assert ours.dtype == np.int32
    np.testing.assert_array_equal(ours, expected)


def test_ties_keep_first_appearance_order():
    vocabulary = text.fit_vocabulary(
        text.split_words(["zebra apple", "mango apple zebra mango"]), "<oov>"
    )
    assert vocabulary == ["<oov>", "zebra", "apple", "mango"]


def test_words_at_or_beyond_max_vocab_become_oov():
    index = text.word_index(["<oov>", "a", "b", "c"], max_vocab=3)
    assert index == {"<oov>": 1, "a": 2}
    np.testing.assert_array_equal(text.encode(text.split_words(["c b a"]), index, 3), [[1, 1, 2]])


def test_oov_token_that_is_also_a_word_is_rejected():
    with pytest.raises(PipelineError, match="encode.oov_token 'unk' occurs as a word"):
        text.fit_vocabulary(text.split_words(["an unk word"]), "unk")


def test_strip_html_removes_line_breaks_only_when_asked():
    review = "Good.<br /><br />Bad.<BR>Ugly"
    assert text.words(text.clean(review)) == ["good", "br", "br", "bad", "br", "ugly"]
    assert text.words(text.clean(review, strip_html=True)) == ["good", "bad", "ugly"]


def test_empty_text_encodes_to_padding():
    np.testing.assert_array_equal(
        text.encode(text.split_words(["", "  "]), {"<oov>": 1}, 4), np.zeros((2, 4))
    )


def test_bulk_path_matches_keras2_across_chunks_and_odd_characters():
    rng = np.random.default_rng(0)
    pool = ["ΟΔΟΣ", "Σ'", "İstanbul", "nul\x00byte", "x", "Straße", "a.b", "\ud800"] + TEXTS
    texts = [
        " ".join(rng.choice(pool, size=rng.integers(0, 6))) for _ in range(2 * text._CHUNK + 7)
    ]
    oracle = keras2(texts, 50)
    vocabulary = text.fit_vocabulary(text.split_words(texts), "<oov>")
    assert dict(zip(vocabulary, range(1, len(vocabulary) + 1))) == oracle.word_index
    import keras

    expected = keras.utils.pad_sequences(oracle.texts_to_sequences(texts), maxlen=9)
    np.testing.assert_array_equal(
        text.encode(text.split_words(texts), text.word_index(vocabulary, 50), 9), expected
    )


def test_token_counts_count_each_words_training_tokens():
    split = text.split_words(["a film, a FILM!", "the film"])
    assert text.token_counts(split, ["<oov>", "film", "a", "the", "absent"]) == [0, 3, 2, 1, 0]


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(
        st.text(
            alphabet=st.one_of(
                st.characters(codec="utf-8"), st.sampled_from(list(" .,!?'\"\t\n<>/-_İΣß"))
            ),
            max_size=40,
        ),
        max_size=8,
    ),
    max_vocab=st.integers(2, 30),
    maxlen=st.integers(1, 12),
)
def test_any_text_tokenizes_and_encodes_exactly_as_keras2(texts, max_vocab, maxlen):
    import keras

    oracle = keras2(texts, max_vocab)
    vocabulary = text.fit_vocabulary(text.split_words(texts), "<oov>")
    assert dict(zip(vocabulary, range(1, len(vocabulary) + 1))) == oracle.word_index
    expected = keras.utils.pad_sequences(oracle.texts_to_sequences(texts), maxlen=maxlen)
    encoded = text.encode(text.split_words(texts), text.word_index(vocabulary, max_vocab), maxlen)
    np.testing.assert_array_equal(encoded.reshape(expected.shape), expected)
