#!/usr/bin/env bash
# Regenerates the type stubs of the C++ extension (python/impactkit/_core/__init__.pyi and one .pyi
# per submodule) from the built module with pybind11-stubgen. Run after changing a binding;
# tests/python/test_stubs.py checks that every public name of _core has a stub.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pip install -q "pybind11-stubgen>=2.5"
out=$(mktemp -d)
.venv/bin/python -m pybind11_stubgen impactkit._core -o "$out" --ignore-invalid-expressions '.*' >/dev/null
rm -rf python/impactkit/_core python/impactkit/_core.pyi
mkdir -p python/impactkit/_core
cp "$out"/impactkit/_core/*.pyi python/impactkit/_core/
rm -rf "$out"
echo "stubs written to python/impactkit/_core/"
