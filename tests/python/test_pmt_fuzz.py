"""Randomised bad-input runs of ik.quantreg and ik.pmt (score, cutoff, evaluate), each case in its own
subprocess (a crash or a hang fails the case, not the test session): NaN/inf/negative welfare, ties,
huge/tiny/offset scales, constant or missing regressors, zero/NaN weights, one to a few rows, grouped
folds. Expected: finite results (error rates and AUC in [0, 1]) or a clear InvalidInputError / TypeError /
ValueError; the data unchanged (tests/python/fuzz/pmt_case.py)."""
import subprocess
import sys
from pathlib import Path

import pytest

CASE = Path(__file__).resolve().parent / "fuzz" / "pmt_case.py"


@pytest.mark.parametrize("seed", range(16))
def test_random_bad_input_case(seed):
    try:
        out = subprocess.run([sys.executable, str(CASE), str(seed)], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail(f"seed {seed}: hung (> 120 s)")
    assert out.returncode == 0, f"seed {seed}: exit {out.returncode}\n{out.stdout}\n{out.stderr[-2000:]}"
