"""Randomised bad-input runs of ik.targeting, ik.fgt, ik.watts and ik.gini, each case in its own
subprocess (a crash or a hang fails the case, not the test session): NaN/inf and huge/tiny/offset
welfare, ties, zero/NaN weights, invalid indicators, no or all beneficiaries, empty groups, one-row
data, survey designs with lonely PSUs under every rule. Expected: a result whose estimates are finite
or NaN, or a clear InvalidInputError / TypeError / ValueError; the data unchanged
(tests/python/fuzz/targeting_case.py)."""
import pytest

from fuzz.runner import run_fuzz_case


@pytest.mark.parametrize("seed", range(20))
def test_random_bad_input_case(seed):
    run_fuzz_case("targeting_case.py", seed)
