"""Randomised bad-input runs of ik.mann_kendall and ik.sens_slope, each case in its own subprocess (a crash or
a hang fails the case, not the test session); see tests/python/fuzz/monitoring_case.py for the checks."""
import subprocess
import sys
from pathlib import Path

import pytest

CASE = Path(__file__).resolve().parent / "fuzz" / "monitoring_case.py"


@pytest.mark.parametrize("seed", range(16))
def test_random_bad_input_case(seed):
    try:
        out = subprocess.run([sys.executable, str(CASE), str(seed)], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail(f"seed {seed}: hung (> 120 s)")
    assert out.returncode == 0, f"seed {seed}: exit {out.returncode}\n{out.stdout}\n{out.stderr[-2000:]}"
