"""Randomised bad-input runs of the Dask paths (ik.targeting, ik.fgt, ik.gini, SurveyDesign.mean on a dask
DataFrame against the in-memory call), each case in its own subprocess so that a crash or a hang fails the
case, not the session (tests/python/fuzz/dask_case.py). Expected: both paths refuse with a clear message,
or both give the same numbers (relative 1e-9); corrupted accumulator states are refused."""
import pytest

pytest.importorskip("dask.dataframe")

from fuzz.runner import run_fuzz_case


@pytest.mark.parametrize("seed", range(8))
def test_random_bad_input_case_on_dask(seed):
    run_fuzz_case("dask_case.py", seed)
