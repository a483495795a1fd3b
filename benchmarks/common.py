"""Shared helpers for the benchmark scripts: timing, environment facts, results files."""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

RESULTS = Path("benchmarks/results")


def median_time(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of `repeats` calls, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def machine() -> dict:
    """The machine and the BLAS that NumPy uses, so results can be compared honestly."""
    import os

    import numpy as np

    from sentiment.devices import cpu_model

    blas = "unknown"
    try:
        from threadpoolctl import threadpool_info

        pools = [i for i in threadpool_info() if i["user_api"] == "blas"]
        blas = ", ".join(f"{i['internal_api']} {i.get('version')}" for i in pools)
    except ImportError:
        pass
    return {
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas,
    }


def report(name: str, result: dict) -> None:
    """Print the result and write it to benchmarks/results/<name>.json."""
    result = {"benchmark": name, **result, "machine": machine()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
