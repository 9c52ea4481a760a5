"""Randomised bad-input runs of the Dask paths (ik.targeting, ik.fgt, ik.gini, SurveyDesign.mean on a dask
DataFrame against the in-memory call), each case in its own subprocess so that a crash or a hang fails the
case, not the session (tests/python/fuzz/dask_case.py). Expected: both paths refuse with a clear message,
or both give the same numbers (relative 1e-9); corrupted accumulator states are refused."""
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("dask.dataframe")
CASE = Path(__file__).resolve().parent / "fuzz" / "dask_case.py"


@pytest.mark.parametrize("seed", range(8))
def test_random_bad_input_case_on_dask(seed):
    try:
        out = subprocess.run([sys.executable, str(CASE), str(seed)], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail(f"seed {seed}: hung (> 120 s)")
    assert out.returncode == 0, f"seed {seed}: exit {out.returncode}\n{out.stdout}\n{out.stderr[-2000:]}"
