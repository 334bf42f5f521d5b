#!/usr/bin/env python3
"""Runs every workload against every peer, interleaved, and aggregates.

Order: for each repetition, for each workload, every peer once (the peer
order rotates between repetitions so no peer always runs first). Each run is
a fresh process (`build/bench-<peer> <workload>`), which checks exactly-once
execution itself and prints RESULT, SKIP or FAIL (see driver.c).

Writes <out>/runs.log (every run), <out>/results.csv (median, min, max per
metric) and <out>/run.json
(machine, date, load), then report.py turns them into results.md and
chart.svg. Exits 1 if any run failed.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

import report

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = ["bg", "tbb", "omp", "rayon", "glib", "mutex", "glibu", "mutex40", "thread"]


def parse_line(line):
    """RESULT wl peer k=v ... -> ("RESULT", wl, peer, {k: float});
    SKIP/FAIL wl peer text -> (kind, wl, peer, text)."""
    parts = line.split(" ", 3)
    if len(parts) < 3 or parts[0] not in ("RESULT", "SKIP", "FAIL"):
        return None
    kind, wl, peer = parts[:3]
    rest = parts[3] if len(parts) > 3 else ""
    if kind == "RESULT":
        return kind, wl, peer, {k: float(v) for k, v in (kv.split("=", 1) for kv in rest.split())}
    return kind, wl, peer, rest.strip()


def run_one(build, peer, wl, tiny, threads, timeout):
    cmd = [os.path.join(build, "bench-" + peer), wl, "--threads", str(threads)] + (["--tiny"] if tiny else [])
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return ("FAIL", wl, peer, f"no result within {timeout} s (hung?)")
    parsed = [x for x in map(parse_line, p.stdout.splitlines()) if x]
    if p.returncode != 0 or len(parsed) != 1:
        why = parsed[0][3] if parsed and parsed[0][0] == "FAIL" else (p.stdout + p.stderr).strip()[-400:]
        return ("FAIL", wl, peer, f"exit status {p.returncode}: {why}")
    return parsed[0]


def selftest(build):
    """The driver must reject a pool that loses one task and runs another twice."""
    kind, _, _, payload = run_one(build, "selftest", "spawn", True, 1, 60)
    ok = kind == "FAIL" and "exactly-once violated: 1 never ran, 1 ran more than once" in payload
    print(f"selftest: broken pool {'rejected' if ok else 'NOT rejected'}: {payload}", flush=True)
    return ok


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def git_commit():
    # The commit the measured library was built from, when it is not this checkout's HEAD.
    if os.environ.get("BENCH_LIB_COMMIT"):
        return os.environ["BENCH_LIB_COMMIT"]
    try:
        return subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiny", action="store_true", help="tiny sizes: a correctness smoke run, timings meaningless")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--build", default=os.path.join(HERE, "build"))
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--workloads", help="comma-separated subset")
    ap.add_argument("--peers", help="comma-separated subset")
    args = ap.parse_args()

    listing = subprocess.run([os.path.join(args.build, "bench-bg"), "--list"], capture_output=True, text=True, check=True)
    workloads = listing.stdout.split()
    if args.workloads:
        workloads = [w for w in args.workloads.split(",") if w in workloads]
    peers = args.peers.split(",") if args.peers else PEERS
    timeout = 60 if args.tiny else 300

    # In the tiny (test) run, first prove the exactly-once check can fail.
    selftest_ok = selftest(args.build) if args.tiny else None

    os.makedirs(args.out, exist_ok=True)
    log = open(os.path.join(args.out, "runs.log"), "w")  # every run's line: the raw data

    samples = {}  # (wl, peer) -> [metrics dict]
    skips = {}  # (wl, peer) -> reason
    fails = [] if selftest_ok is not False else [("spawn", "selftest", "the exactly-once check accepted a broken pool")]
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = loadavg()
    for rep in range(args.reps):
        order = peers[rep % len(peers):] + peers[:rep % len(peers)]
        for wl in workloads:
            for peer in order:
                if (wl, peer) in skips:
                    continue
                kind, _, _, payload = run_one(args.build, peer, wl, args.tiny, args.threads, timeout)
                if kind == "RESULT":
                    samples.setdefault((wl, peer), []).append(payload)
                elif kind == "SKIP":
                    skips[(wl, peer)] = payload
                else:
                    fails.append((wl, peer, payload))
                line = (f"rep {rep + 1}/{args.reps} {wl:<10} {peer:<6} {kind:<6} "
                        + (" ".join(f"{k}={v:.6g}" for k, v in payload.items()) if kind == "RESULT" else payload))
                print(line, flush=True)
                log.write(line + "\n")
    log.close()

    rows = []
    for (wl, peer), runs in samples.items():
        for metric in runs[0]:
            vals = [r[metric] for r in runs if metric in r]
            rows.append({"workload": wl, "peer": peer, "metric": metric, "median": statistics.median(vals),
                         "min": min(vals), "max": max(vals), "reps": len(vals)})
    for (wl, peer), why in skips.items():
        rows.append({"workload": wl, "peer": peer, "metric": "skipped", "median": "", "min": "", "max": "",
                     "reps": 0, "note": why})
    report.write_csv(os.path.join(args.out, "results.csv"), rows)
    meta = {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "threads": args.threads,
        "reps": args.reps,
        "tiny": args.tiny,
        "kernel": platform.release(),
        "commit": git_commit(),
        "load_before": load_before,
        "load_after": loadavg(),
        "failures": [f"{w} {p}: {why}" for w, p, why in fails],
    }
    with open(os.path.join(args.out, "run.json"), "w") as f:
        json.dump(meta, f, indent=1)
    report.generate(args.out)

    failed = {(w, p) for w, p, _ in fails}
    passed = sum(1 for k in samples if k not in failed) + (1 if selftest_ok else 0)
    for wl, peer, why in fails:
        print(f"FAILED: {wl} {peer}: {why}", file=sys.stderr)
    print(f"wrote {args.out}/results.csv, results.md, chart.svg")
    # Counted per peer/workload pair; skipped = the peer has no such construct.
    print(f"bench: {passed} passed, {len(failed)} failed, {len(skips)} skipped")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
