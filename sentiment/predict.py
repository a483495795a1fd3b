"""`sentiment-predict`: classify new reviews with the trained model and its vocabulary.

Reviews are encoded exactly as in training (the saved vocab.json and encoding.json),
and predicted in batches, so thousands of reviews take seconds on a CPU.

    sentiment-predict "A wonderful film." "Dull and far too long."
    sentiment-predict --file reviews.txt      # one review per line, or .jsonl with "text"
    cat reviews.txt | sentiment-predict --json
"""

from __future__ import annotations

import argparse
import codecs
import io
import json
import os
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

from sentiment import stats, text
from sentiment.data import LABEL_NAMES
from sentiment.io import JSONProblem, PipelineError, parse_json, quiet_native_noise, read_json

EMPTY = "empty review: nothing to classify"


BLOCK = 1 << 16  # bytes read at a time: a huge line never sits in memory whole
MAX_JSONL_LINE = 16 << 20  # a JSON record must be parsed whole: longer ones are refused


def line_cap(encoding: dict) -> int:
    """Bytes of a line kept: far more than `max_seq` words need, so the encoder sees what
    it would see in the whole line (its end with truncating 'pre', its start with 'post')."""
    return max(BLOCK, 64 * encoding["max_seq"])


def _read_lines(handle, where: str, cap: int, keep_end: bool) -> Iterator[tuple[int, str, bool]]:
    """(number, text, cut) per `\n`-terminated line, at most `cap` bytes of each kept. Other
    separators that may sit inside a review (`\r`, `\u2028`, form feeds, …) stay in it,
    so N lines in always give N results out."""
    number = 0
    while True:
        kept, cut, ended = b"", False, False
        while not ended:
            block = handle.readline(BLOCK)
            if not block:
                break
            ended = block.endswith(b"\n")
            kept += block.removesuffix(b"\n")
            if len(kept) > cap:
                kept, cut = (kept[-cap:] if keep_end else kept[:cap]), True
        if not kept and not ended:
            return
        number += 1
        kept = kept.removesuffix(b"\r")
        if cut and keep_end:  # the cut may split a character: drop its continuation bytes
            kept = kept.lstrip(bytes(range(0x80, 0xC0)))
        decoder = codecs.getincrementaldecoder("utf-8")()  # a cut end may split a character
        try:
            line = decoder.decode(kept, final=not (cut and not keep_end))
        except UnicodeDecodeError as error:
            raise PipelineError(
                f"cannot read {where}: line {number} is not UTF-8 ({error})"
            ) from None
        yield number, line, cut


def read_reviews(args: argparse.Namespace, encoding: dict) -> Iterator[tuple[int, str]]:
    """(line number, text) of each review as it is read; for arguments, their position."""
    if args.reviews:
        yield from enumerate(args.reviews, 1)
        return
    if args.file:
        where = args.file
        try:
            handle = open(args.file, "rb")  # noqa: SIM115 -- closed below, when read
        except OSError as error:
            raise PipelineError(f"cannot read {where}: {error}") from None
    elif sys.stdin.isatty():
        raise PipelineError("no reviews: pass them as arguments, with --file, or on stdin")
    else:  # a binary stream, so no newline translation; a text one where tests swap stdin
        where = "<stdin>"
        handle = getattr(sys.stdin, "buffer", None) or io.BytesIO(sys.stdin.read().encode())
    jsonl = args.jsonl or where.endswith(".jsonl")
    cap = MAX_JSONL_LINE + 1 if jsonl else line_cap(encoding)
    try:
        lines = _read_lines(handle, where, cap, encoding["truncating"] == "pre")
        for number, line, cut in lines:
            if not jsonl:
                yield number, line
            elif cut:
                raise PipelineError(f"{where}:{number}: a JSON record over 16 MiB; split it")
            elif line.strip():
                yield number, _jsonl_text(line, Path(where), number)
    finally:
        if args.file:
            handle.close()


def _jsonl_text(line: str, path: Path, number: int) -> str:
    try:
        record = parse_json(line)
    except JSONProblem as error:
        raise PipelineError(f"{path}:{number}: not a JSON object ({error})") from None
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


def load(model_path: str, vocab_path: str, encoding_path: str):
    """(model, word index, encoding), checked to belong together before anything is read."""
    from sentiment.model import check_fingerprint, load_model

    fingerprint = str(Path(model_path).with_name("fingerprint.json"))
    vocab = text.load_vocabulary(vocab_path)
    encoding = read_json(encoding_path, "encode")
    check_encoding(encoding, encoding_path)
    check_fingerprint(fingerprint, model_path, vocab_path, encoding_path)
    model = load_model(model_path)
    check_model(model, vocab, encoding, model_path)
    return model, text.word_index(vocab["words"], vocab["max_vocab"]), encoding


def predict_batch(reviews: list[str], model, index: dict, encoding: dict) -> list[dict]:
    """One result per review: label and P(pos), or an error note for empty text."""
    cleaned = [text.clean(r, encoding["strip_html"]) for r in reviews]
    usable = [i for i, r in enumerate(cleaned) if text.words(r)]
    results: list[dict] = [
        {"text": r, "label": None, "p_pos": None, "note": EMPTY} for r in reviews
    ]
    if usable:
        x = text.encode(
            text.split_words(cleaned[i] for i in usable),
            index,
            encoding["max_seq"],
            encoding["padding"],
            encoding["truncating"],
        )
        probs = model.predict(x, batch_size=len(x), verbose=0)
        for i, p in zip(usable, probs):
            label = LABEL_NAMES[int(stats.predicted_labels(p[1]))]  # the rule evaluate applies
            results[i].update(label=label, p_pos=float(p[1]), note=None)
    return results


def batches(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def predict(
    reviews: list[str], model_path: str, vocab_path: str, encoding_path: str, batch_size: int = 512
) -> list[dict]:
    """One result per review, for callers that hold their reviews in a list."""
    model, index, encoding = load(model_path, vocab_path, encoding_path)
    return [
        r for b in batches(reviews, batch_size) for r in predict_batch(b, model, index, encoding)
    ]


def escape_controls(review: str) -> str:
    """Control characters (terminal escape sequences among them) shown as `\\x1b`, never
    written raw to a terminal."""
    return "".join(
        c
        if c in " \t\n" or unicodedata.category(c)[0] != "C"
        else c.encode("unicode_escape").decode()
        for c in review
    )


TABLE_HEADER = f"{'label':<6} {'p_pos':>6}  review"


def print_table(results: list[dict]) -> None:
    for r in results:
        shown = " ".join(escape_controls(r["text"]).split())
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
    parser.add_argument("--batch-size", type=positive_int, default=512)
    args = parser.parse_args(argv)
    try:
        with quiet_native_noise():  # TensorFlow's start-up lines, dropped as in the stages
            model, index, encoding = load(args.model, args.vocab, args.encoding)
        if not args.json:
            print(TABLE_HEADER)
        for batch in batches(read_reviews(args, encoding), args.batch_size):
            with quiet_native_noise():
                results = predict_batch([r for _, r in batch], model, index, encoding)
            for (line, _), r in zip(batch, results):
                if args.json:  # the line number and the text, so nothing can be misaligned;
                    # ASCII-escaped: no separator inside a review can split a JSON line
                    print(json.dumps({"line": line, **r}, ensure_ascii=True))
            if not args.json:
                print_table(results)
            sys.stdout.flush()  # each batch's results as soon as they are known
    except PipelineError as error:
        print(f"sentiment-predict: error: {error}", file=sys.stderr)
        sys.exit(1)
    except BrokenPipeError:  # the reader stopped (`| head`): what it wanted was printed
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's final flush cannot fail
        sys.exit(0)


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number >= 1")
    return number


if __name__ == "__main__":
    main()
