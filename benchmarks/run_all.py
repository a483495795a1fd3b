"""`make bench`: run every benchmark and write benchmarks/results/summary.md.

encode and embed need a real `encode` output (`dvc repro encode` on the real data);
they are skipped with a note when data/prepared or models/vocab.json is missing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.common import RESULTS


def run(name: str, needs: str | None = None) -> None:
    if needs and not Path(needs).exists():
        print(f"bench: skipping {name}: {needs} is missing (run `dvc repro encode` first)")
        return
    subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], check=True)


def summary() -> str:
    lines = ["| benchmark | result | target |", "|---|---|---|"]
    for path in sorted(RESULTS.glob("*.json")):
        result = json.loads(path.read_text())
        target = result.pop("target", "")
        result.pop("machine", None)
        name = result.pop("benchmark")
        shown = ", ".join(f"{k}: {v}" for k, v in result.items())
        lines.append(f"| {name} | {shown} | {target} |")
    machine = json.loads(next(RESULTS.glob("*.json")).read_text())["machine"]
    lines.append("")
    lines.append("Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()))
    return "\n".join(lines) + "\n"


def main() -> None:
    run("paired")
    run("encode", "data/prepared/train.parquet")
    run("embed", "models/vocab.json")
    run("threads")
    run("notebook", "data/encoded/x_train.npy")
    run("pipeline")
    table = summary()
    (RESULTS / "summary.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
