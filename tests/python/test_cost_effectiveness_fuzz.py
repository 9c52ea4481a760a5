"""Randomised bad-input runs of ik.cea, ik.financial_indicators and ik.vulnerability, each case in its own
subprocess (a crash or a hang fails the case, not the test session): NaN/inf, equal costs or effects, one
strategy or draw, huge/tiny magnitudes, zero or negative revenue, duplicated organisation-years. Expected: a
valid result or a clear InvalidInputError / TypeError / ValueError; the data unchanged
(tests/python/fuzz/cost_effectiveness_case.py)."""
import pytest

from fuzz.runner import run_fuzz_case


@pytest.mark.parametrize("seed", range(16))
def test_random_bad_input_case(seed):
    run_fuzz_case("cost_effectiveness_case.py", seed)
