#!/usr/bin/env bash
# Idempotent set-up on a fresh Debian machine: system packages (apt-get) and the project venv.
# Usage: tools/setup.sh [test]   ("test" also installs the peers used by the test suite)
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=${1:-}

pkgs=(g++ make libeigen3-dev libboost-dev libgtest-dev libbenchmark-dev python3-venv)
# headless Chromium opens the HTML monitoring report in tests/python/test_monitoring_report.py
if [ "$want_test" = "test" ]; then pkgs+=(chromium); fi
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.impactkit-deps-$( (cat pyproject.toml tools/setup.sh; echo "$want_test") | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12" ninja cmake \
      "numpy>=1.22" "pandas>=1.5" "formulaic>=1.0"
  if [ "$want_test" = "test" ]; then
    .venv/bin/python -m pip install -q pytest matplotlib statsmodels linearmodels pyfixest nbclient nbformat ipykernel scipy \
        scikit-learn "dask[dataframe]" distributed lifelines pymannkendall numpy-financial
    # svy (live survey peer of tests/python/test_survey_svy_live.py and benchmarks/python/bench_survey.py),
    # without pyarrow: a plain `pip install svy` pulls pyarrow through polars, and pandas then switches its
    # default string storage to pyarrow for everything
    .venv/bin/python -m pip install -q --no-deps "svy==0.35.0" "svy-rs==0.19.1" "svy-io==0.7.1" "polars==2.1.0" \
        "polars-runtime-32==2.1.0" "msgspec==0.23.0"
  fi
  rm -f .venv/.impactkit-deps-*
  touch "$stamp"
fi
