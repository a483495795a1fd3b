"""prepare's loading, checks and split rules, on real `datasets` folders in the Hub layout."""

import numpy as np
import pytest
from datasets import ClassLabel, Dataset, Features, Value, load_dataset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.sample import PLANTED_DUPLICATES
from sentiment import data
from sentiment.io import PipelineError


def write_folder(folder, texts, labels, features=None, splits=("train", "test")):
    """The reviews, halved into the given splits, as a folder in the Hub layout."""
    (folder / "plain_text").mkdir(parents=True, exist_ok=True)
    half = len(texts) // len(splits)
    for n, split in enumerate(splits):
        part = slice(n * half, (n + 1) * half)
        dataset = Dataset.from_dict({"text": texts[part], "label": labels[part]}, features=features)
        dataset.to_parquet(str(folder / "plain_text" / f"{split}-00000-of-00001.parquet"))
    return folder


LABELLED = Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])})


def test_random_split_is_the_notebooks_train_test_split(sample):
    dataset, _ = sample
    splits, dropped = data.load_and_split(dataset, "random", 0.2, 0, None, dedupe=False)
    expected = load_dataset(str(dataset), split="train+test").train_test_split(
        test_size=0.2, seed=0
    )
    assert dropped == {"empty": 0, "duplicates": 0, "test_in_train": 0}
    assert list(splits["train"]["text"]) == expected["train"]["text"]
    assert list(splits["test"]["label"]) == expected["test"]["label"]


def test_official_split_keeps_the_datasets_own_train_and_test(sample, tmp_path):
    dataset, _ = sample
    splits, _ = data.load_and_split(dataset, "official", 0.2, 0, None, dedupe=False)
    test = load_dataset(str(dataset), split="test", cache_dir=str(tmp_path))
    assert sorted(splits["test"]["text"]) == sorted(test["text"])
    assert list(splits["test"]["text"]) != test["text"]  # shuffled: the files are label-ordered
    assert len(splits["train"]) == 600


@pytest.mark.parametrize("split", ["random", "official"])
def test_max_samples_takes_a_stratified_seeded_subset(sample, split):
    dataset, _ = sample
    splits, _ = data.load_and_split(dataset, split, 0.25, 3, 200, dedupe=False)
    assert sum(len(f) for f in splits.values()) == 200
    # the sample is exactly half positive: a stratified subset is too, a random one rarely
    assert sum(int(f["label"].sum()) for f in splits.values()) == 100
    again, _ = data.load_and_split(dataset, split, 0.25, 3, 200, dedupe=False)
    assert again["train"].equals(splits["train"])


def test_empty_reviews_are_dropped_and_counted(tmp_path):
    texts = ["good film", "", "   ", "bad film"] * 5
    folder = write_folder(tmp_path, texts, [1, 0, 1, 0] * 5, LABELLED)
    splits, dropped = data.load_and_split(folder, "random", 0.5, 0, None, dedupe=False)
    assert dropped["empty"] == 10
    assert sum(len(f) for f in splits.values()) == 10
    assert data.describe(splits, dropped)["dropped"]["empty"] == 10


@pytest.mark.parametrize("split", ["random", "official"])
def test_dedupe_leaves_train_and_test_without_a_shared_text(sample, split):
    dataset, _ = sample
    splits, dropped = data.load_and_split(dataset, split, 0.2, 0, None, dedupe=True)
    train, test = list(splits["train"]["text"]), list(splits["test"]["text"])
    assert not set(train) & set(test)
    assert len(set(train)) == len(train) and len(set(test)) == len(test)
    planted = sum(PLANTED_DUPLICATES.values())
    assert dropped["duplicates"] + dropped["test_in_train"] == planted
    assert data.describe(splits, dropped)["test_texts_in_train"] == 0


def test_without_dedupe_the_planted_duplicates_stay(sample):
    dataset, _ = sample
    splits, dropped = data.load_and_split(dataset, "official", 0.2, 0, None, dedupe=False)
    assert dropped == {"empty": 0, "duplicates": 0, "test_in_train": 0}
    described = data.describe(splits, dropped)
    assert described["test_texts_in_train"] == PLANTED_DUPLICATES["test_in_train"]


def test_dedupe_drops_repeats_within_each_side_and_test_copies_of_train(tmp_path):
    train = ["good film", "bad film", "good film", "fine film"]
    test = ["good film", "awful film", "nice film", "awful film"]
    folder = write_folder(tmp_path, train + test, [1, 0, 1, 1] + [1, 0, 1, 0], LABELLED)
    splits, dropped = data.load_and_split(folder, "official", 0.2, 0, None, dedupe=True)
    assert sorted(splits["train"]["text"]) == ["bad film", "fine film", "good film"]
    assert sorted(splits["test"]["text"]) == ["awful film", "nice film"]
    assert dropped == {"empty": 0, "duplicates": 2, "test_in_train": 1}


def test_missing_column_is_named(tmp_path):
    folder = tmp_path / "d"
    for split in ("train", "test"):
        (folder / "plain_text").mkdir(parents=True, exist_ok=True)
        Dataset.from_dict({"review": ["a"] * 4, "label": [0, 1] * 2}).to_parquet(
            str(folder / "plain_text" / f"{split}-00000-of-00001.parquet")
        )
    with pytest.raises(PipelineError, match=r"has columns \['review', 'label'\]; expected 'text'"):
        data.load_and_split(folder, "random", 0.5, 0, None, dedupe=False)


def test_labels_outside_the_classes_are_rejected(tmp_path):
    folder = write_folder(tmp_path, ["a", "b", "c", "d"], [0, 1, 2, 1])
    with pytest.raises(PipelineError, match=r"has labels \[2\] outside the classes"):
        data.load_and_split(folder, "random", 0.5, 0, None, dedupe=False)


def test_too_few_reviews_for_the_split_is_an_error(tmp_path):
    folder = write_folder(tmp_path, ["good", "bad", "fine", "meh"], [1, 1, 0, 0], LABELLED)
    with pytest.raises(PipelineError, match=r"the test split has no '(neg|pos)' review"):
        data.load_and_split(folder, "random", 0.25, 0, None, dedupe=False)


@pytest.mark.parametrize(
    ("labels", "dtype"), [([0.0, 1.0] * 4, "float"), ([False, True] * 4, "bool")]
)
def test_labels_that_are_not_integers_are_named_with_their_type(tmp_path, labels, dtype):
    folder = write_folder(tmp_path, [f"review {i}" for i in range(8)], labels)
    with pytest.raises(PipelineError, match=rf"has {dtype}\w* labels; expected the integers 0"):
        data.load_and_split(folder, "random", 0.5, 0, None, dedupe=False)


def test_a_test_size_that_leaves_a_handful_of_training_reviews_is_an_error(tmp_path):
    texts = [f"review number {i}" for i in range(40)]
    folder = write_folder(tmp_path, texts, [0, 1] * 20, LABELLED)
    splits, _ = data.load_and_split(folder, "random", 0.8, 0, None, dedupe=False)
    with pytest.raises(PipelineError, match=r"the train split has only \d+ '(neg|pos)' reviews"):
        data.check_enough_training(splits["train"])


def test_folder_without_the_split_names_the_layout(tmp_path):
    folder = write_folder(tmp_path, ["good", "bad"] * 4, [1, 0] * 4, LABELLED, ("train",))
    with pytest.raises(
        PipelineError, match=r"cannot load split 'test' .* expected the stanfordnlp/imdb layout"
    ):
        data.load_and_split(folder, "official", 0.2, 0, None, dedupe=False)


def test_describe_reports_sizes_balance_and_length_percentiles(sample):
    dataset, _ = sample
    splits, dropped = data.load_and_split(dataset, "random", 0.2, 0, None, dedupe=False)
    stats = data.describe(splits, dropped)
    assert stats["reviews"] == {"train": 960, "test": 240}
    lengths = [len(t.split()) for t in splits["train"]["text"]]
    assert stats["train_length_words"]["p50"] == pytest.approx(np.median(lengths), rel=0.2)
    assert stats["pos_share"]["train"] == round(splits["train"]["label"].mean(), 4)


def test_folders_with_the_same_name_never_share_a_cached_copy(tmp_path):
    first = write_folder(tmp_path / "a" / "imdb", ["good", "bad"] * 4, [1, 0] * 4, LABELLED)
    second = write_folder(tmp_path / "b" / "imdb", ["fine", "meh"] * 4, [1, 0] * 4, LABELLED)
    texts = [
        set(data.load_and_split(folder, "random", 0.5, 0, None, dedupe=False)[0]["train"]["text"])
        for folder in (first, second)
    ]
    assert texts == [{"good", "bad"}, {"fine", "meh"}]


def test_label_names_must_be_neg_then_pos(tmp_path):
    swapped = Features({"text": Value("string"), "label": ClassLabel(names=["pos", "neg"])})
    folder = write_folder(tmp_path, ["good", "bad", "fine", "meh"] * 2, [0, 1] * 4, swapped)
    with pytest.raises(PipelineError, match=r"classes \['pos', 'neg'\]; expected \['neg', 'pos'\]"):
        data.load_and_split(folder, "random", 0.5, 0, None, dedupe=False)


def test_null_texts_in_the_unlabelled_split_are_dropped(tmp_path):
    from lab.sample import DATASET_CARD

    folder = tmp_path / "d"
    (folder / "plain_text").mkdir(parents=True)
    (folder / "README.md").write_text(DATASET_CARD)  # names the `unsupervised` split
    for split in ("train", "test"):
        write_folder(folder, ["good", "bad"], [1, 0], LABELLED, (split,))
    Dataset.from_dict({"text": ["a fine film", None, "", "dull"], "label": [-1] * 4}).to_parquet(
        str(folder / "plain_text" / "unsupervised-00000-of-00001.parquet")
    )
    frame = data.load_unlabelled(folder, None, 0)
    assert list(frame["text"]) == ["a fine film", "dull"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    size=st.integers(2, 24),
    test_size=st.one_of(
        st.floats(0.0001, 0.9999),
        st.sampled_from([0.00001, 0.99999, 0.5, 1 / 3]),
    ),
    max_samples=st.one_of(st.none(), st.integers(4, 30)),
    split=st.sampled_from(["random", "official"]),
)
def test_every_split_setting_gives_two_non_empty_sides_or_one_line(
    tmp_path_factory, size, test_size, max_samples, split
):
    folder = write_folder(
        tmp_path_factory.mktemp("d"), [f"review {i}" for i in range(2 * size)],
        [0, 1] * size, LABELLED,
    )
    try:
        splits, _ = data.load_and_split(folder, split, test_size, 0, max_samples, dedupe=True)
    except PipelineError as error:
        assert "\n" not in str(error) and "prepare." in str(error)
        return
    assert len(splits["train"]) > 0 and len(splits["test"]) > 0


def test_the_carried_over_test_size_is_one_line_naming_both_sides(tmp_path):
    folder = write_folder(tmp_path, [f"review {i}" for i in range(12)], [0, 1] * 6, LABELLED)
    with pytest.raises(PipelineError) as error:
        data.load_and_split(folder, "random", 0.99999, 0, None, dedupe=False)
    assert str(error.value).startswith(
        "prepare.test_size 0.99999 of 12 reviews leaves 0 to train on and 12 to test"
    )
