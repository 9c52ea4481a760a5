#!/usr/bin/env bash
# Build and run the C++ examples against an installed impactkit, as a downstream user would:
#   1. examples/cpp/consumer (find_package(impactkit CONFIG)) against PREFIX, and, when given,
#      against PREFIX_NO_OPENMP, an impactkit configured with -DCMAKE_DISABLE_FIND_PACKAGE_OpenMP=ON
#      (as on AppleClang without libomp): both must configure, build and pass the program's own
#      checks, and the second must report impactkit_OpenMP_FOUND FALSE and run on one thread;
#   2. examples/cpp/quickstart (the README's C++ quickstart), built with CMake and with the README's
#      one-file compiler command; its output must match expected_output.txt (numbers to a relative
#      2e-5, i.e. the printed digits; the values are those of the Python ik.ols), and README.md must
#      show quickstart.cpp and that output verbatim.
#   usage: run_consumer.sh PREFIX BUILD_DIR [PREFIX_NO_OPENMP]
#     PREFIX     where `cmake --install` put impactkit (holds share/cmake/impactkit/impactkitConfig.cmake)
#     BUILD_DIR  scratch build directory (created; reused if it exists)
#     PREFIX_NO_OPENMP  where an impactkit built without OpenMP is installed (optional)
#   environment: CMAKE (default cmake); CXX (one-file build, default g++); EIGEN3_INCLUDE_DIR (one-file
#     build, default /usr/include/eigen3); ONEFILE_FLAGS (default "-O2 -fopenmp")
# Exit status: non-zero if configuring, building, a program's checks or an output comparison fail.
set -euo pipefail

if [[ $# -ne 2 && $# -ne 3 ]]; then
  echo "usage: $0 PREFIX BUILD_DIR [PREFIX_NO_OPENMP]" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
examples="$(dirname "$here")"
repo="$(cd "$examples/../.." && pwd)"
prefix="$(mkdir -p "$1" && cd "$1" && pwd)"
build="$(mkdir -p "$2" && cd "$2" && pwd)"
prefix_no_openmp=""
[[ $# -eq 3 ]] && prefix_no_openmp="$(cd "$3" && pwd)"
data="$repo/python/impactkit/datasets/data/thornton_hiv.csv"
cmake_bin="${CMAKE:-cmake}"

# configure_and_build NAME PREFIX SOURCE_DIR BUILD_DIR: configure against the impactkit installed in
# PREFIX (the configure log goes to BUILD_DIR/configure.log) and build.
configure_and_build() {
  local name="$1" prefix="$2" src="$3" dir="$4"
  local generator=()
  if [[ -z "${CMAKE_GENERATOR:-}" && ! -f "$dir/CMakeCache.txt" ]] && command -v ninja >/dev/null 2>&1; then
    generator=(-G Ninja)
  fi
  echo "-- $name: configuring against impactkit in ${prefix}"
  mkdir -p "$dir"
  "$cmake_bin" -S "$src" -B "$dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_PACKAGE_PREFER_CONFIG=ON | tee "$dir/configure.log"
  local found
  found="$(sed -n 's/^impactkit_DIR:PATH=//p' "$dir/CMakeCache.txt")"
  case "$found" in
    "$prefix"/*) ;;
    *) echo "$name: impactkit was found in '$found', not under $prefix" >&2; exit 1 ;;
  esac
  echo "-- $name: building"
  "$cmake_bin" --build "$dir" -j 1
}

# compare_output EXPECTED ACTUAL: same tokens; numeric tokens equal to a relative 2e-5.
compare_output() {
  awk -v exp_file="$1" '
    function isnum(s) { return s ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/ }
    BEGIN { while ((getline l < exp_file) > 0) { m = split(l, t); for (i = 1; i <= m; i++) e[++ne] = t[i] } }
    { m = split($0, t); for (i = 1; i <= m; i++) a[++na] = t[i] }
    END {
      if (na != ne) { printf "output has %d tokens, expected %d\n", na, ne; exit 1 }
      for (i = 1; i <= ne; i++) {
        if (isnum(e[i]) && isnum(a[i])) {
          d = a[i] - e[i]; if (d < 0) d = -d
          s = e[i] < 0 ? -e[i] : e[i]
          if (d > 2e-5 * s + 1e-300) { printf "token %d: %s, expected %s\n", i, a[i], e[i]; bad = 1 }
        } else if (a[i] != e[i]) { printf "token %d: \"%s\", expected \"%s\"\n", i, a[i], e[i]; bad = 1 }
      }
      exit bad
    }' "$2"
}

# ---- 1. the consumer, with and without OpenMP --------------------------------------------------
dir="$build/consumer"
configure_and_build "consumer" "$prefix" "$here" "$dir"
echo "-- consumer: running"
"$dir/app" | tee "$dir/output.txt"
if grep -q "OpenMP: TRUE" "$dir/configure.log"; then
  grep -q "^OpenMP: on" "$dir/output.txt" || { echo "consumer: impactkit has OpenMP but the program was compiled without it" >&2; exit 1; }
fi
if [[ -n "$prefix_no_openmp" ]]; then
  dir="$build/consumer-no-openmp"
  configure_and_build "consumer (impactkit without OpenMP)" "$prefix_no_openmp" "$here" "$dir"
  echo "-- consumer (impactkit without OpenMP): running"
  "$dir/app" | tee "$dir/output.txt"
  grep -q "OpenMP: FALSE" "$dir/configure.log" || { echo "consumer (no-openmp): impactkit_OpenMP_FOUND is not FALSE" >&2; exit 1; }
  grep -q "^OpenMP: off" "$dir/output.txt" || { echo "consumer (no-openmp): the program was compiled with OpenMP" >&2; exit 1; }
fi

# ---- 2. the README quickstart ------------------------------------------------------------------
qs="$examples/quickstart"
configure_and_build "quickstart" "$prefix" "$qs" "$build/quickstart"
echo "-- quickstart: running"
"$build/quickstart/quickstart" "$data" | tee "$build/quickstart/output.txt"
compare_output "$qs/expected_output.txt" "$build/quickstart/output.txt" ||
  { echo "quickstart (CMake build): output differs from $qs/expected_output.txt" >&2; exit 1; }

eigen_inc="${EIGEN3_INCLUDE_DIR:-/usr/include/eigen3}"
if [[ -f "$eigen_inc/Eigen/Dense" ]]; then
  mkdir -p "$build/quickstart-onefile"
  libdir="$(dirname "$(find "$prefix" -name 'libimpactkit_core.*' | head -1)")"
  # the README's command: g++ -std=c++17 -O2 -fopenmp -I<prefix>/include -I/usr/include/eigen3 quickstart.cpp
  #   -L<prefix>/lib -limpactkit_core -o quickstart
  cmd=("${CXX:-g++}" -std=c++17 ${ONEFILE_FLAGS:--O2 -fopenmp} -I"$prefix/include" -I"$eigen_inc" "$qs/quickstart.cpp"
       -L"$libdir" -limpactkit_core -o "$build/quickstart-onefile/quickstart")
  echo "-- quickstart (one file): ${cmd[*]}"
  "${cmd[@]}"
  "$build/quickstart-onefile/quickstart" "$data" >"$build/quickstart-onefile/output.txt"
  compare_output "$qs/expected_output.txt" "$build/quickstart-onefile/output.txt" ||
    { echo "quickstart (one-file build): output differs from $qs/expected_output.txt" >&2; exit 1; }
  echo "-- quickstart (one file): output as expected"
else
  echo "-- quickstart (one file): skipped, no Eigen headers in $eigen_inc (set EIGEN3_INCLUDE_DIR)"
fi

# README.md shows the program and its output verbatim (the snippet is this compiled program).
if [[ -f "$repo/README.md" ]]; then
  awk '/^```cpp$/ {inb = 1; blk = ""; next} inb && /^```$/ {inb = 0; if (blk ~ /int main\(/) {printf "%s", blk; exit} next}
       inb {blk = blk $0 "\n"}' "$repo/README.md" >"$build/readme_quickstart.cpp"
  diff -u "$qs/quickstart.cpp" "$build/readme_quickstart.cpp" ||
    { echo "README.md: the C++ quickstart snippet differs from examples/cpp/quickstart/quickstart.cpp" >&2; exit 1; }
  while IFS= read -r l; do
    grep -qxF -- "$l" "$repo/README.md" ||
      { echo "README.md: expected-output line missing: $l" >&2; exit 1; }
  done <"$qs/expected_output.txt"
  echo "-- README.md: C++ quickstart and its output match examples/cpp/quickstart"
fi
echo "-- consumer and quickstart: all checks passed"
