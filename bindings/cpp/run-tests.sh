#!/bin/sh
# Builds and runs every test of the C++ binding, in every variant, and the
# C++ example. Exits non-zero on the first failure. `make test` calls this.
#
#   bindings/cpp/run-tests.sh            all variants
#   JOBS=4 bindings/cpp/run-tests.sh     more parallel compiles (default 2)
#   VARIANTS="cxx20" bindings/cpp/run-tests.sh   a subset
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
build=$target/cpp
jobs=${JOBS:-2}
variants=${VARIANTS:-"cxx17 cxx20 sanitize"}

echo "== cargo build --release --lib"
(cd "$root" && cargo build --release --lib)

# variant name -> CMake arguments
args_of() {
  case $1 in
    cxx17) echo "-DCMAKE_CXX_STANDARD=17" ;;
    cxx20) echo "-DCMAKE_CXX_STANDARD=20" ;;
    sanitize) echo "-DCMAKE_CXX_STANDARD=20 -DBACKGROUND_CPP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug" ;;
    *) echo "run-tests.sh: unknown variant $1" >&2; exit 2 ;;
  esac
}

# Sanitizer reports fail the run; leaks are reported at exit.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

for v in $variants; do
  echo "== C++ tests: $v"
  # shellcheck disable=SC2046 # the arguments are meant to split
  cmake -S "$here" -B "$build/$v" $(args_of "$v") >/dev/null
  cmake --build "$build/$v" -j "$jobs"
  ctest --test-dir "$build/$v" -j "$jobs" --output-on-failure
done

echo "== C++ example"
cmake -S "$root/examples/cpp" -B "$build/example" >/dev/null
cmake --build "$build/example" -j "$jobs"
"$build/example/resize_images"

echo "== C++ binding: all passed"
