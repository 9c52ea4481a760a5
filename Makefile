# impactkit — the two commands of the README:
#   make demo   reproduce the published studies from shipped data (writes reports/report.{md,html}) and the
#               monitoring report of the synthetic panel (reports/monitoring_report.{html,md})
#   make test   all tests: C++ (GoogleTest, ctest), ASan+UBSan C++ tests, the find_package consumer
#               (against impactkit installed with and without OpenMP),
#               and Python (pytest, incl. peer comparisons and the quickstart notebook)
# Both install what is missing first (tools/setup.sh) and are safe to re-run.
SHELL := /bin/bash
PY := .venv/bin/python
JOBS ?= 2
CMAKE = $(shell test -x .venv/bin/cmake && echo .venv/bin/cmake || echo cmake)
CTEST = $(shell test -x .venv/bin/ctest && echo .venv/bin/ctest || echo ctest)
GEN = -G Ninja -DCMAKE_MAKE_PROGRAM=$(CURDIR)/.venv/bin/ninja

.PHONY: demo test setup setup-test python test-cpp test-asan test-consumer test-python bench compile-cost clean

setup:
	@tools/setup.sh

setup-test:
	@tools/setup.sh test

python: setup
	@echo "== building and installing the Python package into .venv"
	@$(PY) -m pip install -q --no-build-isolation .

demo: python
	@echo "== impactkit reproduce"
	@.venv/bin/impactkit reproduce --out reports --allow-documented
	@echo "== impactkit monitoring report (synthetic panel)"
	@$(PY) -m impactkit.monitoring_report reports

test: setup-test python test-cpp test-asan test-consumer test-python
	@echo "== all tests passed"

test-cpp: setup-test
	@echo "== C++ tests (Release)"
	@$(CMAKE) -S . -B build/cpp $(GEN) -DCMAKE_BUILD_TYPE=Release -DIMPACTKIT_BUILD_TESTS=ON >/dev/null
	@$(CMAKE) --build build/cpp -j $(JOBS)
	@$(CTEST) --test-dir build/cpp --output-on-failure -j $(JOBS)

test-asan: setup-test
	@echo "== C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer"
	@$(CMAKE) -S . -B build/asan $(GEN) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="-O1" \
	  -DIMPACTKIT_BUILD_TESTS=ON -DIMPACTKIT_SANITIZE=ON >/dev/null
	@$(CMAKE) --build build/asan -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(CTEST) --test-dir build/asan --output-on-failure -j $(JOBS)

test-consumer: setup-test
	@echo "== find_package(impactkit) consumer example"
	@rm -rf build/prefix build/prefix-no-openmp build/consumer
	@$(CMAKE) -S . -B build/install $(GEN) >/dev/null
	@$(CMAKE) --build build/install -j $(JOBS)
	@$(CMAKE) --install build/install --prefix build/prefix >/dev/null
	@echo "== the same, configured without OpenMP"
	@$(CMAKE) -S . -B build/install-no-openmp $(GEN) -DCMAKE_DISABLE_FIND_PACKAGE_OpenMP=ON >/dev/null
	@$(CMAKE) --build build/install-no-openmp -j $(JOBS)
	@$(CMAKE) --install build/install-no-openmp --prefix build/prefix-no-openmp >/dev/null
	@PATH=$(CURDIR)/.venv/bin:$$PATH bash examples/cpp/consumer/run_consumer.sh $(CURDIR)/build/prefix $(CURDIR)/build/consumer \
	  $(CURDIR)/build/prefix-no-openmp

test-python: python
	@echo "== Python tests"
	@MPLBACKEND=Agg $(PY) -m pytest -q tests/python

bench: python
	@$(CMAKE) -S . -B build/bench $(GEN) -DCMAKE_BUILD_TYPE=Release -DIMPACTKIT_BUILD_BENCHMARKS=ON >/dev/null
	@$(CMAKE) --build build/bench -j $(JOBS)
	@build/bench/bench_regression --benchmark_min_time=0.2
	@$(PY) benchmarks/python/compare_peers.py

# Compile time and peak memory of one TU per public header, the umbrella header and the C++ quickstart
# (benchmarks/compile/compile_cost.sh; not part of `make test`).
compile-cost: setup-test
	@bash benchmarks/compile/compile_cost.sh --out build/compile_cost.md

clean:
	rm -rf build reports
