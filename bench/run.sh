#!/usr/bin/env bash
# The benchmark suite in one command.
#   bench/run.sh           full size, 5 interleaved repetitions (~10 min on 2 cores);
#                          writes bench/results/{results.csv,results.md,chart.svg}
#   bench/run.sh --tiny    builds everything and runs each workload once at a tiny
#                          size, checking that every task ran exactly once (what
#                          `make test` calls; timings are not asserted)
#   bench/run.sh --scaling the same workloads at 1, 2, 4, 8, 16 threads (as many as
#                          the machine has CPUs), each count its own run; writes
#                          bench/results/scaling/scaling.md (see scaling.py)
# Other options go to harness.py (--reps N, --threads N, --workloads a,b, --peers a,b).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"

# Debian packages the peers need (skipped when already installed).
pkgs=(build-essential pkg-config python3 libtbb-dev libglib2.0-dev)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "bench: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cargo build --release --lib --manifest-path "$root/Cargo.toml"
cargo build --release --manifest-path "$here/rayon/Cargo.toml"
make -C "$here" --no-print-directory -s

if [ "${1:-}" = "--scaling" ]; then
    shift
    exec python3 "$here/scaling.py" "$@"
fi
if [ "${1:-}" = "--tiny" ]; then
    shift
    exec python3 "$here/harness.py" --tiny --reps 1 --out "$here/build/tiny-results" "$@"
fi
exec python3 "$here/harness.py" "$@"
