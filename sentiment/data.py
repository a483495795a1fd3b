"""Loading, checking and splitting the labelled reviews (the `prepare` stage's logic)."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import numpy as np

from sentiment import text
from sentiment.io import PipelineError

if TYPE_CHECKING:  # imported where used: check_params, first in every `dvc repro`, imports
    import pandas as pd  # this module and never needs pandas

LABEL_NAMES = ("neg", "pos")
LAYOUT = "the stanfordnlp/imdb layout (plain_text/train-*.parquet, plain_text/test-*.parquet)"


def load_split(path: Path, split: str, cache_dir: str):
    """One split of a dataset folder in the Hub layout, via `datasets` like the notebook.

    `cache_dir` is a fresh temporary folder: the shared `datasets` cache can serve a stale
    copy of a different local folder with the same name, which would silently change data.
    """
    import datasets

    datasets.disable_progress_bars()  # one line per stage in logs, not a bar per split
    try:
        return datasets.load_dataset(str(path), split=split, cache_dir=cache_dir)
    except Exception as error:  # datasets raises many types for a bad folder; say which
        first = (str(error).splitlines() or [type(error).__name__])[0][:200]
        broken = _unreadable_file(path)
        if broken:
            raise PipelineError(
                f"prepare.dataset: {broken} is unreadable ({first}): re-download it"
            ) from None
        raise PipelineError(
            f"prepare.dataset: cannot load split {split!r} from {path} ({first}); expected {LAYOUT}"
        ) from None


def _unreadable_file(path: Path) -> Path | None:
    """The first Parquet file of a dataset folder that is not a complete Parquet file."""
    for file in sorted(Path(path).rglob("*.parquet")):
        with open(file, "rb") as handle:
            head = handle.read(4)
            handle.seek(max(file.stat().st_size - 4, 0))
            if head != b"PAR1" or handle.read(4) != b"PAR1":  # magic bytes at both ends
                return file
    return None


def check_reviews(dataset, where: str) -> None:
    """The columns, types and label range the rest of the pipeline relies on."""
    columns = dataset.column_names
    if "text" not in columns or "label" not in columns:
        raise PipelineError(
            f"prepare.dataset: {where} has columns {columns}; expected 'text' and 'label'"
        )
    text_type = getattr(dataset.features["text"], "dtype", None)
    if text_type not in ("string", "large_string"):
        raise PipelineError(f"prepare.dataset: {where} 'text' is {text_type}, expected strings")
    label = dataset.features["label"]
    names = tuple(getattr(label, "names", LABEL_NAMES))
    if names != LABEL_NAMES:
        raise PipelineError(
            f"prepare.dataset: {where} 'label' has classes {list(names)}; expected "
            f"{list(LABEL_NAMES)} in that order (0 = neg, 1 = pos)"
        )
    labels = np.asarray(dataset["label"])
    if labels.size and labels.dtype.kind not in "iu":
        raise PipelineError(
            f"prepare.dataset: {where} has {labels.dtype} labels; expected the integers "
            f"0 ({names[0]}) and 1 ({names[1]})"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 1):
        bad = sorted(set(labels.tolist()) - {0, 1})[:5]
        raise PipelineError(
            f"prepare.dataset: {where} has labels {bad} outside the classes 0..1 {list(names)}"
        )
    if dataset.data.column("text").null_count:  # Arrow's count: no Python copy of the texts
        raise PipelineError(f"prepare.dataset: {where} has reviews whose text is null")


def drop_empty(dataset):
    """Documented rule: empty or whitespace-only reviews carry no signal and are dropped."""
    keep = [i for i, t in enumerate(dataset["text"]) if t.strip()]
    if len(dataset) and not keep:
        raise PipelineError(
            f"prepare.dataset: all {len(dataset)} reviews of a split are empty: check the dataset"
        )
    return dataset.select(keep), len(dataset) - len(keep)


def subsample(dataset, n: int | None, seed: int):
    """A stratified, seeded subset of `n` reviews, in the dataset's order."""
    if n is None or n >= len(dataset):
        return dataset
    from sklearn.model_selection import train_test_split

    labels = np.asarray(dataset["label"])
    classes = len(np.unique(labels))
    if n < classes or len(dataset) - n < classes:  # a stratified subset needs one of each
        raise PipelineError(
            f"prepare.max_samples keeps {n} of a split's {len(dataset)} reviews, too few for "
            f"one review of each of its {classes} labels: raise prepare.max_samples"
        )
    keep, _ = train_test_split(
        np.arange(len(dataset)), train_size=n, stratify=labels, random_state=seed
    )
    return dataset.select(np.sort(keep))


def to_frame(dataset) -> pd.DataFrame:
    frame = dataset.select_columns(["text", "label"]).to_pandas()
    frame["label"] = frame["label"].astype("int64")
    return frame


# Fewer training reviews of a class than this and the models fit noise, without a word.
MIN_TRAIN_PER_CLASS = 10


def check_split_sizes(splits: dict[str, pd.DataFrame]) -> None:
    for name, frame in splits.items():
        counts = frame["label"].value_counts()
        for label, class_name in enumerate(LABEL_NAMES):
            if counts.get(label, 0) == 0:
                raise PipelineError(
                    f"the {name} split has no {class_name!r} review ({len(frame)} in all); "
                    "use more reviews (prepare.max_samples) or another prepare.test_size"
                )


def check_enough_training(train: pd.DataFrame) -> None:
    """The prepare stage's run-time check of test_size / max_samples against the data."""
    counts = train["label"].value_counts()
    for label, class_name in enumerate(LABEL_NAMES):
        if counts.get(label, 0) < MIN_TRAIN_PER_CLASS:
            raise PipelineError(
                f"the train split has only {counts.get(label, 0)} {class_name!r} reviews "
                f"(at least {MIN_TRAIN_PER_CLASS} needed): lower prepare.test_size or use "
                "more reviews (prepare.max_samples)"
            )


Split: TypeAlias = "tuple[dict[str, pd.DataFrame], dict[str, int]]"  # frames, drops by reason


def drop_duplicates(dataset, seen: set[str] | None = None):
    """Keep the first of each exact duplicate text, and drop texts already in `seen`.

    IMDB's labelled reviews hold 418 duplicate texts; left in, a random split puts copies
    of ~130 test reviews in train and the test score partly measures memory.
    """
    seen = set() if seen is None else set(seen)
    keep = []
    for i, review in enumerate(dataset["text"]):
        if review not in seen:
            seen.add(review)
            keep.append(i)
    return dataset.select(keep), len(dataset) - len(keep)


def load_and_split(
    path: Path,
    split: str,
    test_size: float,
    seed: int,
    max_samples: int | None,
    dedupe: bool,
) -> Split:
    """Train/test frames and how many reviews were dropped, by reason.

    `random` is the notebook's split (train+test merged, then `train_test_split`);
    `official` keeps the dataset's own 25k/25k split, whose movies are disjoint.
    With `dedupe`, exact duplicate texts are dropped first, so train and test share none.
    """
    with tempfile.TemporaryDirectory(prefix="prepare-") as cache_dir:
        if split == "random":
            splits, dropped = _random_split(path, test_size, seed, max_samples, dedupe, cache_dir)
        else:
            splits, dropped = _official_split(path, seed, max_samples, dedupe, cache_dir)
    check_split_sizes(splits)
    return splits, dropped


def _random_split(
    path: Path, test_size: float, seed: int, max_samples: int | None, dedupe: bool, cache_dir: str
) -> Split:
    merged = load_split(path, "train+test", cache_dir)
    check_reviews(merged, "train+test")
    merged, empty = drop_empty(merged)
    merged, duplicates = drop_duplicates(merged) if dedupe else (merged, 0)
    merged = subsample(merged, max_samples, seed)
    n_test = math.ceil(test_size * len(merged))  # as `datasets` (and scikit-learn) round
    if n_test < 1 or len(merged) - n_test < 1:
        raise PipelineError(
            f"prepare.test_size {test_size} of {len(merged)} reviews leaves "
            f"{len(merged) - n_test} to train on and {n_test} to test: choose a test_size "
            "that leaves both sides reviews, or use more reviews (prepare.max_samples)"
        )
    try:
        parts = merged.train_test_split(test_size=test_size, seed=seed)
    except ValueError as error:  # any other split `datasets` cannot make
        first = (str(error).splitlines() or ["invalid split"])[0][:200]
        raise PipelineError(f"prepare.test_size {test_size}: {first}") from None
    splits = {"train": to_frame(parts["train"]), "test": to_frame(parts["test"])}
    return splits, {"empty": empty, "duplicates": duplicates, "test_in_train": 0}


def _official_split(
    path: Path, seed: int, max_samples: int | None, dedupe: bool, cache_dir: str
) -> Split:
    loaded = {name: load_split(path, name, cache_dir) for name in ("train", "test")}
    total = sum(len(d) for d in loaded.values())
    dropped = {"empty": 0, "duplicates": 0, "test_in_train": 0}
    for name, dataset in loaded.items():
        check_reviews(dataset, name)
        dataset, empty = drop_empty(dataset)
        dropped["empty"] += empty
        if dedupe:
            dataset, duplicates = drop_duplicates(dataset)
            dropped["duplicates"] += duplicates
        loaded[name] = dataset
    if dedupe:
        loaded["test"], dropped["test_in_train"] = drop_duplicates(
            loaded["test"], seen=set(loaded["train"]["text"])
        )
    splits = {}
    for name, dataset in loaded.items():
        share = None if max_samples is None else round(max_samples * len(dataset) / total)
        # shuffled: the files are ordered by label, and Keras' validation_split takes the tail
        splits[name] = to_frame(subsample(dataset, share, seed).shuffle(seed=seed))
    return splits, dropped


def load_unlabelled(path: Path, max_samples: int | None, seed: int) -> pd.DataFrame:
    """The dataset's `unsupervised` split (label -1), for training word vectors only."""
    with tempfile.TemporaryDirectory(prefix="prepare-") as cache_dir:
        dataset = load_split(path, "unsupervised", cache_dir)
        if "text" not in dataset.column_names:
            raise PipelineError(f"prepare.dataset: 'unsupervised' has no 'text' column in {path}")
        if dataset.data.column("text").null_count:  # unlabelled text is never checked by hand
            dataset = dataset.filter(lambda row: row["text"] is not None)
        dataset, _ = drop_empty(dataset)
        if max_samples is not None and max_samples < len(dataset):
            dataset = dataset.shuffle(seed=seed).select(range(max_samples))
        frame = dataset.select_columns(["text"]).to_pandas()
    frame["label"] = -1
    return frame


def no_reviews() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({"text": pd.Series([], dtype=str), "label": pd.Series([], dtype="int64")})


def describe(splits: dict[str, pd.DataFrame], dropped: dict[str, int]) -> dict:
    """What a reviewer wants to see of the data: sizes, balance, leakage, review lengths."""
    lengths = np.array([len(text.words(t)) for t in splits["train"]["text"]])
    train_texts = set(splits["train"]["text"])
    return {
        "reviews": {name: len(frame) for name, frame in splits.items()},
        "pos_share": {
            name: round(float(frame["label"].mean()), 4) for name, frame in splits.items()
        },
        "dropped": dropped,
        "test_texts_in_train": int(sum(t in train_texts for t in splits["test"]["text"])),
        "train_length_words": {
            f"p{q}": int(np.percentile(lengths, q)) for q in (25, 50, 75, 95, 99)
        },
    }


def read_split(path: str | Path) -> pd.DataFrame:
    """A split written by `prepare`, checked before encoding or baselines use it."""
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except FileNotFoundError:
        raise PipelineError(f"{path} is missing: run `dvc repro prepare` first") from None
    except Exception as error:  # pyarrow's errors for a broken file vary by version
        raise PipelineError(
            f"{path} is unreadable ({type(error).__name__}): "
            "re-run `dvc repro -f prepare` then `dvc repro`"
        ) from None
    if list(frame.columns) != ["text", "label"]:
        raise PipelineError(
            f"{path} has columns {list(frame.columns)}, expected ['text', 'label']: "
            "re-run `dvc repro -f prepare` then `dvc repro`"
        )
    return frame
