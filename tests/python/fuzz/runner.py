"""One way to run a randomised bad-input case in its own process: a crash (segfault, abort) or a
hang fails that case, not the test session. Each `tests/python/fuzz/<area>_case.py` takes a seed as
its only argument and exits 0 when every call gave a valid result or a clear ValueError/TypeError
and left the caller's data unchanged."""
import subprocess
import sys
from pathlib import Path

import pytest

FUZZ_DIR = Path(__file__).resolve().parent


def run_fuzz_case(case: str, seed: int, timeout: float = 120.0) -> None:
    """Run `fuzz/<case>` with `seed` in a fresh interpreter; fail the calling test on a non-zero
    exit (printing the case's output) or when it runs longer than `timeout` seconds."""
    script = FUZZ_DIR / case
    try:
        out = subprocess.run([sys.executable, str(script), str(seed)],
                             capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{case} seed {seed}: hung (> {timeout:g} s)")
    assert out.returncode == 0, (f"{case} seed {seed}: exit {out.returncode}\n"
                                 f"{out.stdout}\n{out.stderr[-2000:]}")


def run_calls(calls: dict, check, data, before) -> int:
    """Inside a case script: run each call (name → function), check its result with ``check(name, result)``
    (True when valid), accept a refusal by InvalidInputError / TypeError / ValueError with a message, and
    count the failures, plus one when ``data`` no longer equals ``before`` (a frame, or a tuple of frames and
    their copies)."""
    import warnings

    import impactkit as ik

    bad = 0
    for name, call in calls.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = call()
            ok = bool(check(name, result))
            print(name, "ok" if ok else "BAD RESULT")
            bad += not ok
        except (ik.InvalidInputError, TypeError, ValueError) as ex:
            print(name, "refused:", type(ex).__name__, str(ex)[:100])
            if not str(ex):
                print(name, "BAD: empty message")
                bad += 1
    frames, copies = (data, before) if isinstance(data, tuple) else ((data,), (before,))
    if not all(d.equals(b) for d, b in zip(frames, copies)):
        print("BAD: the data were modified")
        bad += 1
    return bad
