"""Thread control with checked arguments (the C++ core treats n <= 0 as "all cores" silently)."""
from __future__ import annotations

import os
from typing import Optional

from . import _core

#: At most this many threads per hardware thread: more only adds scheduling overhead (and a typo such
#: as 10**6 would try to start that many threads).
MAX_THREADS_PER_CORE = 4


def set_num_threads(n: Optional[int]) -> None:
    """Set the number of threads impactkit uses; results do not depend on it.

    Parameters
    ----------
    n : int or None
        A positive number of threads, at most 4 × the hardware threads (``os.cpu_count()``); ``None``
        restores the default (all cores).

    Raises
    ------
    TypeError
        ``n`` is not an integer.
    ValueError
        ``n`` is below 1 or above 4 × the hardware threads.

    Examples
    --------
    >>> import impactkit as ik
    >>> ik.set_num_threads(1)
    >>> ik.get_num_threads()
    1
    >>> ik.set_num_threads(None)  # back to all cores
    """
    if n is None:
        _core.set_num_threads(0)
        return
    if isinstance(n, bool) or not isinstance(n, int) and not hasattr(n, "__index__"):
        raise TypeError(f"set_num_threads: n must be a positive integer or None, got {type(n).__name__}")
    n = int(n.__index__())
    cores = os.cpu_count() or 1
    if n < 1:
        raise ValueError(f"set_num_threads: n must be at least 1, got {n} (use None for all {cores} cores)")
    if n > MAX_THREADS_PER_CORE * cores:
        raise ValueError(f"set_num_threads: n = {n} is more than {MAX_THREADS_PER_CORE} x the {cores} hardware threads "
                         f"of this machine (at most {MAX_THREADS_PER_CORE * cores})")
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """The number of threads impactkit will use (1 when built without OpenMP)."""
    return int(_core.get_num_threads())
