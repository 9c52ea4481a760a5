"""Randomised bad-input runs of ik.change, ik.disaggregate, ik.ResultsFramework and ik.panel_monitoring, each case in
its own subprocess (a crash or a hang fails the case, not the session); see tests/python/fuzz/monitoring_change_case.py."""
import pytest

from fuzz.runner import run_fuzz_case


@pytest.mark.parametrize("seed", range(16))
def test_random_bad_input_case(seed):
    run_fuzz_case("monitoring_change_case.py", seed)
