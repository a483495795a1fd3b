"""Benchmark: the project's encoder vs Keras 2's Tokenizer + pad_sequences (tf-keras).

Runs on prepare's real split (train on the training texts, encode both splits), checks
that the outputs are identical, and reports the median wall time of each path.

    python benchmarks/encode.py --data data/prepared --repeats 3
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.common import median_time, report
from sentiment import data, text


def ours(train: list[str], test: list[str], max_vocab: int, max_seq: int):
    words = {"train": text.split_words(train), "test": text.split_words(test)}
    index = text.word_index(text.fit_vocabulary(words["train"], "<oov>"), max_vocab)
    return index, [text.encode(words[name], index, max_seq) for name in ("train", "test")]


def legacy(train: list[str], test: list[str], max_vocab: int, max_seq: int):
    from tf_keras.preprocessing.sequence import pad_sequences
    from tf_keras.preprocessing.text import Tokenizer

    tokenizer = Tokenizer(num_words=max_vocab, oov_token="<oov>")
    tokenizer.fit_on_texts(train)
    arrays = [pad_sequences(tokenizer.texts_to_sequences(t), maxlen=max_seq) for t in (train, test)]
    return tokenizer, arrays


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="data/prepared")
    parser.add_argument("--max-vocab", type=int, default=45000)
    parser.add_argument("--max-seq", type=int, default=280)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    train = list(data.read_split(f"{args.data}/train.parquet")["text"])
    test = list(data.read_split(f"{args.data}/test.parquet")["text"])

    index, our_arrays = ours(train, test, args.max_vocab, args.max_seq)
    tokenizer, legacy_arrays = legacy(train, test, args.max_vocab, args.max_seq)
    kept = {w: i for w, i in tokenizer.word_index.items() if i < args.max_vocab}
    identical = index == kept and all(
        np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(our_arrays, legacy_arrays)
    )
    t_ours = median_time(lambda: ours(train, test, args.max_vocab, args.max_seq), args.repeats)
    t_legacy = median_time(lambda: legacy(train, test, args.max_vocab, args.max_seq), args.repeats)
    report(
        "encode",
        {
            "texts": {"train": len(train), "test": len(test)},
            "identical_to_keras2": identical,
            "distinct_words": len(tokenizer.word_index) - 1,
            "seconds_ours": round(t_ours, 2),
            "seconds_keras2": round(t_legacy, 2),
            "speedup": round(t_legacy / t_ours, 2),
            "target": "identical, >= 5x faster",
        },
    )
    if not identical:
        raise SystemExit("encode: outputs differ from Keras 2's")


if __name__ == "__main__":
    main()
