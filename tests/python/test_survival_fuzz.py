"""Randomised bad-input runs of ik.kaplan_meier, ik.logrank, ik.concordance, check_ph, ik.discrete_hazard and
ik.effect_persistence, each case in its own
subprocess (a crash or a hang fails the case, not the test session): NaN/inf, huge/tiny/offset and
negative times, ties, zero weights, invalid event codes, no or all events, entry times, one-row data.
Expected: a valid result or a clear InvalidInputError / TypeError / ValueError; the data unchanged
(tests/python/fuzz/survival_case.py)."""
import pytest

from fuzz.runner import run_fuzz_case


@pytest.mark.parametrize("seed", range(20))
def test_random_bad_input_case(seed):
    run_fuzz_case("survival_case.py", seed)
