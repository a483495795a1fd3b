"""`sentiment-predict`: classify new reviews with the trained model and its vocabulary.

Reviews are encoded exactly as in training (the saved vocab.json and encoding.json),
and predicted in batches, so thousands of reviews take seconds on a CPU.

    sentiment-predict "A wonderful film." "Dull and far too long."
    sentiment-predict --file reviews.txt      # one review per line, or .jsonl with "text"
    cat reviews.txt | sentiment-predict --json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from sentiment import text
from sentiment.data import LABEL_NAMES
from sentiment.io import PipelineError, read_json

EMPTY = "empty review: nothing to classify"


def read_reviews(args: argparse.Namespace) -> list[str]:
    if args.reviews:
        return list(args.reviews)
    if args.file:
        path = Path(args.file)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise PipelineError(f"cannot read {path}: {error}") from None
    elif sys.stdin.isatty():
        raise PipelineError("no reviews: pass them as arguments, with --file, or on stdin")
    else:
        path, lines = Path("<stdin>"), sys.stdin.read().splitlines()
    if args.jsonl or path.suffix == ".jsonl":
        return [_jsonl_text(line, path, n) for n, line in enumerate(lines, 1) if line.strip()]
    return lines


def _jsonl_text(line: str, path: Path, number: int) -> str:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        raise PipelineError(f"{path}:{number}: not a JSON object") from None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise PipelineError(f'{path}:{number}: expected an object with a string "text" field')
    return record["text"]


def predict(
    reviews: list[str], model_path: str, vocab_path: str, encoding_path: str, batch_size: int = 512
) -> list[dict]:
    """One result per review: label and P(pos), or an error note for empty text."""
    from sentiment.model import load_model

    vocab = text.load_vocabulary(vocab_path)
    encoding = read_json(encoding_path, "encode")
    index = text.word_index(vocab["words"], vocab["max_vocab"])
    cleaned = [text.clean(r, encoding["strip_html"]) for r in reviews]
    usable = [i for i, r in enumerate(cleaned) if text.words(r)]
    results: list[dict] = [
        {"text": r, "label": None, "p_pos": None, "note": EMPTY} for r in reviews
    ]
    if usable:
        model = load_model(model_path)
        x = text.encode(
            text.split_words(cleaned[i] for i in usable),
            index,
            encoding["max_seq"],
            encoding["padding"],
            encoding["truncating"],
        )
        probs = model.predict(x, batch_size=batch_size, verbose=0)
        for i, p in zip(usable, probs):
            label = int(np.argmax(p))
            results[i].update(label=LABEL_NAMES[label], p_pos=round(float(p[1]), 4), note=None)
    return results


def print_table(results: list[dict]) -> None:
    print(f"{'label':<6} {'p_pos':>6}  review")
    for r in results:
        shown = " ".join(r["text"].split())
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        if r["label"] is None:
            print(f"{'-':<6} {'-':>6}  {shown!r}: {r['note']}")
        else:
            print(f"{r['label']:<6} {r['p_pos']:>6.4f}  {shown}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sentiment-predict", description=__doc__.split("\n")[0])
    parser.add_argument("reviews", nargs="*", help="review texts (default: --file or stdin)")
    parser.add_argument("--file", help="one review per line, or a .jsonl file with a text field")
    parser.add_argument(
        "--jsonl",
        action="store_true",
        help="input lines are JSON objects with a text field (the default for *.jsonl files)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per review")
    parser.add_argument("--model", default="models/model.keras")
    parser.add_argument("--vocab", default="models/vocab.json")
    parser.add_argument("--encoding", default="models/encoding.json")
    parser.add_argument("--batch-size", type=int, default=512)
    args = parser.parse_args(argv)
    try:
        results = predict(
            read_reviews(args), args.model, args.vocab, args.encoding, args.batch_size
        )
    except PipelineError as error:
        print(f"sentiment-predict: error: {error}", file=sys.stderr)
        sys.exit(1)
    if args.json:
        for r in results:
            print(json.dumps({k: v for k, v in r.items() if k != "text"}, ensure_ascii=False))
    else:
        print_table(results)


if __name__ == "__main__":
    main()
