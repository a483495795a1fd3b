"""Memory of the paired comparison at scale: 10^6 predictions per side, 1,000 resamples.

The resamples are drawn a block at a time (stats.count_blocks), so peak memory follows
the block (CHUNK_CELLS draws), not resamples x reviews (~24 GB for the whole matrix at this
size). Each measurement runs in a fresh process; peak RSS is the process's own maximum.

    python -m benchmarks.paired
"""

from __future__ import annotations

import json
import subprocess
import sys

from benchmarks.common import report

CHILD = """
import json, resource, time
import numpy as np
from sentiment import stats
n = {n}
rng = np.random.default_rng(0)
labels = rng.integers(0, 2, n)
base, head = rng.random(n), rng.random(n)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
result = stats.paired_comparison(labels, base, head)
print(json.dumps({{
    "seconds": round(time.perf_counter() - start, 1),
    "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    "inputs_rss_mib": round(before / 1024),
    "verdict": result["verdict"],
}}))
"""


def measure(n: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(n=n)], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    results = {f"n={n}": measure(n) for n in (10_000, 1_000_000)}
    report("paired", {**results, "resamples": 1000, "target": "10^6 per side <= 2048 MiB"})


if __name__ == "__main__":
    main()
