#!/usr/bin/env bash
# Runs the Go binding's benchmarks COUNT times (default 5) and prints the
# median ns per task of each, and its ratio to `go f()` + WaitGroup for the
# same task size (the numbers bindings/go/README.md reports), and the
# one-at-a-time round trips (BenchmarkRT*) against go f() + a channel and
# against a C driver's bg_pool_submit + bg_wait. Each round runs
# every benchmark once, so that a change in the machine's load during the
# run falls on all of them alike.
set -euo pipefail
cd "$(dirname "$0")"
count="${COUNT:-5}"
(cd ../.. && env -u CARGO_TARGET_DIR cargo build --release --lib -q)
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs; $(go version | cut -d' ' -f3)"
bin="$(mktemp)"
trap 'rm -f "$bin"' EXIT
go test -c -o "$bin" .
printf "%-36s %12s %10s\n" "benchmark" "ns/task" "vs go f()"
for _ in $(seq "$count"); do "$bin" -test.run '^$' -test.bench . -test.benchtime 1s; done | awk '
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	runs[name] = runs[name] " " $3
}
END {
	for (name in runs) {
		n = split(substr(runs[name], 2), v, " ")
		for (i = 2; i <= n; i++) # insertion sort: mawk has no asort
			for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
		med[name] = v[int((n + 1) / 2)]
	}
	for (name in med) {
		size = name; sub(/^[^\/]*/, "", size)
		base = med["BenchmarkGoroutineWaitGroup" size]
		if (base == "") base = med["BenchmarkGoroutineWaitGroup/empty"]
		printf "%-36s %12.1f %9.2fx\n", name, med[name], med[name] / base
	}
	# One-at-a-time round trips against go f() + a channel and the C driver.
	ch = med["BenchmarkRTGoroutineChan"]; c = med["BenchmarkRTCDriver"]; cs = med["BenchmarkCDriverSpawn"]
	if (ch != "" && c != "") {
		printf "ratio Go(f).Wait one at a time / go f()+chan      %6.2fx (goal <= 3)\n", med["BenchmarkRTGoWait"] / ch
		printf "ratio Go(f).Wait one at a time / C round trip     %6.2fx (goal <= 2)\n", med["BenchmarkRTGoWait"] / c
		printf "ratio SubmitC+Wait one at a time / C round trip   %6.2fx (goal <= 1.5)\n", med["BenchmarkRTSubmitCWait"] / c
		printf "ratio Go(f).WaitNoRun one at a time / go f()+chan %6.2fx (the worker path)\n", med["BenchmarkRTGoWaitNoRun"] / ch
	}
	# A Go closure task against the same (empty) work as a C task.
	sc = med["BenchmarkPoolSubmitCWait"]; pc = med["BenchmarkPoolSpawnC"]
	if (sc != "") printf "ratio Submit+Wait Go closure / SubmitC+Wait C task %5.2fx (goal <= 2)\n", med["BenchmarkPoolSubmitWait/empty"] / sc
	if (pc != "") printf "ratio Spawn Go closure / SpawnC C task              %6.2fx (goal <= 2)\n", med["BenchmarkPoolSpawnWaitGroup/empty"] / pc
	if (cs != "") printf "ratio SpawnC / C driver bg_spawn                   %6.2fx\n", med["BenchmarkPoolSpawnC"] / cs
}' | sort
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
