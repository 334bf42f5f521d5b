#!/usr/bin/env python3
"""Scaling: the workloads that use every worker, at 1, 2, 4, ... threads.

Usage: bench/run.sh --scaling [--threads-list 1,2,4,8,16] [--reps N] [--oversubscribe]
                              [--workloads a,b] [--peers a,b] [--tiny] [--out DIR]

Runs harness.py once per thread count, into <out>/t<N>/ (each an ordinary
interleaved run with its own results.csv), then writes <out>/scaling.md and
<out>/scaling.csv: per workload, each peer's median at each thread count and
its speedup over its own one-thread figure (for efficiency, the efficiency
itself, which is already relative to the ideal at that thread count).
Thread counts above the machine's CPUs are skipped: an oversubscribed figure
says nothing about scaling. --oversubscribe runs them anyway, as a test of a
pool larger than the machine (common in real processes, next to other
pools); its default output is results/oversubscribed.
"""
import argparse
import csv
import os
import subprocess
import sys

from report import PEERS, WORKLOADS, fmt, load

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_WORKLOADS = "spawn,handles,fib,unbalanced,loop,group,fibj,skynet,nqueens"
NOTES = [
    "spawn and handles come from one producer thread: more workers cannot make submitting faster, only "
    "show what contention costs. With fewer workers than CPUs the producer has a CPU of its own.",
    "OpenMP: libgomp runs a new task inline on the producer once more than 64 × team size are queued "
    "(see bench/README.md), so in spawn and unbalanced its producer works beside the pool: at 1 thread that "
    "is a second CPU, and an efficiency near 2.",
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads-list", default="1,2,4,8,16")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--workloads", default=DEFAULT_WORKLOADS)
    ap.add_argument("--peers")
    ap.add_argument("--tiny", action="store_true", help="tiny sizes: checks the script, timings meaningless")
    ap.add_argument("--out", help="default: results/scaling, or build/tiny-scaling with --tiny")
    ap.add_argument("--oversubscribe", action="store_true",
                    help="also run thread counts above this machine's CPUs (an oversubscription test)")
    ap.add_argument("--report-only", action="store_true", help="rewrite scaling.md from the runs already in --out")
    args = ap.parse_args()
    if not args.out:
        sub = "oversubscribed" if args.oversubscribe else "scaling"
        args.out = os.path.join(HERE, "build", "tiny-" + sub) if args.tiny else os.path.join(HERE, "results", sub)

    cpus = os.cpu_count() or 1
    wanted = [int(t) for t in args.threads_list.split(",")]
    threads = [t for t in wanted if 1 <= t <= (10**6 if args.oversubscribe else cpus)]
    skipped = [t for t in wanted if t not in threads]
    if skipped:
        print(f"scaling: skipping {skipped}: this machine has {cpus} CPUs")
    if not threads:
        sys.exit("scaling: no thread count fits this machine")

    for t in threads if not args.report_only else []:
        cmd = [sys.executable, os.path.join(HERE, "harness.py"), "--threads", str(t), "--reps", str(args.reps),
               "--workloads", args.workloads, "--out", os.path.join(args.out, f"t{t}")]
        if args.peers:
            cmd += ["--peers", args.peers]
        if args.tiny:
            cmd.append("--tiny")
        print("scaling:", " ".join(cmd[1:]), flush=True)
        subprocess.run(cmd, check=True)

    runs = {t: load(os.path.join(args.out, f"t{t}")) for t in threads}
    meta = runs[threads[0]][2]
    rows, md = [], [f"# Scaling: {', '.join(map(str, threads))} threads", "",
                    f"{meta['date']}, {meta['cpus']} CPUs ({meta['cpu']}), commit {meta['commit']}; each column "
                    f"is its own interleaved run of {meta['reps']} repetitions (`bench/run.sh --scaling`). Cells: "
                    "median, and in brackets the speedup over the same peer at 1 thread (for efficiency: the "
                    "efficiency itself).", ""]
    over = [t for t in threads if t > int(meta["cpus"])]
    if over:
        md += [f"Oversubscribed: {', '.join(map(str, over))} threads on {meta['cpus']} CPUs (`--oversubscribe`): "
               "a test of a pool larger than the machine, not of scaling.", ""]
    for wl, title, metric, unit, lower, _ in WORKLOADS:
        if wl not in args.workloads.split(","):
            continue
        md += [f"## {title}", "", f"| peer ({unit}) | " + " | ".join(f"{t} thr" for t in threads) + " |",
               "|---|" + "---|" * len(threads)]
        for peer in PEERS:
            vals = {t: runs[t][0].get((wl, peer, metric)) for t in threads}
            if all(v is None for v in vals.values()):
                continue
            base = vals.get(1)
            cells = []
            for t in threads:
                v = vals[t]
                if v is None:
                    cells.append("n/a")
                    continue
                speedup = base[0] / v[0] if lower and base and v[0] else None
                cells.append(fmt(v[0]) + ("" if speedup is None else f" ({speedup:.2f}×)"))
                rows.append({"workload": wl, "peer": peer, "metric": metric, "threads": t, "median": v[0],
                             "speedup_vs_1": "" if speedup is None else f"{speedup:.4f}"})
            md.append(f"| {peer} | " + " | ".join(cells) + " |")
        md.append("")

    md += ["Notes:", ""] + [f"* {n}" for n in NOTES] + [""]

    with open(os.path.join(args.out, "scaling.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["workload", "peer", "metric", "threads", "median", "speedup_vs_1"],
                           lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(args.out, "scaling.md"), "w") as f:
        f.write("\n".join(md))
    print(f"wrote {args.out}/scaling.md, scaling.csv")


if __name__ == "__main__":
    main()
