"""Benchmark: peak memory and time of `embed` against a full-size GoogleNews-like model.

Generates once (in ~/.cache/imdb-sentiment-bench, outside the repo) a 3,000,000 x 300
float32 `KeyedVectors` in the `fse/word2vec-google-news-300` layout: random vectors,
realistic keys (real words, their capitalised forms, and word_word phrases). Then runs,
each in a fresh process, the `embed` stage (memory-mapped) and the notebook's plain
`KeyedVectors.load`, and reports each one's peak resident memory. With `--format bin` the
same vectors as a word2vec `.bin` file (3.6 GB): the stage streams it keeping only the
vocabulary's rows, against gensim's `load_word2vec_format`, which reads it whole.

    python -m benchmarks.embed [--words 3000000] [--format model|bin]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import report

CACHE = Path.home() / ".cache" / "imdb-sentiment-bench"


def keys(n: int, vocabulary: list[str]) -> list[str]:
    """n distinct keys: the words, their Capitalised and UPPER forms, then word_word phrases."""
    base = list(dict.fromkeys(vocabulary))
    out = list(dict.fromkeys(base + [w.capitalize() for w in base] + [w.upper() for w in base]))
    for i in range(max(0, n - len(out))):  # (i mod L, i div L) pairs are distinct for i < L²
        out.append(f"{base[i % len(base)]}_{base[i // len(base) % len(base)]}")
    return out[:n]


def make_vectors(n: int, dim: int, vocabulary: list[str]) -> Path:
    folder = CACHE / f"gnews-like-{n}x{dim}"
    model = folder / "word2vec-google-news-300.model"
    if model.exists():
        return folder
    from gensim.models import KeyedVectors

    folder.mkdir(parents=True, exist_ok=True)
    kv = KeyedVectors(dim, count=n)
    rng = np.random.default_rng(0)
    for start in range(0, n, 500_000):  # fill in blocks to bound the generator's memory
        stop = min(n, start + 500_000)
        kv.vectors[start:stop] = rng.normal(0, 0.1, size=(stop - start, dim)).astype(np.float32)
    names = keys(n, vocabulary)
    kv.index_to_key = names
    kv.key_to_index = {k: i for i, k in enumerate(names)}
    kv.save(str(model), separately=["vectors"])
    return folder


def make_bin(model_folder: Path) -> Path:
    """The same vectors as one word2vec binary file, written a block at a time."""
    folder = model_folder.with_name(model_folder.name + "-bin")
    file = folder / "vectors.bin"
    if file.exists():
        return folder
    from gensim.models import KeyedVectors

    folder.mkdir(parents=True, exist_ok=True)
    kv = KeyedVectors.load(str(model_folder / "word2vec-google-news-300.model"), mmap="r")
    with open(file, "wb") as out:
        out.write(f"{len(kv.index_to_key)} {kv.vector_size}\n".encode())
        for i, key in enumerate(kv.index_to_key):
            out.write(key.encode("utf-8") + b" " + np.asarray(kv.vectors[i], "<f4").tobytes())
    return folder


def peak_rss_mib(command: list[str], cwd: str | None = None) -> tuple[float, float]:
    """(peak RSS in MiB, wall seconds) of a child process."""
    start = time.perf_counter()
    code = (
        "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *command],
        cwd=cwd,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    ).stdout
    return int(out.strip().splitlines()[-1]) / 1024, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--words", type=int, default=3_000_000)
    parser.add_argument("--vocab", default="models/vocab.json", help="an encode output")
    parser.add_argument("--format", choices=("model", "bin"), default="model")
    args = parser.parse_args()
    vocab = json.loads(Path(args.vocab).read_text())
    folder = make_vectors(args.words, 300, vocab["words"][1:])
    if args.format == "bin":
        folder = make_bin(folder)
    with tempfile.TemporaryDirectory() as work:
        (Path(work) / "models").mkdir()
        (Path(work) / "models" / "vocab.json").write_text(json.dumps(vocab))
        import yaml

        p = yaml.safe_load(open("params.yaml"))
        p["embed"].update(vectors=str(folder), revision=None, dim=300)
        (Path(work) / "params.yaml").write_text(yaml.safe_dump(p))
        env_path = str(Path(__file__).resolve().parent.parent)
        stage_rss, stage_s = peak_rss_mib(
            ["env", f"PYTHONPATH={env_path}", sys.executable, "-m", "stages.embed"], cwd=work
        )
    if args.format == "bin":
        plain = (
            "from gensim.models import KeyedVectors; "
            f"KeyedVectors.load_word2vec_format({str(folder / 'vectors.bin')!r}, binary=True)"
        )
    else:
        model = str(folder / "word2vec-google-news-300.model")
        plain = f"from gensim.models import KeyedVectors; KeyedVectors.load({model!r})"
    plain_rss, plain_s = peak_rss_mib([sys.executable, "-c", plain])
    report(
        "embed" if args.format == "model" else "embed_bin",
        {
            "format": args.format,
            "vectors": f"{args.words} x 300 float32 ({args.words * 300 * 4 / 2**30:.2f} GiB)",
            "stage_peak_rss_mib": round(stage_rss),
            "stage_seconds": round(stage_s, 1),
            "plain_load_peak_rss_mib": round(plain_rss),
            "plain_load_seconds": round(plain_s, 1),
            "target": "stage <= 1024 MiB",
        },
    )


if __name__ == "__main__":
    main()
