"""Research results as files in Git, and the documents' tables generated from them.

Each research run keeps its small outputs in `results/<run>/`: `run.json` (what ran, with
which params, on which machine, its test metrics with 95% intervals and its predictions'
SHA-256), `curve.csv` (a trained model's per-epoch curve with wall times) and
`paired.json` (paired comparisons with the other runs on the same test reviews), and
`predictions.csv.xz`, the per-review predictions (id, label, P(pos)) xz-compressed, a few
hundred KB, kept in Git: a fresh clone recomputes every metric and pair from them
(`inconsistencies`). Their SHA-256 in run.json is that of the CSV inside. A run whose
predictions were not kept (the first GPU runs) is checked against its counts alone.

The tables in docs/research.md and README.md sit between `<!-- results:NAME -->` and
`<!-- /results:NAME -->` and are written by `render` from these files alone, so no number
in them is typed by hand; `render --check` (a test runs it) fails when they differ.

    python -m lab.results record NAME --model M --split S --label L --predictions P \
        --metrics M.json --params P.json [--gpu-run R.json] [--seed N] [--command C] ...
    python -m lab.results pair           # every pair of runs on the same test set
    python -m lab.results render [--check]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import lzma
import os
import re
from pathlib import Path

import numpy as np

from sentiment import evaluation, stats
from sentiment.io import (
    JSONProblem,
    PipelineError,
    parse_json,
    run_stage,
    write_json,
)

RESULTS = Path("results")
DOCUMENTS = [Path("docs/research.md"), Path("README.md")]
CURVE_COLUMNS = ["epoch", "accuracy", "loss", "val_accuracy", "val_loss", "learning_rate",
                 "seconds"]
MODEL_ORDER = ["bilstm", "tfidf_lr", "nbsvm", "nblr"]  # table order; others follow by name


def read(path: Path):
    """A committed result file; a missing or broken one is one line naming the fix."""
    try:
        return parse_json(Path(path).read_text(encoding="utf-8"))
    except (OSError, JSONProblem, UnicodeDecodeError) as error:
        why = (str(error).splitlines() or [type(error).__name__])[0][:120]
        raise PipelineError(
            f"{path} is not a readable result file ({why}): `git checkout -- {path}` or "
            "record the run again"
        ) from None


RUN_NAME = r"[a-z0-9][a-z0-9._-]*"


def runs(root: Path = RESULTS) -> dict[str, dict]:
    """Every recorded run by name, in a stable order: by split, model, then name."""
    found = {}
    for path in sorted(root.glob("*/run.json")):
        if not re.fullmatch(RUN_NAME, path.parent.name) or path.is_symlink():
            raise PipelineError(f"{path}: a run folder is named with {RUN_NAME} and holds no "
                                "links: rename it, or record the run again")
        found[path.parent.name] = read(path)

    def order(item):
        name, run = item
        model = run["model"]
        rank = MODEL_ORDER.index(model) if model in MODEL_ORDER else len(MODEL_ORDER)
        return (run["split"], rank, model, name)

    return dict(sorted(found.items(), key=order))


def record(name: str, args: argparse.Namespace, root: Path = RESULTS) -> Path:
    """Write `root/name/`: run.json, curve.csv (a GPU run's), predictions.csv. The metrics
    are computed from the predictions (metrics given with --metrics or a GPU run must agree
    with them); a run recorded again loses its pairs (`pair` makes them anew); nothing is
    written through a link."""
    if not re.fullmatch(RUN_NAME, name):
        raise PipelineError(f"run name {name!r}: use lower-case letters, digits, '.', '_', '-'")
    folder = root / name
    links = [p for p in (root, folder, *(folder / f for f in RUN_FILES)) if p.is_symlink()]
    if links:
        raise PipelineError(f"{links[0]} is a symbolic link: results are never written "
                            "through one; remove it and record again")
    gpu = read(args.gpu_run) if args.gpu_run else {}
    params = gpu.get("params") or read(args.params)
    predictions = evaluation.read_predictions(args.predictions, str(args.predictions))
    metrics = computed_metrics(predictions)
    given = gpu.get("metrics") or (read(args.metrics) if args.metrics else None)
    if given is not None and not _same_metrics(given, metrics):
        raise PipelineError(
            f"the metrics given for {name} are not what its predictions give (accuracy "
            f"{given.get('accuracy')} vs {metrics['accuracy']}): record the predictions "
            "that made them"
        )
    folder.mkdir(parents=True, exist_ok=True)
    csv_bytes = Path(args.predictions).read_bytes()
    write_predictions(folder, csv_bytes)
    run = {
        "model": args.model,
        "label": args.label,
        "split": args.split,
        "seed": args.seed,
        "differs_from_notebook": args.differs,
        "command": args.command,
        "params": portable(params),
        "inputs": portable(gpu.get("inputs")),
        "environment": gpu.get("environment") or (read(args.environment)
                                                  if args.environment else None),
        "train_seconds": gpu.get("train_seconds"),
        **({"gpu_shared_with": args.shared_with} if args.shared_with else {}),
        "metrics": metrics,
        "predictions": {"sha256": hashlib.sha256(csv_bytes).hexdigest(),
                        "reviews": len(predictions)},
    }
    write_json(folder / "run.json", run)
    if gpu.get("curve"):
        with (folder / "curve.csv").open("w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, CURVE_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(gpu["curve"])
    forget_pairs(name, root)
    return folder


def portable(value):
    """Params as another clone can use them: an absolute path (a local dataset or vectors
    folder) is recorded relative to the repository, as the README's `../shared/…` paths."""
    if isinstance(value, dict):
        return {key: portable(item) for key, item in value.items()}
    if isinstance(value, str) and os.path.isabs(value):
        return os.path.relpath(value)
    return value


PREDICTIONS = "predictions.csv.xz"
RUN_FILES = ("run.json", "curve.csv", "paired.json", PREDICTIONS)
MAX_PREDICTIONS_BYTES = 16 * 2**20  # decompressed: 25,000 reviews take about 0.8 MB


def write_predictions(folder: Path, csv_bytes: bytes) -> None:
    """The predictions CSV, xz-compressed (the same bytes every time: no timestamps)."""
    (folder / PREDICTIONS).write_bytes(lzma.compress(csv_bytes, preset=9))


def predictions_of(folder: Path, run: dict):
    """A run's predictions as recorded, or None when they were not kept; refused in one
    line when they are not the ones its run.json names (SHA-256 of the CSV)."""
    path = folder / PREDICTIONS
    if not path.is_file() or path.is_symlink():
        return None
    try:
        csv_bytes = lzma.LZMADecompressor().decompress(path.read_bytes(),
                                                        max_length=MAX_PREDICTIONS_BYTES)
    except lzma.LZMAError as error:
        raise PipelineError(f"{path} is not xz ({error}): record the run again") from None
    if hashlib.sha256(csv_bytes).hexdigest() != run["predictions"]["sha256"]:
        raise PipelineError(f"{path} is not the predictions {folder.name}/run.json names "
                            "(SHA-256 differs): record the run again")
    return evaluation.read_predictions(io.BytesIO(csv_bytes), str(path))


def computed_metrics(predictions) -> dict:
    """A run's test metrics with their intervals, from its per-review predictions."""
    labels = predictions["label"].to_numpy().astype(np.int64)
    prob_pos = predictions["prob_pos"].to_numpy()
    return _rounded(evaluation.test_metrics(labels, np.c_[1 - prob_pos, prob_pos]))


def _same_metrics(given: dict, computed: dict) -> bool:
    """Whether given metrics could come from these predictions: the same accuracy (a count
    of reviews; scores such as ROC AUC move with the float32 the predictions are kept in)."""
    accuracy = given.get("accuracy")
    return isinstance(accuracy, (int, float)) and abs(accuracy - computed["accuracy"]) < 1e-6


def forget_pairs(name: str, root: Path = RESULTS) -> None:
    """A run recorded again: its own pairs and every other run's pair with it are dropped,
    so no verdict outlives the predictions it was computed from."""
    (root / name / "paired.json").unlink(missing_ok=True)
    for paired_file in root.glob("*/paired.json"):
        comparisons = read(paired_file)
        if isinstance(comparisons, dict) and name in comparisons:
            del comparisons[name]
            write_json(paired_file, comparisons)


def pairs_of(root: Path, name: str) -> dict:
    """A run's paired.json (its pairs, this run as head), or {} before `pair` wrote one."""
    paired_file = root / name / "paired.json"
    return read(paired_file) if paired_file.is_file() else {}


def pair(root: Path = RESULTS) -> None:
    """paired.json for every run: the others on the same split, review by review (runs
    whose predictions were not kept keep the pairs they have)."""
    recorded = runs(root)
    frames = {name: frame for name, run in recorded.items()
              if (frame := predictions_of(root / name, run)) is not None}
    for name, head in frames.items():
        comparisons = pairs_of(root, name)  # pairs whose predictions are absent stay
        for other, base in frames.items():
            if other == name or recorded[other]["split"] != recorded[name]["split"]:
                continue
            comparisons[other] = paired(head, base, f"{name} and {other}")
        write_json(root / name / "paired.json",
                   {k: _rounded(v) for k, v in sorted(comparisons.items())})


def paired(head, base, which: str) -> dict:
    """One run (head) against another (base) on the same test reviews."""
    aligned, why = evaluation.paired(head, base)
    if aligned is None:
        raise PipelineError(f"results: {which} on one split but {why}")
    return stats.paired_comparison(head["label"].to_numpy(), aligned["prob_pos"].to_numpy(),
                                   head["prob_pos"].to_numpy())


def _rounded(value):
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def _pct(value: float) -> str:
    return f"{100 * value:.2f}"


def _ci(metrics: dict, key: str = "accuracy") -> str:
    ci = metrics[f"{key}_ci"]
    return f"{_pct(metrics[key])} ({_pct(ci['low'])}–{_pct(ci['high'])})"


def _points(fraction: float) -> str:
    return f"{100 * fraction + 0.0:+.2f}".replace("-0.00", "±0.00").replace("+0.00", "±0.00")


def _versus(c: dict, adjusted: float) -> str:
    """A paired comparison as the head's change over the base, in points, with its raw and
    Holm-adjusted p; the verdict rests on the adjusted one."""
    return (f"{_points(c['change'])} pt ({_points(c['change_ci']['low'])} to "
            f"{_points(c['change_ci']['high'])}), {c['base_only']} / {c['head_only']}, "
            f"p {c['p_value']:.2g} (Holm {adjusted:.2g}): "
            f"**{stats.verdict(c['change_ci'], adjusted)}**")


def bilstm_comparisons(root: Path, split: str, bilstm: str) -> dict[str, tuple[dict, float]]:
    """One BiLSTM run against every other run on `split`, as BiLSTM (head) − that run (base),
    each with its Holm-adjusted p over this family of comparisons."""
    on_split = [n for n, r in runs(root).items() if r["split"] == split and n != bilstm]
    found = {}
    for name in on_split:
        stored = pairs_of(root, name)
        if bilstm in stored:  # stored with this run as head: seen from the BiLSTM's side
            found[name] = stats.mirrored(stored[bilstm])
    adjusted = stats.holm([c["p_value"] for c in found.values()])
    return {name: (c, p) for (name, c), p in zip(found.items(), adjusted)}


def _agreement(verdicts: list[str]) -> str:
    counts = {v: verdicts.count(v) for v in ("worse", "within noise", "better")}
    return ", ".join(f"{v} {n}" for v, n in counts.items() if n) + f" (of {len(verdicts)})"


def headline(root: Path, split: str) -> str:
    """Every run on `split`; each compared with the split's first BiLSTM run, paired, and
    how every BiLSTM seed on the split fares against it (Holm-adjusted verdicts)."""
    on_split = {n: r for n, r in runs(root).items() if r["split"] == split}
    if not on_split:
        return f"No recorded runs on the {split} split."
    bilstms = [n for n, r in on_split.items() if r["model"] == "bilstm"]
    reference = bilstms[0] if bilstms else None
    by_seed = {b: bilstm_comparisons(root, split, b) for b in bilstms}
    lines = [
        f"| run (`results/<run>/`) | model | test accuracy % (95% CI) | ROC AUC % (95% CI) "
        f"| {'BiLSTM run `' + reference + '`' if reference else 'reference'} vs this run: "
        "change, only-this-right / only-BiLSTM-right, McNemar p (Holm-adjusted) "
        f"| the {len(bilstms)} BiLSTM seeds vs this run |",
        "|---|---|---|---|---|---|",
    ]
    for name, run in on_split.items():
        versus, seeds_say = "—", "—"
        if reference and name in by_seed[reference]:
            versus = "BiLSTM " + _versus(*by_seed[reference][name])
        elif reference and name != reference:
            versus = "not paired: the BiLSTM runs' predictions were not kept"
        verdicts = [stats.verdict(c["change_ci"], p) for b in bilstms if b != name
                    for c, p in [by_seed[b].get(name, (None, None))] if c is not None]
        if verdicts and run["model"] != "bilstm":
            seeds_say = _agreement(verdicts)
        lines.append(f"| `{name}` | {cell(run['label'])} | {_ci(run['metrics'])} "
                     f"| {_ci(run['metrics'], 'roc_auc')} | {versus} | {seeds_say} |")
    return "\n".join(lines)


def cell(text: object) -> str:
    """Text from a result file as one table cell: no `|`, marker or line break in it can
    end the cell, the row or a generated block."""
    shown = " ".join(str(text).split()).replace("|", "\\|").replace("<!--", "&lt;!--")
    return shown.replace("-->", "--&gt;")


def seeds(root: Path, split: str) -> str:
    """Each model's spread over its seeds on `split`: how much of a difference is the seed."""
    by_model: dict[str, list[dict]] = {}
    for run in runs(root).values():
        if run["split"] == split and run.get("seed") is not None:
            by_model.setdefault(run["model"], []).append(run)
    lines = ["| model | seeds | test accuracy %: mean | min–max | sample s.d. (pt) |",
             "|---|---|---|---|---|"]
    for model, seeded in by_model.items():
        accuracy = np.array([run["metrics"]["accuracy"] for run in seeded])
        sd = _pct(accuracy.std(ddof=1)) if len(accuracy) > 1 else "—"
        lines.append(f"| {cell(model)} | {', '.join(str(run['seed']) for run in seeded)} "
                     f"| {_pct(accuracy.mean())} | {_pct(accuracy.min())}–{_pct(accuracy.max())} "
                     f"| {sd} |")
    return "\n".join(lines) if by_model else f"No seeded runs on the {split} split."


def curve(root: Path, name: str) -> str:
    path = root / name / "curve.csv"
    if not path.is_file():
        return f"No curve recorded for {name}."
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    lines = ["| epoch | train accuracy | val accuracy | val loss | learning rate | seconds |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['epoch']} | {float(row['accuracy']):.4f} "
                     f"| {float(row['val_accuracy']):.4f} | {float(row['val_loss']):.4f} "
                     f"| {float(row['learning_rate']):.2g} | {float(row['seconds']):.1f} |")
    return "\n".join(lines)


def runs_detail(root: Path) -> str:
    """What each run is: seed, machine, time and what differs from the notebook."""
    lines = ["| run | seed | machine | training seconds | differs from the notebook |",
             "|---|---|---|---|---|"]
    for name, run in runs(root).items():
        env = run.get("environment") or {}
        machine = "—"
        if env.get("gpus_seen"):
            machine = f"{env['device']} (Keras {env['software']['keras']} on "
            machine += f"{env['software']['backend']})"
        elif env:
            machine = f"{env.get('cpu', 'CPU')}, {env.get('cpu_cores', '?')} cores"
        seconds = "—" if run.get("train_seconds") is None else str(run["train_seconds"])
        if run.get("gpu_shared_with"):
            seconds += f" (GPU shared with `{run['gpu_shared_with']}`)"
        lines.append(f"| `{name}` | {run['seed'] if run['seed'] is not None else '—'} "
                     f"| {cell(machine)} | {seconds} "
                     f"| {cell('; '.join(run.get('differs_from_notebook') or []) or '—')} |")
    return "\n".join(lines)


def tuning(root: Path, split: str) -> str:
    path = root / f"tuning-{split}.json"
    if not path.is_file():
        return f"No tuning recorded for the {split} split."
    report = read(path)
    val = report["validation"]
    lines = [f"Validation slice: {val['slice']} ({val['reviews_fitted']:,} reviews fitted, "
             f"{val['reviews_validated']:,} validated); test side never used.", "",
             "| family | grid | points | search seconds | chosen | val accuracy % |",
             "|---|---|---|---|---|---|"]
    for family, f in report["families"].items():
        grid = ", ".join(f"{k} ∈ {{{', '.join(map(str, vs))}}}" for k, vs in f["grid"].items())
        chosen = ", ".join(f"{k}={f['chosen'][k]}" for k in f["grid"])
        lines.append(f"| {cell(family)} | {cell(grid)} | {f['points']} | {f['search_seconds']} "
                     f"| {cell(chosen)} "
                     f"| {_pct(f['chosen']['val_accuracy'])} |")
    return "\n".join(lines)


def blocks(root: Path = RESULTS) -> dict[str, str]:
    """Every generated block by name: the runs table, and per split its headline, its first
    run's curve and its tuning."""
    recorded = runs(root)
    generated = {"runs": runs_detail(root)}
    for split in sorted({run["split"] for run in recorded.values()}):
        lead = next((n for n, r in recorded.items()
                     if r["split"] == split and (root / n / "curve.csv").is_file()), "")
        generated[f"headline-{split}"] = headline(root, split)
        generated[f"curve-{split}"] = curve(root, lead)
        generated[f"seeds-{split}"] = seeds(root, split)
        generated[f"tuning-{split}"] = tuning(root, split)
    return generated


MARKER = re.compile(r"<!-- (/?)results:([\w-]+) -->")


def render_text(text: str, generated: dict[str, str], name: str = "the document") -> str:
    """The document with each generated block filled in. Markers are whole lines, each
    start has its end before the next marker, and no name is used twice: a marker quoted in
    prose, a missing or doubled one is refused in one line, never guessed around."""
    lines = text.split("\n")
    out, open_block, seen = [], None, set()
    for number, line in enumerate(lines, 1):
        found = MARKER.search(line)
        if not found:
            if open_block is None:
                out.append(line)
            continue
        where = f"{name} line {number}"
        if found.group(0) != line.strip() or line != line.strip():
            raise PipelineError(f"{where} has a results marker inside other text: a marker "
                                "is a line of its own (quote it as `<!-- results:… -->`)")
        closing, block = found.group(1) == "/", found.group(2)
        if not closing:
            if open_block is not None:
                raise PipelineError(f"{where}: <!-- results:{block} --> starts before "
                                    f"<!-- /results:{open_block} --> ends it: add the end")
            if block in seen:
                raise PipelineError(f"{where}: <!-- results:{block} --> is there twice: "
                                    "keep one")
            if block not in generated:
                raise PipelineError(f"{where}: <!-- results:{block} --> names no generated "
                                    "table")
            seen.add(block)
            open_block = block
            out += [line, generated[block]]
        else:
            if open_block != block:
                raise PipelineError(f"{where}: <!-- /results:{block} --> ends no open "
                                    f"<!-- results:{block} -->")
            open_block = None
            out.append(line)
    if open_block is not None:
        raise PipelineError(f"{name}: <!-- results:{open_block} --> has no "
                            f"<!-- /results:{open_block} --> after it: add the end")
    return "\n".join(out)


def inconsistencies(root: Path = RESULTS) -> list[str]:
    """Every committed number that disagrees with the counts it comes from, one line each.

    Without the predictions a reader can still recompute: a run's accuracy is a whole
    number of its test reviews and lies in its interval; a pair's accuracies are the two
    runs' own, their difference is (only-head-right − only-base-right) / reviews, its p is
    McNemar's on those counts, its verdict follows from its interval and p, and the pair
    stored in the other run's file is its exact mirror (one interval per pair)."""
    recorded = runs(root)
    problems = []
    frames = {name: frame for name, run in recorded.items()
              if (frame := predictions_of(root / name, run)) is not None}
    for name, frame in frames.items():
        computed, kept = computed_metrics(frame), recorded[name]["metrics"]
        problems += [f"{name}: {key} {kept.get(key)} but its predictions give {value}"
                     for key, value in computed.items() if kept.get(key) != value]
    for name, run in recorded.items():
        m, n = run["metrics"], run["predictions"]["reviews"]
        if not m["accuracy_ci"]["low"] <= m["accuracy"] <= m["accuracy_ci"]["high"]:
            problems.append(f"{name}: accuracy {m['accuracy']} outside its interval")
        if _rounded(round(m["accuracy"] * n) / n) != m["accuracy"]:
            problems.append(f"{name}: accuracy {m['accuracy']} is no whole number of {n} reviews")
    recomputed: set[tuple[str, str]] = set()
    stored = {name: pairs_of(root, name) for name in recorded}  # each file read once
    for name, run in recorded.items():
        for other, c in stored[name].items():
            where = f"{name} vs {other}"
            if other not in recorded:
                problems.append(f"{where}: no run {other}")
                continue
            n = run["predictions"]["reviews"]
            expected = {
                "head_accuracy": run["metrics"]["accuracy"],
                "base_accuracy": recorded[other]["metrics"]["accuracy"],
                "change": _rounded((c["head_only"] - c["base_only"]) / n),
                "p_value": _rounded(stats.mcnemar_p(c["base_only"], c["head_only"])),
                "verdict": stats.verdict(c["change_ci"], c["p_value"]),
            }
            problems += [f"{where}: {key} {c[key]} but its counts give {value}"
                         for key, value in expected.items() if c[key] != value]
            if name in frames and other in frames and (other, name) not in recomputed:
                recomputed.add((name, other))  # the other copy is checked as its mirror
                again = _rounded(paired(frames[name], frames[other], where))
                problems += [f"{where}: {key} {c.get(key)} but the predictions give {value}"
                             for key, value in again.items() if c.get(key) != value]
            mirror = stored[other].get(name)
            if mirror is not None and stats.mirrored(mirror) != c:
                problems.append(f"{where}: not the mirror of {other} vs {name}")
    return problems


def render(check: bool, root: Path = RESULTS, documents: list[Path] = DOCUMENTS,
           recompute: bool = True) -> None:
    """The documents' tables from `root`, after every number there is recomputed
    (`recompute`: about 10 s of CPU for the committed runs, mostly their bootstraps)."""
    problems = inconsistencies(root) if recompute else []
    if problems:
        raise PipelineError(f"{problems[0]} ({len(problems)} problem(s) in {root}/): results "
                            "are recorded from predictions (`record`, `pair`), never edited")
    generated = blocks(root)
    stale = []
    for doc in documents:
        text = doc.read_text(encoding="utf-8")
        new = render_text(text, generated, str(doc))
        if new != text:
            stale.append(str(doc))
            if not check:
                doc.write_text(new, encoding="utf-8")
    if check and stale:
        raise PipelineError(
            f"{', '.join(stale)}: the results tables differ from results/: run `make results`"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("name")
    rec.add_argument("--model", required=True)
    rec.add_argument("--split", required=True)
    rec.add_argument("--label", required=True)
    rec.add_argument("--predictions", type=Path, required=True)
    rec.add_argument("--metrics", type=Path)
    rec.add_argument("--params", type=Path)
    rec.add_argument("--environment", type=Path)
    rec.add_argument("--gpu-run", type=Path, help="benchmarks/gpu_recipe.py's result file")
    rec.add_argument("--seed", type=int)
    rec.add_argument("--shared-with", help="the run that trained on the same GPU at once")
    rec.add_argument("--command", default="")
    rec.add_argument("--differs", action="append", default=[])
    sub.add_parser("pair")
    ren = sub.add_parser("render")
    ren.add_argument("--check", action="store_true")
    args = parser.parse_args()
    try:
        if args.what == "record":
            print(record(args.name, args))
        elif args.what == "pair":
            pair()
        else:
            render(args.check)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        raise PipelineError(  # a hand-edited or truncated result file, not a bug to trace
            f"a result file under {RESULTS}/ lacks or mistypes a field "
            f"({type(error).__name__}: {str(error)[:120]}): `git checkout -- {RESULTS}` or "
            "record the run again"
        ) from None


if __name__ == "__main__":
    run_stage(main)
