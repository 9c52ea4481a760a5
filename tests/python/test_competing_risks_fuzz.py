"""Randomised bad-input runs of ik.cumulative_incidence and ik.gray_test, each case in its own subprocess
(a crash or a hang fails the case, not the test session): NaN/inf and non-integer event codes, NaN/inf,
huge/tiny/offset and negative times, ties, groups with no events of a cause, one-row data, strata.
Expected: a valid result or a clear InvalidInputError / TypeError / ValueError; the data unchanged
(tests/python/fuzz/competing_risks_case.py)."""
import pytest

from fuzz.runner import run_fuzz_case


@pytest.mark.parametrize("seed", range(20))
def test_random_bad_input_case(seed):
    run_fuzz_case("competing_risks_case.py", seed)
