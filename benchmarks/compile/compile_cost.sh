#!/usr/bin/env bash
# Compile cost of impactkit's headers: wall time, CPU time (user + system) and peak memory (max RSS)
# of compiling one translation unit (-c, no link) for
#   (a) an empty TU including only <Eigen/Dense>, and a plain-Eigen OLS (HouseholderQR + sandwich)
#   (b) a TU including only impactkit/impactkit.hpp (the umbrella header)
#   (c) each public header alone (core/*.hpp, impact/*.hpp, targeting/*.hpp; detail/ holds implementation headers)
#   (d) the README quickstart program (examples/cpp/quickstart/quickstart.cpp)
#   (e) with --library, each source of the compiled companion library impactkit_core (src/core,
#       src/detail, src/impact): paid once per build of the library, not by every consumer TU
# and prints a table (Markdown). Budget of issue 13: umbrella header <= 8 s CPU and <= 700 MB at -O2.
# Every case is compiled only (-c), never linked, so no library needs to be built first.
#
#   usage: benchmarks/compile/compile_cost.sh [--include DIR] [--flags "FLAGS"] [--only REGEX] [--library] [--out FILE]
#     --include DIR  the directory holding impactkit/ (default: the repository's include/)
#     --library      also measure the library's sources (e)
#     --flags        compiler flags (default "-std=c++17 -O2 -fopenmp")
#     --only REGEX   measure only the cases whose name matches REGEX (grep -E)
#     --out FILE     also write the table to FILE
#   environment: CXX (default g++), EIGEN3_INCLUDE_DIR (default /usr/include/eigen3)
# Needs GNU time (/usr/bin/time -v; Debian: apt-get install time). Runs the compilations one after
# another; on a shared machine repeat and take the minimum.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
include="$repo/include"
flags="-std=c++17 -O2 -fopenmp"
only=""
library=0
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --include) include="$(cd "$2" && pwd)"; shift 2 ;;
    --flags) flags="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --library) library=1; shift ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
cxx="${CXX:-g++}"
eigen="${EIGEN3_INCLUDE_DIR:-/usr/include/eigen3}"
if [[ ! -x /usr/bin/time ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "-- installing GNU time (apt-get install time)" >&2
    apt-get install -y -q time >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q time >/dev/null; }
  fi
  [[ -x /usr/bin/time ]] || { echo "compile_cost.sh needs GNU time (/usr/bin/time): apt-get install time" >&2; exit 1; }
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The translation units: name -> source file.
names=()
declare -A src
add_case() { names+=("$1"); src[$1]="$2"; }

printf '#include <Eigen/Dense>\nint main() { return 0; }\n' >"$work/eigen_dense.cpp"
add_case "Eigen/Dense only" "$work/eigen_dense.cpp"
cat >"$work/eigen_ols.cpp" <<'EOF'
// Plain Eigen OLS with an HC1 sandwich: the floor for "a regression in a TU".
#include <Eigen/Dense>
#include <iostream>
int main() {
  const Eigen::Index n = 1000, k = 4;
  Eigen::MatrixXd X = Eigen::MatrixXd::Random(n, k);
  Eigen::VectorXd y = Eigen::VectorXd::Random(n);
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(X);
  Eigen::VectorXd b = qr.solve(y);
  Eigen::VectorXd e = y - X * b;
  Eigen::MatrixXd bread = (X.transpose() * X).inverse();
  Eigen::MatrixXd Xe = X.array().colwise() * e.array();
  Eigen::MatrixXd V = double(n) / double(n - k) * bread * (Xe.transpose() * Xe) * bread;
  std::cout << b.transpose() << "\n" << V.diagonal().cwiseSqrt().transpose() << "\n";
}
EOF
add_case "plain Eigen OLS (QR + HC1)" "$work/eigen_ols.cpp"
printf '#include <impactkit/impactkit.hpp>\nint main() { return 0; }\n' >"$work/umbrella.cpp"
add_case "impactkit/impactkit.hpp" "$work/umbrella.cpp"
for h in "$include"/impactkit/core/*.hpp "$include"/impactkit/impact/*.hpp "$include"/impactkit/targeting/*.hpp; do
  rel="${h#"$include"/}"
  f="$work/$(echo "$rel" | tr '/.' '__').cpp"
  printf '#include <%s>\nint main() { return 0; }\n' "$rel" >"$f"
  add_case "$rel" "$f"
done
add_case "examples/cpp/quickstart/quickstart.cpp" "$repo/examples/cpp/quickstart/quickstart.cpp"
if [[ $library -eq 1 ]]; then
  for f in "$repo"/src/core/*.cpp "$repo"/src/detail/*.cpp "$repo"/src/impact/*.cpp "$repo"/src/targeting/*.cpp; do
    add_case "library: ${f#"$repo"/}" "$f"
  done
fi

rows=()
header="| translation unit | wall s | CPU s | peak MB |"
echo "compiler: $("$cxx" --version | head -1); flags: $flags" >&2
for name in "${names[@]}"; do
  if [[ -n "$only" ]] && ! grep -qE -- "$only" <<<"$name"; then continue; fi
  log="$work/time.log"
  # shellcheck disable=SC2086
  if ! /usr/bin/time -v "$cxx" $flags -I"$include" -I"$eigen" -c "${src[$name]}" -o "$work/tu.o" 2>"$log"; then
    echo "compiling $name failed:" >&2
    cat "$log" >&2
    exit 1
  fi
  row="$(awk -v name="$name" -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, t, ":"); wall = 0; for (i = 1; i <= n; i++) wall = wall * 60 + t[i] }
    /User time \(seconds\)/ { user = $2 }
    /System time \(seconds\)/ { sys = $2 }
    /Maximum resident set size/ { rss = $2 }
    END { printf "| %s | %.1f | %.1f | %.0f |", name, wall, user + sys, rss / 1024 }' "$log")"
  echo "$row" >&2
  rows+=("$row")
done

{
  echo "compiler: $("$cxx" --version | head -1); flags: $flags -c"
  echo
  echo "$header"
  echo "|---|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
} | tee ${out:+"$out"}
