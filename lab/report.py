"""Markdown reports that say how much of a difference is signal.

`--base REV` (what `make report` and the PR comment print) compares with the merge-base of
HEAD and REV, the commit the branch started from, so changes merged into REV since then
are not shown as this branch's: per model, a paired comparison of the merge-base's and the
workspace's predictions on the same test reviews, then `dvc metrics diff` and `dvc params
diff`. When REV's own results changed since the merge-base, the report says so in one line.
`--experiments`: the DVC experiments of this commit grouped by their params (seed
excluded), mean ± std over seeds, each group compared with its reference group on the
same reviews. `--models`: the workspace's models against each other, paired on the same
test reviews (does the BiLSTM beat the linear models?).

    python -m lab.report --base main          # or: make report BASE=main
    python -m lab.report --experiments        # or: make experiments
    python -m lab.report --models             # or: make models
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from lab.refresh import code, inert
from sentiment import evaluation, params, pipeline, stats
from sentiment.io import JSONProblem, PipelineError, file_digest, parse_json

SEED_KEY = "train.seed"


def models() -> dict[str, tuple[str, str]]:
    """model name -> (per-review predictions, metrics file): the stages of the workspace's
    dvc.yaml that publish both (sentiment.pipeline), so a new model stage is included."""
    return pipeline.models()


def git(*args: str) -> str:
    result = subprocess.run(["git", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise PipelineError(f"`git {' '.join(args)}` failed: {result.stderr.strip()[:300]}")
    return result.stdout.strip()


def merge_base(rev: str) -> str:
    """The commit HEAD forked from REV at: what the branch's changes are measured against."""
    try:
        return git("merge-base", "HEAD", rev)
    except PipelineError as error:
        raise PipelineError(
            f"no merge-base of HEAD and `{rev}` ({error}): fetch the base branch with its "
            f"history (`git fetch origin`; in Actions: checkout with fetch-depth: 0)"
        ) from None


def base_moved_on(rev: str, base: str) -> str | None:
    """One line when REV's results changed after the branch forked from it, else None."""
    tip = git("rev-parse", rev)
    changed = git("diff", "--name-only", base, tip, "--", "metrics/*.json").split()
    if not changed:
        return None
    files = ", ".join(code(name) for name in changed[:4]) + (", …" if len(changed) > 4 else "")
    return (
        f"> `{rev}` has new results since this branch forked from it (`{base[:8]}` → "
        f"`{tip[:8]}`: {files}); `make update BASE={rev}` merges them in and re-locks, "
        "to compare with them."
    )


def has_results(rev: str) -> bool:
    """Whether a revision has any results at all (its Git-kept metrics files)."""
    listed = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", rev, "--", "dvc.lock", "metrics/"],
        capture_output=True,
        text=True,
    )
    return listed.returncode == 0 and "dvc.lock" in listed.stdout.split()


def dvc_json(*args: str):
    """A `dvc … --json` answer, parsed."""
    result = subprocess.run(
        [sys.executable, "-P", "-m", "dvc", *args, "--json"], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise PipelineError(f"`dvc {' '.join(args)}` failed: {result.stderr.strip()[:300]}")
    try:
        return parse_json(result.stdout or "{}")
    except JSONProblem as error:
        raise PipelineError(f"`dvc {' '.join(args)}` wrote no JSON ({error})") from None


def _cell(value) -> str:
    """A value from a PR's files as a table cell: numbers as numbers, anything else inert."""
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return code(json_text(value))
    if isinstance(value, (int, float)):
        return f"{value:.5g}"
    return code(value)


def json_text(value) -> str:
    import json

    return json.dumps(value, sort_keys=True)[:80]


def diff_table(kind: str, base: str) -> str:
    """`dvc params diff` / `dvc metrics diff` against `base` as a Markdown table built here,
    every name and value a code span: DVC's own `--md` pastes a PR's names into the table
    raw (a `|` in a key adds a column, a `[link](…)` or `@name` renders)."""
    found = dvc_json(kind, "diff", base[:12])
    rows = [
        f"| {inert(path)} | {inert(name)} | {_cell(change.get('old'))} "
        f"| {_cell(change.get('new'))} |"
        for path, changes in (found.items() if isinstance(found, dict) else [])
        if isinstance(changes, dict)
        for name, change in sorted(changes.items())
        if isinstance(change, dict)
    ]
    if not rows:
        return "_No changes._"
    return "\n".join([f"| file | {kind[:-1]} | base | head |", "|---|---|---|---|", *rows])


def _flat(prefix: str, node) -> list[tuple[str, object]]:
    if isinstance(node, dict):
        return [pair for key, value in node.items() for pair in _flat(f"{prefix}{key}.", value)]
    return [(prefix[:-1], node)]


def metrics_table() -> str:
    """`dvc metrics show` of the workspace as a Markdown table built here (see diff_table)."""
    found = dvc_json("metrics", "show")
    files = found.get("", {}).get("data", {}) if isinstance(found, dict) else {}
    rows = [
        f"| {inert(path)} | {inert(name)} | {_cell(value)} |"
        for path, entry in (files.items() if isinstance(files, dict) else [])
        if isinstance(entry, dict)
        for name, value in _flat("", entry.get("data", {}))
    ]
    if not rows:
        return "_No metrics._"
    return "\n".join(["| file | metric | value |", "|---|---|---|", *rows])


def committed_symlinks() -> list[str]:
    """The commit's symbolic links, by a printable form of their names. A link can point
    anywhere on the runner (a credentials file, /dev/zero), so a review reads none."""
    listed = subprocess.run(["git", "ls-files", "-s", "-z"], capture_output=True, text=True)
    names = [entry.split("\t", 1)[1] for entry in listed.stdout.split("\0")
             if entry.startswith("120000 ") and "\t" in entry]
    return [printable_name(name) for name in names]


def printable_name(name: str) -> str:
    """A PR's file name as the comment may show it: word characters, '.', '/', '-'."""
    return re.sub(r"[^\w./-]", "?", name)[:80]


def listed_names(names: list[str], most: int) -> str:
    return ", ".join(code(name) for name in names[:most]) + (", …" if len(names) > most else "")


MAX_COMMITTED_BYTES = 16 << 20  # results kept in Git are small; data lives in DVC


def oversized_files(limit: int = MAX_COMMITTED_BYTES) -> list[str]:
    """The commit's files over `limit` bytes (printable names). DVC reads a metric, plot or
    params file whole, so a PR's file of any size would be read without bound."""
    listed = subprocess.run(["git", "ls-tree", "-r", "-l", "-z", "HEAD"],
                            capture_output=True, text=True)
    big = []
    for entry in listed.stdout.split("\0"):
        meta, _, name = entry.partition("\t")
        size = meta.split()[-1] if meta.split() else "-"
        if size.isdigit() and int(size) > limit:
            big.append(printable_name(name))
    return big


def refuse_unsafe_commit() -> None:
    """Refuse, in one line, a commit DVC must not read: one holding symbolic links (they can
    point at /dev/zero or any file of the machine) or files over MAX_COMMITTED_BYTES. The
    review and every report check this before DVC reads a metric, plot or params file."""
    links = committed_symlinks()
    if links:
        raise PipelineError(
            f"this commit holds symbolic links ({listed_names(links, 5)}), which can point at any "
            "file of the machine that reads it, so nothing of it was read: commit the files "
            "themselves instead of links"
        )
    big = oversized_files()
    if big:
        raise PipelineError(
            f"this commit holds files over {MAX_COMMITTED_BYTES >> 20} MiB "
            f"({listed_names(big, 5)}), so nothing of it was read: keep data in DVC (`dvc "
            "add` or a stage's outs), commit small files only"
        )


def read_workspace(path: str | Path) -> str | None:
    """A workspace file, read with a bound: a regular file (a DVC output may be a link into
    the cache) of at most MAX_COMMITTED_BYTES, or a one-line refusal; None when missing."""
    path = Path(path)
    if not path.exists():
        return None
    if not path.is_file():
        raise PipelineError(f"{path} is not a regular file (a device, a folder or a pipe): "
                            "replace it with the file its stage writes (`dvc checkout`)")
    with path.open("rb") as file:
        data = file.read(MAX_COMMITTED_BYTES + 1)
    if len(data) > MAX_COMMITTED_BYTES:
        raise PipelineError(f"{path} is larger than {MAX_COMMITTED_BYTES >> 20} MiB: not "
                            "a result file; `dvc checkout` it")
    return data.decode("utf-8", errors="replace")


def read_at(path: str, rev: str | None):
    """A file at a Git revision (DVC-tracked files from the cache or remote), or None."""
    import dvc.api

    if rev is None:
        return read_workspace(path)
    try:
        return dvc.api.read(path, rev=rev, mode="r")
    except Exception:  # missing file, object neither cached nor on the remote, unknown rev
        return None


def _where(path: str, rev: str | None) -> str:
    return path if rev is None else f"{path} at {rev[:12]}"


def check_locked(path: str) -> None:
    """The workspace's file must be the one dvc.lock names: after a branch switch or a pull
    without `dvc checkout`, another run's predictions would be compared as this one's."""
    from sentiment import provenance

    named = provenance.locked_md5(path, provenance.read_lock())
    if named is not None and file_digest(path, "md5").hexdigest() != named:
        raise PipelineError(
            f"{path} is not the one dvc.lock names (its MD5 differs): "
            f"`dvc checkout {path}` (or `dvc pull`) first, or `dvc repro` to make it"
        )


def predictions_at(path: str, rev: str | None):
    import io

    content = read_at(path, rev)
    if content is None:
        return None
    if rev is None:
        check_locked(path)
    return evaluation.read_predictions(io.StringIO(content), _where(path, rev))


def _pct(value: float) -> str:
    return f"{100 * value:.2f}"


def _interval_text(path: str, rev: str | None) -> str:
    content = read_at(path, rev)
    try:
        metrics = parse_json(content) if content else {}
    except JSONProblem as error:
        raise PipelineError(
            f"{_where(path, rev)} is not valid JSON ({error}): re-run the stage that wrote it"
        ) from None
    if not isinstance(metrics, dict):
        raise PipelineError(f"{_where(path, rev)} is not a metrics object: re-run its stage")
    if "accuracy" not in metrics:
        return "no metrics"
    ci = metrics.get("accuracy_ci")
    ci_ok = ci is None or isinstance(ci, dict)
    values = [metrics["accuracy"]] + ([ci.get("low"), ci.get("high")] if ci and ci_ok else [])
    if not ci_ok or not all(_is_fraction(v) for v in values):
        raise PipelineError(
            f"{_where(path, rev)} has an accuracy or interval that is not a number in [0, 1]: "
            "re-run the stage that wrote it"
        )
    if not ci:
        return f"{_pct(metrics['accuracy'])}% (no interval recorded)"
    return f"{_pct(metrics['accuracy'])}% (95% CI {_pct(ci['low'])}–{_pct(ci['high'])})"


def _is_fraction(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1


PAIRED_HEADER = [
    "| model | base acc % | head acc % | change (pt) | 95% CI (pt) "
    "| only base right / only head right | McNemar p | verdict |",
    "|---|---|---|---|---|---|---|---|",
]


def _paired_row(label: str, labels, base_pos, head_pos) -> str:
    """`label`: Markdown made safe by the caller (inert names)."""
    c = stats.paired_comparison(labels, base_pos, head_pos)
    return (
        f"| {label} | {_pct(c['base_accuracy'])} | {_pct(c['head_accuracy'])} "
        f"| {100 * c['change']:+.2f} | {100 * c['change_ci']['low']:+.2f} to "
        f"{100 * c['change_ci']['high']:+.2f} | {c['base_only']} / {c['head_only']} "
        f"| {c['p_value']:.3g} | **{c['verdict']}** |"
    )


def models_table(only: str | None = None) -> str:
    """Every two models of the workspace (or `only` against each other), paired on the same
    test reviews; the earlier in dvc.yaml is the base."""
    found = models()
    if only is not None and only not in found:
        raise PipelineError(f"no model {only!r} in dvc.yaml; its models: {', '.join(found)}")
    from sentiment import provenance

    lock = provenance.read_lock() if Path("dvc.lock").is_file() else None
    frames, rows, notes = {}, [], []
    for name, (predictions, _) in found.items():
        if lock is not None and provenance.locked_md5(predictions, lock) is None:
            notes.append(f"- **{inert(name)}**: dvc.lock does not name {inert(predictions)} "
                         f"(the stage never ran): `dvc repro {name}` first; not paired.")
            continue
        frames[name] = predictions_at(predictions, None)
        if frames[name] is None:
            notes.append(f"- **{inert(name)}**: no {inert(predictions)} in the workspace; "
                         "not paired.")
    names = [n for n, f in frames.items() if f is not None]
    for i, base in enumerate(names):
        for head in names[i + 1:]:
            if only not in (None, base, head):
                continue
            aligned, why = evaluation.paired(frames[head], frames[base])
            if aligned is None:
                notes.append(f"- **{inert(base)}** and **{inert(head)}**: {why}; not paired.")
                continue
            labels = frames[head]["label"].to_numpy()
            rows.append(_paired_row(f"{inert(base)} (base) vs {inert(head)} (head)", labels,
                                    aligned["prob_pos"].to_numpy(),
                                    frames[head]["prob_pos"].to_numpy()))
    if not rows and not notes:
        return "Fewer than two models in dvc.yaml: nothing to pair."
    table = [*PAIRED_HEADER, *rows] if rows else []
    return "\n".join(table + ([""] if rows and notes else []) + notes)


def roc_overlay(out: Path) -> Path | None:
    """One chart of every model's ROC curve (metrics/plots/<model>/roc.csv), as a PNG: the
    models come from dvc.yaml, so a new model stage is drawn without editing anything."""
    import csv
    import json

    values = []
    for name in models():
        path = Path("metrics/plots") / name / "roc.csv"
        if path.is_file():
            with path.open(encoding="utf-8") as file:
                values += [{"model": name, "fpr": float(r["fpr"]), "tpr": float(r["tpr"])}
                           for r in csv.DictReader(file)]
    if not values:
        return None
    import vl_convert

    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": "ROC curves (test), every model", "width": 360, "height": 300,
        "data": {"values": values}, "mark": {"type": "line"},
        "encoding": {"x": {"field": "fpr", "type": "quantitative", "title": "false positive rate"},
                     "y": {"field": "tpr", "type": "quantitative", "title": "true positive rate"},
                     "color": {"field": "model", "type": "nominal"}},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(vl_convert.vegalite_to_png(vl_spec=json.dumps(spec), scale=1.5))
    return out


def paired_rows(base: str) -> list[str]:
    """One table row per model, or one line saying why it cannot be paired."""
    rows, notes = [], []
    for model, (predictions, metrics) in models().items():
        head = predictions_at(predictions, None)
        before = predictions_at(predictions, base)
        sides = f"base {_interval_text(metrics, base)}, head {_interval_text(metrics, None)}"
        if head is not None and read_at(metrics, base) is None:
            notes.append(
                f"- **{inert(model)}**: new in this branch (the base has no {code(metrics)}): head "
                f"{_interval_text(metrics, None)}."
            )
        elif head is None or before is None:
            where = (
                "the workspace"
                if head is None
                else f"`{base[:8]}` (its results are not on the DVC remote: `dvc push` them)"
            )
            notes.append(f"- **{inert(model)}**: no predictions in {where}; not paired. {sides}.")
        elif (aligned := evaluation.paired(head, before))[0] is None:
            notes.append(f"- **{inert(model)}**: {aligned[1]}, `prepare` changed; not paired. "
                         f"{sides}.")
        else:
            labels, head_pos = head["label"].to_numpy(), head["prob_pos"].to_numpy()
            base_pos = aligned[0]["prob_pos"].to_numpy()
            rows.append(_paired_row(inert(model), labels, base_pos, head_pos))
    table = [*PAIRED_HEADER, *rows] if rows else []
    return table + ([""] if rows and notes else []) + notes


def build_report(rev: str, base: str | None = None) -> str:
    """The report against `base`, the merge-base of HEAD and `rev` (computed when None)."""
    base = base or merge_base(rev)
    moved_on = base_moved_on(rev, base)
    if not has_results(base):
        return first_results_report(rev, base)
    return "\n".join(
        [
            f"## Results against `{rev}` (merge-base `{base[:8]}`)",
            "",
            *([moved_on, ""] if moved_on else []),
            "### Paired comparison on the same test reviews",
            "",
            *paired_rows(base),
            "",
            f"The change is paired-bootstrap resampled ({stats.RESAMPLES} resamples); McNemar's "
            'exact test counts the reviews only one side gets right. "better"/"worse" '
            f"needs p < {stats.ALPHA} and an interval clear of zero.",
            "",
            "### Params (`dvc params diff`)",
            "",
            diff_table("params", base),
            "",
            "<details><summary>Every metric (<code>dvc metrics diff</code>)</summary>",
            "",
            diff_table("metrics", base),
            "",
            "</details>",
            "",
        ]
    )


def first_results_report(rev: str, base: str) -> str:
    """The base has no results yet (no dvc.lock): the head's numbers, nothing to pair."""
    rows = [
        f"| {inert(model)} | {_interval_text(metrics, None)} |"
        for model, (_, metrics) in models().items()
        if read_at(metrics, None) is not None
    ]
    return "\n".join(
        [
            f"## First results: `{rev}` has none yet (merge-base `{base[:8]}`)",
            "",
            "The base has no `dvc.lock` or metrics, so there is nothing to compare with: these "
            "are the first results. Once this merges, later pull requests are paired against "
            "them.",
            "",
            "| model | test accuracy (95% CI) |",
            "|---|---|",
            *rows,
            "",
            "<details><summary>Every metric (<code>dvc metrics show</code>)</summary>",
            "",
            metrics_table(),
            "",
            "</details>",
            "",
        ]
    )


# --- experiments -------------------------------------------------------------------------


def param_keys(row: dict) -> list[str]:
    sections = set(params.load_params())  # the workspace's sections, whatever stages they have
    return [k for k in row if k.split(".")[0] in sections and "." in k and ":" not in k]


def finished_experiments() -> tuple[dict, list[dict], list[dict]]:
    """(the workspace row, every finished experiment of this commit, every failed one)
    from `dvc exp show`."""
    import dvc.api

    rows = dvc.api.exp_show()
    workspace = next(r for r in rows if r["rev"] == "workspace")
    accuracies = [f"{metrics}:accuracy" for _, metrics in models().values()]
    runs = [
        r
        for r in rows
        if r["typ"] != "baseline"
        and r.get("State") in (None, "Success")
        and any(r.get(key) is not None for key in accuracies)
    ]
    failed = [r for r in rows if r["typ"] != "baseline" and r.get("State") == "Failed"]
    return workspace, runs, failed


def failed_rows(failed: list[dict], workspace: dict, others: int = 2) -> list[str]:
    """One table row per failed run: what it changed from params.yaml, and where its log is."""
    rows = []
    for run in failed:
        name = run.get("Experiment") or run["rev"][:7]
        changed = ", ".join(
            f"{k}={_value(run[k])}"
            for k in param_keys(run)
            if k != SEED_KEY and _value(run[k]) != _value(workspace.get(k))
        )
        label = f"{name} ({changed or 'params.yaml'})"
        rows.append(
            f"| {label} | 1 ({_value(run.get(SEED_KEY))}) | **failed** | | | | "
            + "| " * others + f"| `dvc queue logs {name}` |"
        )
    return rows


def _value(value) -> str:
    """A param as the user wrote it (`dvc exp show` turns integers into floats)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def group_runs(runs: list[dict]) -> dict[tuple, list[dict]]:
    """Runs with the same params but the seed, in first-seen order, each sorted by seed.
    A seed run twice counts once (the first listed): a repeat is not another draw."""
    groups: dict[tuple, dict] = defaultdict(dict)
    for run in runs:
        key = tuple((k, _value(run[k])) for k in param_keys(run) if k != SEED_KEY)
        groups[key].setdefault(run[SEED_KEY], run)
    return {key: [group[s] for s in sorted(group)] for key, group in groups.items()}


def _summary(values: list[float]) -> tuple[str, str]:
    array = np.array(values)
    spread = f" ± {100 * array.std(ddof=1):.2f}" if len(array) > 1 else ""
    return f"{100 * array.mean():.2f}{spread}", f"{_pct(array.min())}–{_pct(array.max())}"


def _modal(groups: dict[tuple, list[dict]]) -> dict[str, str]:
    """Each param's most common value over all runs: what the variants change."""
    counts: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for key, runs in groups.items():
        for k, v in key:
            counts[k][v] += len(runs)
    return {k: max(values, key=values.get) for k, values in counts.items()}


def _test_set(key: tuple) -> dict:
    return {k: v for k, v in key if k.startswith("prepare.")}


def _reference(groups: dict[tuple, list[dict]], modal: dict[str, str]) -> dict[tuple, tuple]:
    """Each group's reference: on the same test set (same prepare.*), the group that keeps
    the most common value of every other param (the preset the variants change)."""

    def distance(key: tuple) -> int:
        return sum(1 for k, v in key if not k.startswith("prepare.") and v != modal[k])

    return {
        key: min((g for g in groups if _test_set(g) == _test_set(key)), key=distance)
        for key in groups
    }


def compare_groups(base_runs: list[dict], head_runs: list[dict], path: str) -> str:
    """The paired verdict of two groups, matched by seed, from the runs' saved predictions
    (`path`: the compared model's predictions file)."""
    seeds = {r[SEED_KEY]: r for r in base_runs}
    pairs = [(seeds[r[SEED_KEY]], r) for r in head_runs if r[SEED_KEY] in seeds]
    if not pairs:
        return "no common seeds"
    frames = [(predictions_at(path, b["rev"]), predictions_at(path, h["rev"])) for b, h in pairs]
    if any(b is None or h is None for b, h in frames):
        return "predictions missing (`dvc exp pull`?)"
    order = frames[0][1]["id"]  # every run's reviews, in one order: the same labels for all
    if any(set(f["id"]) != set(order) for pair in frames for f in pair):
        return "test sets differ"
    for b, h in frames:
        evaluation.paired(h, b)  # refuses labels that disagree

    def in_order(frame):
        return frame.set_index("id").loc[order].reset_index()

    frames = [(in_order(b), in_order(h)) for b, h in frames]
    labels = frames[0][1]["label"].to_numpy()
    c = stats.paired_over_seeds(
        labels,
        [b["prob_pos"].to_numpy() for b, _ in frames],
        [h["prob_pos"].to_numpy() for _, h in frames],
    )
    p_values = ", ".join(f"{p:.2g}" for p in c["p_values"])
    return (
        f"{100 * c['change']:+.2f} pt ({100 * c['change_ci']['low']:+.2f} to "
        f"{100 * c['change_ci']['high']:+.2f}), McNemar p {p_values}: **{c['verdict']}**"
    )


def experiments_table(model: str | None = None) -> str:
    """The finished experiments grouped by params (seed excluded): `model`'s accuracy (the
    first model the runs have, by default) with its spread and the paired verdict against
    the reference group, and every other model's mean accuracy beside it."""
    workspace, runs, failed = finished_experiments()
    found = models()
    if not runs:
        listed = "\n".join(["", "Failed:", "", *failed_rows(failed, workspace)]) if failed else ""
        return "No finished experiments for this commit: queue some with `make sweep`." + listed
    if model is not None and model not in found:
        raise PipelineError(f"no model {model!r} in dvc.yaml; its models: {', '.join(found)}")
    model = model or next(m for m, (_, f) in found.items()
                          if any(r.get(f"{f}:accuracy") is not None for r in runs))
    predictions, metrics = found[model]
    runs = [r for r in runs if r.get(f"{metrics}:accuracy") is not None]
    others = [m for m in found if m != model]
    groups = group_runs(runs)
    modal = _modal(groups)
    reference = _reference(groups, modal)
    shared = [
        f"{k}={v}"
        for k, v in modal.items()
        if all(dict(g)[k] == v for g in groups) and _value(workspace.get(k)) != v
    ]
    # each test set's reference first, then its variants
    order = sorted(groups, key=lambda g: (str(_test_set(g)), reference[g] != g))
    lines = [
        "| group (changes from the most common settings) | runs (seeds) "
        f"| {model} accuracy % (mean ± std) | min–max | ROC AUC % (mean ± std) | min–max "
        + "".join(f"| {m} accuracy % " for m in others)
        + "| vs reference (paired, same test reviews) |",
        "|---|---|---|---|---|---|" + "---|" * len(others) + "---|",
    ]
    for key in order:
        group = groups[key]
        label = ", ".join(f"{k}={v}" for k, v in key if v != modal[k]) or "most common settings"
        seeds = ", ".join(_value(r.get(SEED_KEY)) for r in group)
        accuracy = _summary([r[f"{metrics}:accuracy"] for r in group])
        auc = _summary([r[f"{metrics}:roc_auc"] for r in group])
        beside = []
        for other in others:
            values = [r.get(f"{found[other][1]}:accuracy") for r in group]
            beside.append("—" if None in values else _pct(np.mean(values)))
        versus = (
            "reference"
            if reference[key] == key
            else compare_groups(groups[reference[key]], group, predictions)
        )
        lines.append(
            f"| {label} | {len(group)} ({seeds}) | {accuracy[0]} | {accuracy[1]} | {auc[0]} "
            f"| {auc[1]} | " + "".join(f"{b} | " for b in beside) + f"{versus} |"
        )
    varied = [k for k in modal if len({dict(g)[k] for g in groups}) > 1]
    most_common = ", ".join(f"{k}={modal[k]}" for k in varied)
    return "\n".join(
        [
            "Every run sets, beyond params.yaml: " + (", ".join(shared) or "nothing"),
            "",
            f"Most common settings of the params that vary: {most_common}",
            "",
            *lines,
            *failed_rows(failed, workspace, len(others)),
        ]
    )


def runs_table() -> str:
    """One row per experiment of this commit, narrow enough for a terminal: the params
    that vary between them and each model's test accuracy with its 95% interval."""
    import dvc.api

    rows = [r for r in dvc.api.exp_show() if r.get("State") in (None, "Success")]
    keys = [k for k in dict.fromkeys(k for r in rows for k in param_keys(r))
            if len({_value(r.get(k)) for r in rows}) > 1]
    found = {m: f for m, (_, f) in models().items()
             if any(_is_fraction(r.get(f"{f}:accuracy")) for r in rows)}
    lines = ["| experiment | " + " | ".join([*keys, *(f"{m} acc % (95% CI)" for m in found)])
             + " |", "|---" * (1 + len(keys) + len(found)) + "|"]
    for r in rows:
        cells = [_value(r.get(k)) for k in keys]
        for metrics in found.values():
            acc, low, high = (r.get(f"{metrics}:{k}") for k in
                              ("accuracy", "accuracy_ci.low", "accuracy_ci.high"))
            if not _is_fraction(acc):
                cells.append("—")
            elif _is_fraction(low) and _is_fraction(high):
                cells.append(f"{_pct(acc)} ({_pct(low)}–{_pct(high)})")
            else:
                cells.append(_pct(acc))
        name = r.get("Experiment") or (r["rev"] if len(r["rev"]) < 40 else r["rev"][:7])
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--base", default="main", help="Git revision to compare against")
    what.add_argument("--experiments", action="store_true", help="seed-grouped experiments table")
    what.add_argument("--models", action="store_true", help="every two models, paired")
    what.add_argument("--runs", action="store_true",
                      help="each experiment: the params that vary, each model's accuracy")
    parser.add_argument("--model", help="--models: only this one's pairs; --experiments: the "
                        "model whose accuracy groups are compared (default: the first run)")
    args = parser.parse_args()
    try:
        refuse_unsafe_commit()
        if args.runs:
            print(runs_table())
        elif args.models:
            print(models_table(args.model))
            chart = roc_overlay(Path("dvc_plots/roc-every-model.png"))
            print(f"\nEvery model's ROC curve: {chart}" if chart else "")
        else:
            print(experiments_table(args.model) if args.experiments else build_report(args.base))
    except PipelineError as error:
        sys.exit(f"report: error: {error}")


if __name__ == "__main__":
    main()
