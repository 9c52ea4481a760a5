"""Randomised bad-input runs of ik.quantreg and ik.pmt (score, cutoff, evaluate), each case in its own
subprocess (a crash or a hang fails the case, not the test session): NaN/inf/negative welfare, ties,
huge/tiny/offset scales, constant or missing regressors, zero/NaN weights, one to a few rows, grouped
folds. Expected: finite results (error rates and AUC in [0, 1]) or a clear InvalidInputError / TypeError /
ValueError; the data unchanged (tests/python/fuzz/pmt_case.py)."""
import pytest

from fuzz.runner import run_fuzz_case


@pytest.mark.parametrize("seed", range(16))
def test_random_bad_input_case(seed):
    run_fuzz_case("pmt_case.py", seed)
