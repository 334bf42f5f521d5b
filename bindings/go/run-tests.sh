#!/usr/bin/env bash
# The Go binding's tests, as `make test` runs them: build the static library,
# then go vet, the tests under the race detector and under cgocheck2, the
# benchmarks at a tiny size, the example, the background_system build tag
# against a library installed with `make install` into a scratch prefix, and,
# if the go1.21.13 toolchain is already in the module cache, vet, the race
# tests and the example once more with it (the oldest Go go.mod allows).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

# go.mod says 1.21; say plainly what is missing rather than let an older go
# fail on the source.
if ! command -v go >/dev/null; then
  echo "run-tests.sh: needs Go 1.21 or newer on PATH" >&2
  exit 1
fi
minor="$(GOTOOLCHAIN=local go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
if [ -z "$minor" ] || [ "$minor" -lt 21 ]; then
  echo "run-tests.sh: needs Go 1.21 or newer, found $(GOTOOLCHAIN=local go env GOVERSION)" >&2
  exit 1
fi

# The package links $root/target/release/libbackground.a by a path relative
# to itself, so build there whatever CARGO_TARGET_DIR says.
(cd "$root" && env -u CARGO_TARGET_DIR cargo build --release --lib)

# The go build cache does not track files named in #cgo LDFLAGS or headers
# outside the package: tie its keys to this build of the library and header,
# or a cached test binary linked against an older libbackground.a would run.
lib_sum="$(cat "$root/target/release/libbackground.a" "$root/include/background.h" | sha256sum | cut -c1-16)"
export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g} -DBACKGROUND_LIB_SUM=$lib_sum"

cd "$here"
echo "== go vet"
go vet ./...
echo "== go test -race"
go test -race -count=1 ./...
echo "== go test (GOEXPERIMENT=cgocheck2)"
GOEXPERIMENT=cgocheck2 go test -count=1 ./...
echo "== benchmarks, tiny"
go test -run '^$' -bench . -benchtime 100x ./... >/dev/null

echo "== example"
(cd "$root/examples/go" && go vet ./... && go run .)

echo "== -tags background_system (pkg-config, installed library)"
# A fixed prefix: the go build cache keeps link steps whose -L came from
# pkg-config, so a fresh random prefix each run would link against a stale,
# deleted directory.
prefix="$root/target/go-installed"
rm -rf "$prefix"
(cd "$root" && env -u CARGO_TARGET_DIR make -s install PREFIX="$prefix" >/dev/null)
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig" LD_LIBRARY_PATH="$prefix/lib"
go vet -tags background_system ./...
go test -tags background_system -count=1 ./...
unset PKG_CONFIG_PATH LD_LIBRARY_PATH

# Go before 1.24 takes the finalizer path of the cleanup (cleanup_legacy.go).
# GOPROXY=off: use the toolchain only if it is cached, never download it.
old=go1.21.13
if (cd "$here" && GOTOOLCHAIN=$old GOPROXY=off go version >/dev/null 2>&1); then
  echo "== $old: go vet, go test -race, example"
  export GOTOOLCHAIN=$old GOPROXY=off
  go vet ./...
  go test -race -count=1 ./...
  (cd "$root/examples/go" && go vet ./... && go run .)
  unset GOTOOLCHAIN GOPROXY
else
  echo "== $old: skipped, the toolchain is not in the module cache" \
    "(GOTOOLCHAIN=$old go version downloads it)"
fi
echo "Go binding: all tests passed"
