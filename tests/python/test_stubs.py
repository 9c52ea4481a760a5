"""The type stubs of impactkit._core are complete: every public function and class of the extension
and of its submodules has a stub, and no stub hides its signature behind *args/**kwargs.
(tools/make_stubs.sh regenerates them from the built module.)"""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from impactkit import _core

STUBS = Path(__file__).resolve().parents[2] / "python" / "impactkit" / "_core"


def _public(module):
    return [n for n, v in vars(module).items() if not n.startswith("_") and (inspect.isclass(v) or callable(v))]


@pytest.mark.parametrize("module, stub", [(_core, "__init__.pyi"), (_core.variance, "variance.pyi")])
def test_every_public_name_has_a_stub(module, stub):
    text = (STUBS / stub).read_text()
    missing = [n for n in _public(module) if not re.search(rf"^(class|def) {re.escape(n)}\b", text, re.M)]
    assert not missing, f"{stub} lacks stubs for {missing}; run tools/make_stubs.sh"
    assert "*args" not in text and "**kwargs" not in text
