"""The pull-request check, as one local command: pull, refuse stale results, write the comment.

It never trains. Authors run `dvc repro` on a GPU box and `dvc push`; the check pulls what
they pushed, verifies with `dvc status` that it belongs to this commit's code and params,
and writes the comment: paired comparisons, metric and param diffs, plots as PNG.

    python -m sentiment.review --base origin/main --out review   # or: make review BASE=…

Exit 0: `review/comment.md` is the report. Exit 1: the comment (when one could be
written) says what is wrong and what the author should do; stderr has one line.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

from sentiment.io import PipelineError
from sentiment.report import build_report

# the plots a reviewer looks at: `dvc plots` id -> title
PLOTS = {
    "Accuracy by epoch": "Accuracy by epoch",
    "metrics/plots/confusion.csv": "Confusion matrix (test)",
}


def dvc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dvc", *args], capture_output=True, text=True)


def _first_error(result: subprocess.CompletedProcess) -> str:
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["no output"])[0].removeprefix("ERROR: ")[:300]


def pull() -> None:
    """`dvc pull`, failing loudly where DVC would only warn and skip."""
    default = dvc("remote", "default")
    if default.returncode != 0 or not default.stdout.strip():
        raise PipelineError(
            "no default DVC remote is configured: add one with `dvc remote add -d NAME URL` "
            "and commit .dvc/config (see docs/remotes.md)"
        )
    result = dvc("pull")
    if result.returncode != 0:
        raise PipelineError(
            f"`dvc pull` failed ({_first_error(result)}): the branch's results are not on the "
            "remote; run `dvc repro` on a GPU box and `dvc push`"
        )


def stale_stages() -> list[str]:
    """Stages whose code, params or inputs changed since their results were recorded."""
    result = dvc("status", "--json")
    if result.returncode != 0:
        raise PipelineError(f"`dvc status` failed ({_first_error(result)})")
    status = json.loads(result.stdout or "{}")
    return sorted(name.split(":")[-1] for name in status)


def render_plots(base: str, out: Path) -> list[str]:
    """Each plot of both revisions as a PNG beside the comment (no npm tool needed)."""
    import vl_convert

    lines = []
    for target, title in PLOTS.items():
        result = dvc("plots", "diff", base, "--show-vega", "--targets", target)
        if result.returncode != 0 or not result.stdout.strip():
            lines.append(f"- {title}: not rendered ({_first_error(result)})")
            continue
        name = re.sub(r"[^a-z0-9]+", "-", target.lower()).strip("-") + ".png"
        png = vl_convert.vegalite_to_png(vl_spec=result.stdout, scale=1.5)
        (out / name).write_bytes(png)
        lines.append(f"![{title}](./{name})")
    return lines


def stale_comment(stages: list[str]) -> str:
    names = ", ".join(f"`{s}`" for s in stages)
    return "\n".join(
        [
            "## Results are stale",
            "",
            f"These stages changed since their results were recorded: {names} (and so does "
            "everything downstream of them). The metrics in this branch were not produced by "
            "its code and params, so there is nothing to review yet.",
            "",
            "Run `dvc repro` on a GPU box, then `dvc push`, and commit `dvc.lock` and `metrics/`.",
            "",
        ]
    )


def review(base: str, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    comment = out / "comment.md"
    comment.unlink(missing_ok=True)
    try:
        pull()
        stale = stale_stages()
        if stale:
            comment.write_text(stale_comment(stale), encoding="utf-8")
            raise PipelineError(f"stale stages {', '.join(stale)}: run `dvc repro` and `dvc push`")
        report = build_report(base)
        plots = render_plots(base, out)
    except PipelineError as error:
        if not comment.exists():
            comment.write_text(f"## The review could not run\n\n{error}\n", encoding="utf-8")
        print(f"review: error: {error}", file=sys.stderr)
        return 1
    comment.write_text("\n".join([report, "### Plots", "", *plots, ""]), encoding="utf-8")
    print(f"review: wrote {comment}")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="origin/main", help="Git revision to compare against")
    parser.add_argument("--out", default="review", help="folder for comment.md and the PNGs")
    args = parser.parse_args()
    sys.exit(review(args.base, Path(args.out)))


if __name__ == "__main__":
    main()
