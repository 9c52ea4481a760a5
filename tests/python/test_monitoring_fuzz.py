"""Randomised bad-input runs of ik.mann_kendall and ik.sens_slope, each case in its own subprocess (a crash or
a hang fails the case, not the test session); see tests/python/fuzz/monitoring_case.py for the checks."""
import pytest

from fuzz.runner import run_fuzz_case


@pytest.mark.parametrize("seed", range(16))
def test_random_bad_input_case(seed):
    run_fuzz_case("monitoring_case.py", seed)
