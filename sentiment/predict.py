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

from sentiment import stats, text
from sentiment.data import LABEL_NAMES
from sentiment.io import PipelineError, quiet_native_noise, read_json

EMPTY = "empty review: nothing to classify"


def split_lines(content: str) -> list[str]:
    """One review per `\n`-terminated line. Other separators that may sit inside a review
    (`\r`, `\u2028`, form feeds, …) stay in it, so N lines in always give N results out."""
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def read_reviews(args: argparse.Namespace) -> list[tuple[int, str]]:
    """(line number, text) of every review; for arguments, their position."""
    if args.reviews:
        return list(enumerate(args.reviews, 1))
    if args.file:
        path = Path(args.file)
        try:
            content = path.read_bytes().decode("utf-8")  # no newline translation
        except (OSError, UnicodeDecodeError) as error:
            raise PipelineError(f"cannot read {path}: {error}") from None
    elif sys.stdin.isatty():
        raise PipelineError("no reviews: pass them as arguments, with --file, or on stdin")
    else:
        stream = getattr(sys.stdin, "buffer", None)
        try:
            content = stream.read().decode("utf-8") if stream else sys.stdin.read()
        except UnicodeDecodeError as error:
            raise PipelineError(f"cannot read <stdin>: {error}") from None
        path = Path("<stdin>")
    lines = list(enumerate(split_lines(content), 1))
    if args.jsonl or path.suffix == ".jsonl":
        return [(n, _jsonl_text(line, path, n)) for n, line in lines if line.strip()]
    return lines


def _jsonl_text(line: str, path: Path, number: int) -> str:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        raise PipelineError(f"{path}:{number}: not a JSON object") from None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise PipelineError(f'{path}:{number}: expected an object with a string "text" field')
    return record["text"]


def check_encoding(encoding, path: str) -> None:
    ok = (
        isinstance(encoding, dict)
        and isinstance(encoding.get("max_seq"), int)
        and not isinstance(encoding.get("max_seq"), bool)
        and encoding["max_seq"] >= 1
        and encoding.get("padding") in ("pre", "post")
        and encoding.get("truncating") in ("pre", "post")
        and isinstance(encoding.get("strip_html"), bool)
    )
    if not ok:
        raise PipelineError(
            f"{path} is not an encoding written by encode: "
            "re-run `dvc repro -f encode` then `dvc repro`"
        )


def check_model(model, vocab: dict, encoding: dict, model_path: str) -> None:
    """Model, vocabulary and encoding must come from one run, or results would be garbage."""
    import keras

    fix = "take all three from one run (`dvc pull` or `dvc repro`)"
    if tuple(model.input_shape) != (None, encoding["max_seq"]):
        raise PipelineError(
            f"{model_path} expects input {tuple(model.input_shape)} but encoding.json says "
            f"{encoding['max_seq']} tokens per review: {fix}"
        )
    if tuple(model.output_shape) != (None, len(LABEL_NAMES)):
        raise PipelineError(
            f"{model_path} outputs {tuple(model.output_shape)}, expected one probability per "
            f"class {list(LABEL_NAMES)}: {fix}"
        )
    rows = [layer.input_dim for layer in model.layers if isinstance(layer, keras.layers.Embedding)]
    if len(rows) != 1 or rows[0] < vocab["max_vocab"]:
        raise PipelineError(
            f"vocab.json uses word indices up to {vocab['max_vocab'] - 1} but {model_path}'s "
            f"embedding has {rows[0] if rows else 'no'} rows: {fix}"
        )


def predict(
    reviews: list[str], model_path: str, vocab_path: str, encoding_path: str, batch_size: int = 512
) -> list[dict]:
    """One result per review: label and P(pos), or an error note for empty text."""
    from sentiment.model import load_model

    vocab = text.load_vocabulary(vocab_path)
    encoding = read_json(encoding_path, "encode")
    check_encoding(encoding, encoding_path)
    index = text.word_index(vocab["words"], vocab["max_vocab"])
    cleaned = [text.clean(r, encoding["strip_html"]) for r in reviews]
    usable = [i for i, r in enumerate(cleaned) if text.words(r)]
    results: list[dict] = [
        {"text": r, "label": None, "p_pos": None, "note": EMPTY} for r in reviews
    ]
    if usable:
        model = load_model(model_path)
        check_model(model, vocab, encoding, model_path)
        x = text.encode(
            text.split_words(cleaned[i] for i in usable),
            index,
            encoding["max_seq"],
            encoding["padding"],
            encoding["truncating"],
        )
        probs = model.predict(x, batch_size=batch_size, verbose=0)
        for i, p in zip(usable, probs):
            label = LABEL_NAMES[int(stats.predicted_labels(p[1]))]  # the rule evaluate applies
            results[i].update(label=label, p_pos=float(p[1]), note=None)
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
        numbered = read_reviews(args)
        with quiet_native_noise():  # TensorFlow's start-up lines, dropped as in the stages
            results = predict(
                [review for _, review in numbered],
                args.model,
                args.vocab,
                args.encoding,
                args.batch_size,
            )
    except PipelineError as error:
        print(f"sentiment-predict: error: {error}", file=sys.stderr)
        sys.exit(1)
    if args.json:  # the line number and the text itself, so nothing can be misaligned;
        # ASCII-escaped, so no separator inside a review can split a JSON line for any reader
        for (line, _), r in zip(numbered, results):
            print(json.dumps({"line": line, **r}, ensure_ascii=True))
    else:
        print_table(results)


if __name__ == "__main__":
    main()
