"""The pull-request report: metric and param changes against a base revision, as Markdown.

The CI workflow posts its output as a PR comment; anyone can run it locally:

    python -m sentiment.report --base main          # or: make report BASE=main
"""

from __future__ import annotations

import argparse
import subprocess
import sys


def dvc_markdown(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "dvc", *args, "--md"], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"report: `dvc {' '.join(args)}` failed: {result.stderr.strip()}")
    return result.stdout.strip() or "_No changes._"


def build_report(base: str) -> str:
    """Markdown with `dvc metrics diff` (all models) and `dvc params diff` against `base`."""
    return "\n".join(
        [
            f"## Results against `{base}`",
            "",
            "### Metrics (`dvc metrics diff`)",
            "",
            dvc_markdown("metrics", "diff", base),
            "",
            "### Params (`dvc params diff`)",
            "",
            dvc_markdown("params", "diff", base),
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="main", help="Git revision to compare against")
    print(build_report(parser.parse_args().base))


if __name__ == "__main__":
    main()
