"""Shared timing helper of the Python benchmarks: the median wall time of repeated calls."""
from __future__ import annotations

import statistics
import time


def timed(f, repeat: int):
    """(median seconds over ``repeat`` calls of f(), the last result)."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out
