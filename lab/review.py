"""The pull-request check, as one local command: pull, refuse stale results, write the comment.

It never trains. Authors run `dvc repro` on a GPU box and `dvc push`; the check pulls what
they pushed, verifies with `dvc status` that it belongs to this commit's code and params,
and writes the comment: paired comparisons against the merge-base of HEAD and `--base`,
metric and param diffs, the plots as tables (GitHub renders them in the comment) and as
PNG files beside it (the workflow uploads them as an artifact; no outside host).

    python -m lab.review --base origin/main --out review   # or: make review BASE=…

Exit 0: `review/comment.md` is the report. Exit 1: the comment (when one could be
written) says what is wrong and what the author should do; stderr has one line.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from lab.refresh import MARKER, code, conflict_status, status_block
from lab.report import listed_names, printable_name, refuse_unsafe_commit
from sentiment import provenance
from sentiment.io import PipelineError

# What an author commits after `dvc repro` (and what `make publish` stages): the lock, the
# params the runs used, the Git-kept metrics and plot data, and the .gitignore files DVC
# writes beside its outputs.
RESULT_FILES = "`dvc.lock`, `params.yaml`, `metrics/` and DVC's `.gitignore` files"
PUBLISH = (
    "`make publish` (runs `dvc push --run-cache`, then stages exactly "
    f"{RESULT_FILES}), then `git commit` and `git push`"
)
# the plots a reviewer looks at: `dvc plots` id -> title (rendered as PNG)
PLOTS = {
    "Accuracy by epoch": "Accuracy by epoch",
    "metrics/plots/bilstm/confusion.csv": "Confusion matrix (test)",
}
TRAINING_CURVE = "metrics/plots/training.csv"
CONFUSION = "metrics/plots/bilstm/confusion.csv"
# check_params writes constant bytes: it is "stale" after any edit of params.yaml, comments
# included, and re-running it changes nothing downstream, so it never makes results stale.
ALWAYS_FRESH = {"check_params"}
CREDENTIALS = re.compile(
    r"credential|AccessDenied|Forbidden|\b403\b|permission denied|authenticat", re.IGNORECASE
)


def dvc(*args: str) -> subprocess.CompletedProcess:
    """DVC on the checked-out commit; -P: its folder never goes on DVC's sys.path, so a
    module the commit adds (a `configobj.py`, say) is never imported by DVC."""
    return subprocess.run(
        [sys.executable, "-P", "-m", "dvc", *args], capture_output=True, text=True
    )


# What DVC parses of a PR's commit, bounded before DVC sees it: sizes, and YAML aliases
# (a "billion laughs" document is a few lines that expand without end when read).
YAML_BOUNDS = {"dvc.yaml": 1 << 20, "params.yaml": 1 << 20, "dvc.lock": 16 << 20}
MAX_ALIASES = 64


def alias_count(text: str) -> int:
    """How many YAML aliases a document uses, counted without expanding any."""
    import yaml

    return sum(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text))


def yaml_problem() -> str | None:
    """The first of the commit's pipeline YAML files that is too large or leans on
    aliases, in one line; None when all are within bounds."""
    import yaml

    for name, limit in YAML_BOUNDS.items():
        path = Path(name)
        if not path.is_file():
            continue
        if path.stat().st_size > limit:
            return f"{name} is larger than {limit // 2**20} MiB"
        try:
            aliases = alias_count(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue  # not YAML: DVC names it itself
        if aliases > MAX_ALIASES:
            return f"{name} uses {aliases} YAML aliases (at most {MAX_ALIASES} are read)"
    return None


# Values DVC never opens as files (a stage's command is not run by the review).
PROSE_KEYS = {"cmd", "desc", "meta", "title", "x_label", "y_label", "labels", "type"}
TEMPLATING = ("vars", "foreach", "matrix")


def pipeline_files() -> list[str]:
    """The commit's files DVC parses as pipelines: every dvc.yaml and .dvc file."""
    listed = subprocess.run(["git", "ls-files", "-z"], capture_output=True, text=True)
    return [name for name in listed.stdout.split("\0") if name and not name.startswith(".dvc/")
            and (Path(name).name == "dvc.yaml" or name.endswith(".dvc"))]


def _leaves_tree(text: str) -> bool:
    """Whether a path names something outside the commit's tree: absolute, home, a drive,
    a URL (DVC reads http://, s3://, remote:// deps itself) or any `..`."""
    parts = text.replace("\\", "/").split("/")
    return (text.startswith(("/", "~", "\\")) or "://" in text or ".." in parts
            or re.match(r"[A-Za-z]:", text) is not None)


def _outside(node, templating: bool, prose: bool = False) -> str | None:
    """The first string of a parsed pipeline file that leaves the tree, or (templating
    False) the first use of DVC's templating, in a few words; None when there is none.
    `prose`: a value DVC never opens as a file (PROSE_KEYS), checked for templating only."""
    if isinstance(node, dict):
        for name, value in node.items():
            if not templating and name in TEMPLATING:
                return f"uses DVC's templating (`{name}:`)"
            found = _outside(name, templating, prose) or _outside(
                value, templating, prose or name in PROSE_KEYS)
            if found:
                return found
    elif isinstance(node, list):
        return next((f for f in (_outside(v, templating, prose) for v in node) if f), None)
    elif isinstance(node, str):
        if not templating and "${" in node:
            return "uses DVC's templating (`${…}`)"
        if not prose and _leaves_tree(node):
            return f"names the path {code(node, 40)}"
    return None


def outside_references(templating: bool) -> str | None:
    """The first pipeline file that could make DVC read outside the commit's tree, in one
    line, checked before DVC parses anything; None when all stay inside. A fork's pipeline
    (templating False) may not use `vars:`, `foreach:`, `matrix:` or `${…}`: a `vars:` file
    is read from anywhere and its values land in the comment, and a matrix multiplies
    without bound."""
    import yaml

    for name in pipeline_files():
        path = Path(name)
        if not path.is_file() or path.stat().st_size > YAML_BOUNDS["dvc.yaml"]:
            return f"{printable_name(name)} is missing or larger than 1 MiB"
        try:
            text = path.read_text(encoding="utf-8")
            if alias_count(text) > MAX_ALIASES:
                return f"{printable_name(name)} uses more than {MAX_ALIASES} YAML aliases"
            document = yaml.safe_load(text)
        except (yaml.YAMLError, UnicodeDecodeError, RecursionError):
            return f"{printable_name(name)} is not YAML that can be read safely"
        found = _outside(document, templating)
        if found:
            return f"{printable_name(name)} {found}"
    return None


def _first_error(result: subprocess.CompletedProcess) -> str:
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["no output"])[0].removeprefix("ERROR: ")[:300]


def _missing_files(stderr: str) -> list[str]:
    """The paths DVC lists after "...following targets:" when objects are missing."""
    lines = stderr.splitlines()
    start = next((i for i, line in enumerate(lines) if line.rstrip().endswith("targets:")), None)
    if start is None:
        return []
    names = []
    for line in lines[start + 1 :]:
        if not line.strip() or line.startswith(("Is your cache", "ERROR", "WARNING")):
            break
        names.append(line.strip())
    return names


def pull() -> None:
    """`dvc pull`, failing loudly where DVC would only warn and skip."""
    default = dvc("remote", "default")
    if default.returncode != 0 or not default.stdout.strip():
        raise PipelineError(
            "no default DVC remote is configured: add one with `dvc remote add -d NAME URL` "
            "and commit .dvc/config (see docs/remotes.md)"
        )
    result = dvc("pull")
    if result.returncode == 0:
        return
    if CREDENTIALS.search(result.stderr):
        raise PipelineError(
            f"cannot read the DVC remote ({_first_error(result)}): no credentials for it. "
            "A fork's pull request gets none: its results are reviewed once a maintainer "
            "pushes the branch to this repository; otherwise set them (docs/review.md)"
        )
    missing = _missing_files(result.stderr)
    if missing:
        shown = listed_names(missing, 3)
        raise PipelineError(
            f"the branch's results are not on the remote ({len(missing)} "
            f"file{'s' if len(missing) != 1 else ''} missing: "
            f"{shown}): on the machine that ran `dvc repro`, run `make publish` (`dvc push "
            "--run-cache`, which the review also pulls)"
        )
    raise PipelineError(f"`dvc pull` failed ({_first_error(result)})")


def stale_changes() -> dict[str, list[tuple[str, str]]]:
    """Stage -> what changed since its results were recorded, as (kind, name) pairs:
    ("param", "train.epochs"), ("dep", "sentiment/model.py"), ("out", …), ("stage", …)."""
    result = dvc("status", "--json")
    if result.returncode != 0:
        raise PipelineError(f"`dvc status` failed ({_first_error(result)})")
    changes: dict[str, list[tuple[str, str]]] = {}
    for name, entries in json.loads(result.stdout or "{}").items():
        stage = name.split(":")[-1]
        if stage in ALWAYS_FRESH:
            continue
        found = []
        for entry in entries:
            if isinstance(entry, str):  # "changed command", "always changed"
                found.append(("stage", entry))
                continue
            for kind, items in entry.items():  # "changed deps" / "changed outs"
                for path, state in items.items():
                    if isinstance(state, dict):  # a params file: key -> state
                        found += [("param", key) for key in state]
                    elif path != "data/params_checked.txt":  # constant: see ALWAYS_FRESH
                        found.append((kind.removeprefix("changed ").removesuffix("s"), path))
        changes[stage] = found
    return changes


def fork_steps(number: int) -> str:
    """What re-runs a fork's results: its author cannot push to this repository's DVC
    remote, so a maintainer reproduces and publishes them (docs/review.md)."""
    return (
        "A fork cannot push to this repository's DVC remote, so a maintainer runs "
        f"`gh pr checkout {number}`, `dvc repro`, `make publish`, `git commit` and `git push` "
        f"(to this PR's branch), then `gh workflow run pr-report.yml -f pr={number} -f "
        "sha=$(git rev-parse HEAD)` (the review refuses any other head)."
    )


def stale_comment(changes: dict[str, list[tuple[str, str]]], fork_pr: int | None = None) -> str:
    def names(kind: str) -> str:
        found = sorted({name for pairs in changes.values() for k, name in pairs if k == kind})
        return ", ".join(code(name) for name in found)

    lines = [
        MARKER,
        "## Results are stale",
        "",
        "This commit's `dvc.lock` does not match its code and params: its metrics were not "
        "produced by them, so there is nothing to review yet.",
        "",
        "- stages to re-run: " + ", ".join(code(s) for s in changes) + " (and what follows them)",
    ]
    for kind, label in (
        ("param", "params changed"),
        ("dep", "files changed"),
        ("out", "outputs changed"),
        ("stage", "also"),
    ):
        if names(kind):
            lines.append(f"- {label}: {names(kind)}")
    lines += [
        "",
        fork_steps(fork_pr) if fork_pr is not None else
        "Run `dvc repro` (the full recipe on a GPU box: docs/gpu.md), then " + PUBLISH + ": "
        "the review runs again on that push.",
        "",
    ]
    return "\n".join(lines)


def rerun_hint() -> str:
    """How to run this check again once the results are pushed: no new commit is needed."""
    run_id = os.environ.get("GITHUB_RUN_ID")
    how = f"`gh run rerun {run_id}`" if run_id else "`gh run rerun <run id>`"
    return (
        "\n\nOnce they are pushed, run this check again without a new commit: "
        f"{how}, or *Re-run all jobs* on the pull request's Checks tab (the re-run pulls "
        "again)."
    )


def lock_comment(problems: list[str]) -> str:
    lines = [
        MARKER,
        "## dvc.lock does not match the outputs",
        "",
        "`dvc.lock` records params that did not make these outputs (`params.yaml` was "
        "edited as a stage finished, before DVC wrote the lock):",
        "",
        *[f"- {code(problem, 300)}" for problem in problems],
        "",
        "Re-run those stages with `dvc repro -f -s <stage>` (their outputs then match the "
        "lock), `dvc repro`, then " + PUBLISH + ".",
        "",
    ]
    return "\n".join(lines)


def conflicts(rev: str) -> list[str] | None:
    """The files HEAD and REV conflict in when merged (None: they merge cleanly)."""
    result = subprocess.run(
        ["git", "merge-tree", "--write-tree", "--name-only", "--no-messages", "HEAD", rev],
        capture_output=True,
        text=True,
    )
    if result.returncode == 0:
        return None
    if result.returncode != 1:
        raise PipelineError(f"`git merge-tree` failed: {result.stderr.strip()[:300]}")
    return [line for line in result.stdout.splitlines()[1:] if line.strip()]


def status_line(rev: str, fork_pr: int | None = None) -> str:
    """Whether the branch still merges into its base, with the command that resolves it
    (on a fork's PR, the steps that work there)."""
    from lab.report import git

    tip = git("rev-parse", rev)
    files = conflicts(rev)
    base = rev.removeprefix("origin/")
    if files:
        return conflict_status(base, tip, files, fork_pr, fork=fork_pr is not None)
    head = git("rev-parse", "HEAD")
    return f"> Reviewed `{head[:8]}` against `{rev}` at `{tip[:8]}`; it merges cleanly."


def _csv_at(path: str, rev: str | None) -> list[dict] | None:
    from lab.report import read_at

    content = read_at(path, rev)
    return None if content is None else list(csv.DictReader(io.StringIO(content)))


def _number(value: str | None) -> str:
    """A curve's value for a table cell; a missing or foreign one shows as `?`."""
    try:
        return f"{float(value):.4f}"
    except (TypeError, ValueError):
        return "?"


def plot_tables(base: str) -> list[str]:
    """The reviewer's plots as Markdown tables: GitHub renders these inside the comment."""
    lines = ["#### Validation accuracy by epoch", ""]
    curves = {name: _csv_at(TRAINING_CURVE, rev) for name, rev in (("base", base), ("head", None))}
    drawn = {name: rows for name, rows in curves.items() if rows is not None}
    if not drawn:
        lines.append("_No training curve on either side._")
    else:
        lines += [f"| epoch | {' | '.join(drawn)} |", "|---|" + "---|" * len(drawn)]
        for e in range(max(len(rows) for rows in drawn.values())):
            cells = [_number(rows[e].get("val_accuracy")) if e < len(rows) else ""
                     for rows in drawn.values()]
            lines.append(f"| {e + 1} | {' | '.join(cells)} |")
        if "base" not in drawn:
            lines += ["", "_The base has no training curve yet._"]
    lines += ["", "#### Confusion matrix (test; rows actual, columns predicted)", ""]
    sides = {name: _csv_at(CONFUSION, rev) for name, rev in (("base", base), ("head", None))}
    shown = [name for name, rows in sides.items() if rows is not None]
    if not shown:
        return [*lines, "_No confusion matrix on either side._"]
    header = " | ".join(f"{name} {p}" for name in shown for p in ("neg", "pos"))
    lines += [f"| | {header} |", "|---|" + "---|" * (2 * len(shown))]
    tallies = [Counter((r.get("actual"), r.get("predicted")) for r in sides[n]) for n in shown]
    for actual in ("neg", "pos"):
        cells = [str(t[(actual, p)]) for t in tallies for p in ("neg", "pos")]
        lines.append(f"| **{actual}** | " + " | ".join(cells) + " |")
    if "base" not in shown:
        lines += ["", "_The base has no confusion matrix yet._"]
    return lines


def _image_marks(node) -> bool:
    if isinstance(node, dict):
        mark = node.get("mark")
        if mark == "image" or (isinstance(mark, dict) and mark.get("type") == "image"):
            return True
        return any(_image_marks(value) for value in node.values())
    return isinstance(node, list) and any(_image_marks(value) for value in node)


def vega_png(spec: str) -> bytes:
    """A Vega-Lite spec as PNG, fetching nothing: a PR's plot template could name any URL
    (the runner's network, a metadata endpoint). vl_convert refuses data URLs when told to
    but still fetches an image mark's (1.9.0), so a spec with an image mark is refused."""
    import vl_convert

    try:
        if _image_marks(json.loads(spec)):
            raise PipelineError("the plot draws image marks, whose URLs would be fetched")
    except json.JSONDecodeError:
        raise PipelineError("the plot spec is not JSON") from None
    try:
        return vl_convert.vegalite_to_png(vl_spec=spec, scale=1.5, allowed_base_urls=[])
    except ValueError as error:
        detail = next((line.strip() for line in str(error).splitlines()[1:] if line.strip()), "")
        raise PipelineError(
            f"the plot names an outside URL or is not Vega-Lite ({detail[:120]})"
        ) from None


def render_plots(base: str, out: Path) -> list[str]:
    """Each plot of both revisions as a PNG beside the comment (no npm tool needed)."""
    written = []
    for target, title in PLOTS.items():
        result = dvc("plots", "diff", base, "--show-vega", "--targets", target)
        if result.returncode != 0 or not result.stdout.strip():
            print(f"review: plot {title!r} not rendered ({_first_error(result)})", file=sys.stderr)
            continue
        try:
            png = vega_png(result.stdout)
        except PipelineError as error:
            print(f"review: plot {title!r} not rendered: {error}", file=sys.stderr)
            continue
        name = re.sub(r"[^a-z0-9]+", "-", target.lower()).strip("-") + ".png"
        (out / name).write_bytes(png)
        written.append(name)
    return written


def review(rev: str, out: Path, fork_pr: int | None = None) -> int:
    from lab.report import build_report, merge_base

    if out.exists() and not out.is_dir():
        print(f"review: error: --out {out} is a file: name a folder", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    comment = out / "comment.md"
    comment.unlink(missing_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    try:
        refuse_unsafe_commit()  # before DVC reads any file of the commit
        outside = outside_references(templating=fork_pr is None)
        if outside:
            raise PipelineError(
                f"{outside}, which could make DVC read files outside this commit's tree, so "
                "nothing of it was read: name files inside the repository"
                + (" and write the pipeline out (a fork's review reads no templating)"
                   if fork_pr is not None else "")
            )
        too_big = yaml_problem()
        if too_big:
            raise PipelineError(
                f"this commit's {too_big}, so nothing of it was read: DVC would expand it "
                "without bound; write the values out (DVC itself writes no aliases)"
            )
        if not Path("dvc.lock").exists():
            raise PipelineError(
                "this commit has no dvc.lock, so it has no results to review: run `dvc repro` "
                "(the full recipe on a GPU box), then `make publish`, commit and push"
            )
        try:
            pull()
        except PipelineError as error:
            if "not on the remote" in str(error):
                reason = str(error)
                text = (
                    f"{MARKER}\n## The results are not on the DVC remote\n\n"
                    f"{reason[:1].upper()}{reason[1:]}.{rerun_hint()}\n"
                )
                comment.write_text(text, encoding="utf-8")
            raise
        stale = stale_changes()
        if stale:
            comment.write_text(stale_comment(stale, fork_pr), encoding="utf-8")
            raise PipelineError(
                f"stale stages {', '.join(stale)}: run `dvc repro` and `make publish`"
            )
        lies = provenance.lock_mismatches()
        if lies:
            comment.write_text(lock_comment(lies), encoding="utf-8")
            raise PipelineError("dvc.lock records params that did not make the outputs: " + lies[0])
        base = merge_base(rev)
        status = status_line(rev, fork_pr)
        report = build_report(rev, base)
        tables = plot_tables(base)
        pngs = render_plots(base, out)
    except PipelineError as error:
        if not comment.exists():
            reason = str(error)
            text = f"{MARKER}\n## The review could not run\n\n{reason[:1].upper()}{reason[1:]}\n"
            comment.write_text(text, encoding="utf-8")
        print(f"review: error: {error}", file=sys.stderr)
        return 1
    files = ", ".join(f"`{name}`" for name in pngs) or "none"
    body = [
        MARKER,
        status_block(status),
        report,
        "### Plots",
        "",
        *tables,
        "",
        f"PNG renderings: {files}.",
        "",
    ]
    comment.write_text("\n".join(body), encoding="utf-8")
    print(f"review: wrote {comment}")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--base", default="origin/main", help="compare with the merge-base of HEAD and this"
    )
    parser.add_argument("--out", default="review", help="folder for comment.md and the PNGs")
    parser.add_argument("--fork-pr", type=int, help="a fork's PR number: its steps differ")
    args = parser.parse_args()
    sys.exit(review(args.base, Path(args.out), args.fork_pr))


if __name__ == "__main__":
    main()
