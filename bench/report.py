#!/usr/bin/env python3
"""Turns <dir>/results.csv + run.json into <dir>/results.md and <dir>/chart.svg.

Usage: report.py [DIR]   (default: bench/results). Standard library only:
the chart is SVG written by hand.
"""
import csv
import json
import os
import sys
from xml.sax.saxutils import escape

PEERS = ["bg", "tbb", "omp", "rayon", "glib", "mutex", "glibu", "mutex40", "thread"]
# Issue 14's workloads run against these; the others (fixed --threads pools
# that tbb stands for) skip them, and these extra peers skip the rest.
ISSUE14_PEERS = ["bg", "tbb", "glibu", "mutex40", "thread"]
ISSUE14_WORKLOADS = ["blocking", "blockrecv", "blocking1k", "blockrecv1k", "mixed", "foreground", "fg_utility",
                     "fg_background"]
PEER_NAMES = {
    "bg": "background (this library)",
    "tbb": "oneTBB",
    "omp": "OpenMP tasks (libgomp)",
    "rayon": "rayon",
    "glib": "GLib GThreadPool",
    "mutex": "mutex+condvar pool (C)",
    "glibu": "GLib GThreadPool, shared, unlimited",
    "mutex40": "mutex+condvar pool, 40 threads",
    "thread": "a thread per task",
}


def peers_for(wl):
    """The peers whose rows a workload's tables show."""
    return ISSUE14_PEERS if wl in ISSUE14_WORKLOADS else [p for p in PEERS if p not in ISSUE14_PEERS[2:]]

# workload, title, headline metric, unit, lower is better, other metrics shown
WORKLOADS = [
    ("spawn", "1. spawn: 1M empty fire-and-forget tasks", "ns_per_task", "ns/task", True,
     [("cpu_ns_per_task", "CPU ns/task")]),
    ("handles", "2. handles: 1M tasks with handles, wait on each", "ns_per_task", "ns/task", True,
     [("cpu_ns_per_task", "CPU ns/task")]),
    ("fib", "3. fib(30): nested submit + wait", "ns_per_call", "ns/call", True,
     [("cpu_ns_per_call", "CPU ns/call")]),
    ("wake", "4. wake: one task per ms, submit→start", "p50_us", "p50 µs", True,
     [("p99_us", "p99 µs"), ("pool_cpu_pct", "pool CPU % of a core"),
      ("floor_p50_us", "raw futex wake p50 µs (same process)")]),
    ("unbalanced", "5. unbalanced: 10k exponential tasks", "efficiency", "efficiency", False,
     [("par_ms", "wall ms"), ("cpu_ms", "CPU ms"), ("cpu_efficiency", "task CPU / all CPU"),
      ("ceiling", "machine ceiling"), ("vs_ceiling", "÷ ceiling")]),
    ("idle", "6. idle: the second after a burst", "idle_cpu_ms", "CPU ms", True, []),
    ("loop", "7. parallel loop: 8M elements, 20 passes", "ms_per_pass", "ms/pass", True,
     [("speedup", "speedup vs 1 thread"), ("cpu_ms", "CPU ms (20 passes)")]),
    ("serial", "8a. serial queue: 200k tasks", "ns_per_task", "ns/task", True,
     [("cpu_ns_per_task", "CPU ns/task"), ("ordered", "order checked")]),
    ("group", "8b. group: 8 tasks then wait, 20k rounds", "us_per_round", "µs/round", True,
     [("cpu_us_per_round", "CPU µs/round")]),
    ("mem", "9a. memory: 10M queued fire-and-forget tasks", "bytes_per_task", "bytes/task", True,
     [("held_rss_mb", "RSS held, MB"), ("peak_rss_mb", "peak RSS, MB")]),
    ("memh", "9b. memory: 1M queued tasks with handles", "bytes_per_task", "bytes/task", True,
     [("held_rss_mb", "RSS held, MB")]),
    # issue 14
    ("blocking", "10a. blocking: 100 tasks × 100 ms in usleep", "wall_s", "s until all done", True,
     [("peak_threads", "peak threads"), ("vs_one_wave", "÷ 100 ms")]),
    ("blockrecv", "10b. blocking: 100 tasks × 100 ms in recv", "wall_s", "s until all done", True,
     [("peak_threads", "peak threads"), ("vs_one_wave", "÷ 100 ms")]),
    ("blocking1k", "10c. blocking: 1,000 tasks × 100 ms in usleep", "wall_s", "s until all done", True,
     [("peak_threads", "peak threads"), ("max_threads", "max_threads")]),
    ("blockrecv1k", "10d. blocking: 1,000 tasks × 100 ms in recv", "wall_s", "s until all done", True,
     [("peak_threads", "peak threads"), ("max_threads", "max_threads")]),
    ("mixed", "11. mixed: a parallel loop beside 100 blocking tasks", "vs_solo", "× its solo throughput", False,
     [("mixed_melem_s", "Melem/s mixed"), ("solo_melem_s", "Melem/s solo"), ("blocking_wall_s", "blocking done, s")]),
    ("foreground", "12a. foreground: sleep 1 ms + work 200 µs, pool saturated", "p99_us", "p99 µs", True,
     [("p50_us", "p50 µs"), ("alone_p99_us", "no-pool p99 µs"), ("p99_vs_alone", "p99 ÷ no pool")]),
    ("fg_utility", "12b. foreground, pool at BG_QOS_UTILITY", "p99_us", "p99 µs", True,
     [("p50_us", "p50 µs"), ("alone_p99_us", "no-pool p99 µs"), ("p99_vs_alone", "p99 ÷ no pool")]),
    ("fg_background", "12c. foreground, pool at BG_QOS_BACKGROUND", "p99_us", "p99 µs", True,
     [("p50_us", "p50 µs"), ("alone_p99_us", "no-pool p99 µs"), ("p99_vs_alone", "p99 ÷ no pool")]),
    ("fibj", "13a. fork-join fib(30): bg_join, rayon join, TBB parallel_invoke, OpenMP tasks", "ns_per_node",
     "ns/call", True, [("cpu_ns_per_node", "CPU ns/call"), ("vs_seq", "speedup over sequential C")]),
    ("skynet", "13b. skynet: 1M leaves, 10 children a node, by fork-join", "ns_per_node", "ns/leaf", True,
     [("cpu_ns_per_node", "CPU ns/leaf")]),
    ("nqueens", "13c. nqueens(12) by fork-join over each row's columns", "ns_per_node", "ns/node", True,
     [("vs_seq", "speedup over sequential C"), ("cpu_ns_per_node", "CPU ns/node")]),
]


def write_csv(path, rows):
    fields = ["workload", "peer", "metric", "median", "min", "max", "reps", "note"]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        for r in sorted(rows, key=lambda r: (r["workload"], PEERS.index(r["peer"]) if r["peer"] in PEERS else 99, r["metric"])):
            w.writerow({k: r.get(k, "") for k in fields})


def load(outdir):
    data, skips = {}, {}
    with open(os.path.join(outdir, "results.csv")) as f:
        for r in csv.DictReader(f):
            if r["metric"] == "skipped":
                skips[(r["workload"], r["peer"])] = r["note"]
            else:
                data[(r["workload"], r["peer"], r["metric"])] = (float(r["median"]), float(r["min"]), float(r["max"]), int(r["reps"]))
    with open(os.path.join(outdir, "run.json")) as f:
        meta = json.load(f)
    return data, skips, meta


def fmt(v):
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def med(data, wl, peer, metric):
    x = data.get((wl, peer, metric))
    return x[0] if x else None


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def targets(data):
    """The issue's targets: (target, ratio text, verdict)."""
    out = []

    def verdict(ok):
        return "pending (no data)" if ok is None else ("**met**" if ok else "**missed**")

    def row(text, r, ok, detail=""):
        out.append((text, (f"{r:.2f}×" if r is not None else "–") + (f" ({detail})" if detail else ""), verdict(ok)))

    s = med(data, "spawn", "bg", "ns_per_task")
    queued = [(p, med(data, "spawn", p, "ns_per_task")) for p in ("tbb", "rayon", "glib", "mutex")]
    queued = [(p, v) for p, v in queued if v is not None]
    best = min(queued, key=lambda x: x[1]) if queued else (None, None)
    r = ratio(s, best[1])
    row("spawn ≤ 0.5× the best peer (queued peers; libgomp excluded, see note)", r, None if r is None else r <= 0.5,
        f"best: {best[0]}" if best[0] else "")
    r = ratio(med(data, "handles", "bg", "ns_per_task"), s)
    row("handles ≤ 1.5× our own spawn", r, None if r is None else r <= 1.5)
    f = med(data, "fib", "bg", "ns_per_call")
    r = ratio(f, med(data, "fib", "tbb", "ns_per_call"))
    row("fib ≤ 1.0× TBB task_group", r, None if r is None else r <= 1.0)
    r = ratio(f, med(data, "fib", "omp", "ns_per_call"))
    row("fib ≤ 0.25× OpenMP tasks", r, None if r is None else r <= 0.25)
    r = ratio(med(data, "wake", "bg", "p50_us"), med(data, "wake", "tbb", "p50_us"))
    row("wake p50 ≤ 0.5× TBB's", r, None if r is None else r <= 0.5)
    c, g = med(data, "wake", "bg", "pool_cpu_pct"), med(data, "wake", "glib", "pool_cpu_pct")
    r = ratio(c, g)
    row("… while the pool burns ≤ 2× GLib's CPU", r, None if r is None else r <= 2.0,
        f"{fmt(c)}% vs {fmt(g)}% of a core" if r is not None else "")
    c, g = med(data, "idle", "bg", "idle_cpu_ms"), med(data, "idle", "glib", "idle_cpu_ms")
    ok = None if c is None or g is None else c <= g
    out.append(("idle: no more CPU than GLib's pool", f"{fmt(c)} ms vs {fmt(g)} ms" if ok is not None else "–", verdict(ok)))
    e = med(data, "unbalanced", "bg", "efficiency")
    c, v = med(data, "unbalanced", "bg", "ceiling"), med(data, "unbalanced", "bg", "vs_ceiling")
    text = fmt(e) if e is not None else "–"
    if e is not None and c is not None and v is not None:
        # What the machine allows: the verdict stays against 0.98, the ceiling says how much of a gap is the VM's.
        text += f" (machine ceiling in the same runs: {fmt(c)}; {v:.3f} of it)"
    out.append(("unbalanced efficiency ≥ 0.98", text, verdict(None if e is None else e >= 0.98)))
    l = med(data, "loop", "bg", "ms_per_pass")
    peers = [(p, med(data, "loop", p, "ms_per_pass")) for p in ("tbb", "omp", "rayon")]
    peers = [(p, v) for p, v in peers if v is not None]
    bestl = min(peers, key=lambda x: x[1]) if peers else (None, None)
    r = ratio(bestl[1], l)  # our throughput relative to the best peer's
    row("parallel loop ≥ 0.9× the best peer (throughput)", r, None if r is None else r >= 0.9,
        f"best: {bestl[0]}" if r is not None else "")

    # issue 14
    for wl, how in (("blocking", "usleep"), ("blockrecv", "recv")):
        r = ratio(med(data, wl, "bg", "wall_s"), med(data, wl, "thread", "wall_s"))
        row(f"100 × 100 ms ({how}) ≤ 1.3× a thread per task", r, None if r is None else r <= 1.3)
    for wl, how in (("blocking1k", "usleep"), ("blockrecv1k", "recv")):
        x = data.get((wl, "bg", "peak_threads"))
        pk, mx = (x[2] if x else None), med(data, wl, "bg", "max_threads")
        ok = None if pk is None or mx is None else pk <= mx + 1
        out.append((f"1,000 × 100 ms ({how}): threads within max_threads (+1: the monitor)",
                    f"peak {fmt(pk)} of {fmt(mx)}, done in {fmt(med(data, wl, 'bg', 'wall_s'))} s" if ok is not None else "–",
                    verdict(ok)))
    r = med(data, "mixed", "bg", "vs_solo")
    row("mixed: the loop ≥ 0.95× its solo throughput", r, None if r is None else r >= 0.95)
    r = med(data, "fg_background", "bg", "p99_vs_alone")
    row("foreground p99 under BG_QOS_BACKGROUND ≤ 1.2× the no-pool p99", r, None if r is None else r <= 1.2)

    # Issue 15's targets (fork-join and waits from outside).
    fw, fl = med(data, "wake", "bg", "p50_us"), med(data, "wake", "bg", "floor_p50_us")
    r = ratio(fw, fl)
    row("wake p50 ≤ 1.3× the raw futex wake (same runs)", r, None if r is None else r <= 1.3)
    r = ratio(med(data, "fibj", "bg", "ns_per_node"), med(data, "fibj", "rayon", "ns_per_node"))
    row("fib with bg_join ≤ 1.5× rayon join", r, None if r is None else r <= 1.5)
    for wl in ("skynet", "nqueens"):
        peers = [(p, med(data, wl, p, "ns_per_node")) for p in ("tbb", "omp", "rayon")]
        peers = [(p, v) for p, v in peers if v is not None]
        best = min(peers, key=lambda x: x[1]) if peers else (None, None)
        r = ratio(med(data, wl, "bg", "ns_per_node"), best[1])
        row(f"{wl} ≤ 1.2× the best peer", r, None if r is None else r <= 1.2, f"best: {best[0]}" if best[0] else "")
    # Over the same sequential code for every peer, so this orders the peers as
    # their times do; the speedup over each peer's own one-thread run is in
    # the --scaling table.
    a, b = med(data, "nqueens", "bg", "vs_seq"), med(data, "nqueens", "tbb", "vs_seq")
    ok = None if a is None or b is None else a >= b
    out.append(("nqueens speedup (over sequential C) ≥ TBB's", f"{fmt(a)} vs {fmt(b)}" if ok is not None else "–",
                verdict(ok)))
    g = med(data, "group", "bg", "us_per_round")
    r = ratio(g, med(data, "group", "rayon", "us_per_round"))
    row("group round trip from outside ≤ rayon scope", r, None if r is None else r <= 1.0)
    r = ratio(g, med(data, "group", "tbb", "us_per_round"))
    row("… and ≤ 3× TBB task_group", r, None if r is None else r <= 3.0)
    return out


def markdown(data, skips, meta):
    L = []
    L.append("# Benchmark results")
    L.append("")
    L.append(f"Run {meta['date']} on {meta['cpus']} CPUs ({meta['cpu']}, kernel {meta['kernel']}), "
             f"{meta['threads']} worker threads per pool, {meta['reps']} interleaved repetitions"
             f"{' (TINY sizes: timings meaningless)' if meta['tiny'] else ''}, commit {meta['commit']}. "
             f"Load average before/after: {meta['load_before']} / {meta['load_after']}.")
    L.append("")
    L.append("Each cell: median (min–max). `bg ÷ peer` divides this library's median by the peer's, "
             "on the workload's headline metric (below 1 is better for bg, except for efficiency and speedup).")
    if meta.get("failures"):
        L.append("")
        L.append("**Failed runs:** " + "; ".join(meta["failures"]))
    L.append("")
    L.append("## Targets (issues 6 and 14)")
    L.append("")
    L.append("| target | measured | verdict |")
    L.append("|---|---|---|")
    for t, r, v in targets(data):
        L.append(f"| {t} | {r} | {v} |")
    L.append("")
    L.append("libgomp's spawn figure is not a queued-task figure: once 64 × team-size tasks are queued, "
             "`GOMP_task` runs each new task inline on the producer.")
    L.append("")
    L.append("Unbalanced: the machine ceiling is an ideal pool, the same tasks on raw pthreads that take the "
             "next task from one shared counter, run just before and just after the pool's run in the same "
             "process (mean of the two): the efficiency the machine itself allows. `÷ ceiling` is the pool's "
             "efficiency divided by it.")
    for wl, title, head, unit, lower, extras in WORKLOADS:
        L.append("")
        L.append(f"## {title}")
        L.append("")
        hdr = ["peer", f"{unit} ({'lower' if lower else 'higher'} is better)"] + [e[1] for e in extras] + ["bg ÷ peer"]
        L.append("| " + " | ".join(hdr) + " |")
        L.append("|" + "---|" * len(hdr))
        bgv = med(data, wl, "bg", head)
        for p in peers_for(wl):
            x = data.get((wl, p, head))
            if x is None:
                if (wl, p) in skips:
                    L.append(f"| {PEER_NAMES[p]} | n/a: {skips[(wl, p)]} |" + " |" * (len(extras) + 1))
                continue
            cells = [PEER_NAMES[p], f"{fmt(x[0])} ({fmt(x[1])}–{fmt(x[2])})"]
            for m, _ in extras:
                v = data.get((wl, p, m))
                cells.append(fmt(v[0]) if v else "–")
            r = ratio(bgv, x[0])
            cells.append(f"{r:.2f}" if r is not None else "–")
            L.append("| " + " | ".join(cells) + " |")
    L.append("")
    return "\n".join(L)


def summary(data, skips, meta):
    """The compact tables README.md shows: headline medians, ratio bg ÷ peer."""
    L = [f"Run {meta['date']}, {meta['cpus']} CPUs, {meta['threads']} threads per pool, {meta['reps']} interleaved "
         f"repetitions, load average {meta['load_before']} before / {meta['load_after']} after. "
         "Cells: median, and in brackets bg ÷ peer (below 1: bg is lower; for efficiency higher is better)."]
    for group in (False, True):
        peers = ISSUE14_PEERS if group else peers_for("spawn")
        rows = [w for w in WORKLOADS if (w[0] in ISSUE14_WORKLOADS) == group]
        if group and not any(med(data, w[0], p, w[2]) is not None for w in rows for p in peers):
            continue
        L += ["", "| workload | metric | " + " | ".join(peers) + " |", "|---|---|" + "---|" * len(peers)]
        for wl, title, head, unit, lower, _ in rows:
            bgv = med(data, wl, "bg", head)
            cells = []
            for p in peers:
                v = med(data, wl, p, head)
                if v is None:
                    cells.append("n/a")
                elif p == "bg":
                    lo, hi = data[(wl, p, head)][1:3]
                    cells.append(f"**{fmt(v)}** ({fmt(lo)}–{fmt(hi)})")
                else:
                    r = ratio(bgv, v)
                    cells.append(f"{fmt(v)} ({r:.2f})" if r is not None else fmt(v))
            L.append(f"| {title.split(':')[0]} | {unit} | " + " | ".join(cells) + " |")
            if wl == "wake":
                cells = [fmt(med(data, wl, p, "pool_cpu_pct")) if med(data, wl, p, "pool_cpu_pct") is not None else "n/a" for p in peers]
                L.append("| 4. wake, pool CPU | % of a core | " + " | ".join(cells) + " |")
            if wl == "unbalanced" and med(data, wl, "bg", "ceiling") is not None:
                cells = [fmt(med(data, wl, p, "ceiling")) if med(data, wl, p, "ceiling") is not None else "n/a" for p in peers]
                L.append("| 5. unbalanced, machine ceiling | efficiency (raw pthreads) | " + " | ".join(cells) + " |")
            if wl.startswith("blocking") or wl.startswith("blockrecv"):
                cells = [fmt(med(data, wl, p, "peak_threads")) if med(data, wl, p, "peak_threads") is not None else "n/a" for p in peers]
                L.append(f"| {title.split(':')[0]}, peak | threads | " + " | ".join(cells) + " |")
    L.append("")
    L.append("| target | measured | verdict |")
    L.append("|---|---|---|")
    for t, r, v in targets(data):
        L.append(f"| {t} | {r} | {v} |")
    return "\n".join(L)


README_BEGIN = "<!-- results:begin (written by report.py from the latest full run) -->"
README_END = "<!-- results:end -->"


def update_readme(path, text):
    """Replaces the marked results section of bench/README.md."""
    with open(path) as f:
        doc = f.read()
    a, b = doc.find(README_BEGIN), doc.find(README_END)
    if a < 0 or b < a:
        return False
    with open(path, "w") as f:
        f.write(doc[:a + len(README_BEGIN)] + "\n" + text + "\n" + doc[b:])
    return True


def chart(data, skips, meta):
    """One small horizontal-bar panel per workload: median bars, min–max whiskers."""
    panels = [(wl, title, head, unit, lower) for wl, title, head, unit, lower, _ in WORKLOADS]
    panels.insert(4, ("wake", "4. wake: pool CPU meanwhile", "pool_cpu_pct", "% of a core", True))
    cols, pw, bar_h, gap = 3, 420, 16, 6
    heights = [46 + max(1, sum((wl, p, metric) in data for p in PEERS)) * (bar_h + gap)
               for wl, _, metric, _, _ in panels]
    rows = (len(panels) + cols - 1) // cols
    row_h = [max(heights[r * cols:(r + 1) * cols]) for r in range(rows)]
    W, top = cols * pw + 20, 60
    H = top + sum(row_h) + 20
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           'font-family="DejaVu Sans, Arial, sans-serif" font-size="11">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="10" y="22" font-size="15" font-weight="bold">background vs peers: medians of {meta["reps"]} '
           f'interleaved runs, bars = median, whiskers = min–max</text>',
           f'<text x="10" y="42" fill="#555">{escape(meta["date"])}, {meta["cpus"]} CPUs, {meta["threads"]} threads per pool'
           f'{", TINY sizes (timings meaningless)" if meta["tiny"] else ""}; orange = this library</text>']
    for i, (wl, title, metric, unit, lower) in enumerate(panels):
        r, c = divmod(i, cols)
        x0 = 10 + c * pw
        y = top + sum(row_h[:r])
        present = [(p, data[(wl, p, metric)]) for p in PEERS if (wl, p, metric) in data]
        out.append(f'<text x="{x0}" y="{y + 14}" font-weight="bold">{escape(title)}</text>')
        out.append(f'<text x="{x0}" y="{y + 28}" fill="#555">{escape(unit)}, {"lower" if lower else "higher"} is better</text>')
        if (wl, "bg") in skips:
            note = "bg: " + skips[(wl, "bg")]
            out.append(f'<text x="{x0 + 200}" y="{y + 28}" fill="#c92a2a">{escape(note[:48])}</text>')
        if not present:
            out.append(f'<text x="{x0}" y="{y + 48}" fill="#999">no data</text>')
            continue
        vmax = max(v[2] for _, v in present) or 1.0
        label_w, plot_w = 60, pw - 60 - 70
        for j, (p, (m, lo, hi, _)) in enumerate(present):
            by = y + 38 + j * (bar_h + gap)
            w = plot_w * m / vmax
            color = "#e8590c" if p == "bg" else "#5c7cfa"
            out.append(f'<text x="{x0 + label_w - 4}" y="{by + bar_h - 4}" text-anchor="end">{p}</text>')
            out.append(f'<rect x="{x0 + label_w}" y="{by}" width="{max(w, 0.5):.1f}" height="{bar_h}" fill="{color}"/>')
            xl, xh, cy = x0 + label_w + plot_w * lo / vmax, x0 + label_w + plot_w * hi / vmax, by + bar_h / 2
            out.append(f'<line x1="{xl:.1f}" y1="{cy}" x2="{xh:.1f}" y2="{cy}" stroke="#222"/>')
            for xx in (xl, xh):
                out.append(f'<line x1="{xx:.1f}" y1="{by + 3}" x2="{xx:.1f}" y2="{by + bar_h - 3}" stroke="#222"/>')
            out.append(f'<text x="{max(xh, x0 + label_w + w) + 4:.1f}" y="{by + bar_h - 4}">{fmt(m)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def generate(outdir):
    data, skips, meta = load(outdir)
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write(markdown(data, skips, meta))
    with open(os.path.join(outdir, "chart.svg"), "w") as f:
        f.write(chart(data, skips, meta))
    readme = os.path.join(os.path.dirname(os.path.abspath(__file__)), "README.md")
    default_out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    # Only a full run into bench/results/ is "the latest full run".
    if not meta["tiny"] and os.path.abspath(outdir) == default_out and os.path.exists(readme):
        update_readme(readme, summary(data, skips, meta))


if __name__ == "__main__":
    generate(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
