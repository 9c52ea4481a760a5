"""Randomised bad-input runs of ik.kaplan_meier and ik.logrank, each case in its own
subprocess (a crash or a hang fails the case, not the test session): NaN/inf, huge/tiny/offset and
negative times, ties, zero weights, invalid event codes, no or all events, entry times, one-row data.
Expected: a valid result or a clear InvalidInputError / TypeError / ValueError; the data unchanged
(tests/python/fuzz/survival_case.py)."""
import subprocess
import sys
from pathlib import Path

import pytest

CASE = Path(__file__).resolve().parent / "fuzz" / "survival_case.py"


@pytest.mark.parametrize("seed", range(20))
def test_random_bad_input_case(seed):
    try:
        out = subprocess.run([sys.executable, str(CASE), str(seed)], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail(f"seed {seed}: hung (> 120 s)")
    assert out.returncode == 0, f"seed {seed}: exit {out.returncode}\n{out.stdout}\n{out.stderr[-2000:]}"
