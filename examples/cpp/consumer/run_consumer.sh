#!/usr/bin/env bash
# Configure, build and run the find_package(impactkit) consumer against an installed impactkit.
#   usage: run_consumer.sh PREFIX BUILD_DIR
#     PREFIX     where `cmake --install` put impactkit (holds share/cmake/impactkit/impactkitConfig.cmake)
#     BUILD_DIR  scratch build directory for the consumer (created; reused if it exists)
# Exit status: non-zero if configuring, building or the program's own checks fail.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 PREFIX BUILD_DIR" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix="$(mkdir -p "$1" && cd "$1" && pwd)"
build="$2"
mkdir -p "$build"

cmake_bin="${CMAKE:-cmake}"
generator=()
if [[ -z "${CMAKE_GENERATOR:-}" && ! -f "$build/CMakeCache.txt" ]] && command -v ninja >/dev/null 2>&1; then
  generator=(-G Ninja)
fi

echo "-- consumer: configuring against impactkit in ${prefix}"
"$cmake_bin" -S "$here" -B "$build" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_FIND_PACKAGE_PREFER_CONFIG=ON
found="$(sed -n 's/^impactkit_DIR:PATH=//p' "$build/CMakeCache.txt")"
case "$found" in
  "$prefix"/*) ;;
  *) echo "consumer: impactkit was found in '$found', not under $prefix" >&2; exit 1 ;;
esac
echo "-- consumer: building"
"$cmake_bin" --build "$build" -j 1
echo "-- consumer: running"
"$build/app"
