#!/usr/bin/env python3
"""`trainer bench search-step` of two trainer binaries, interleaved in one run.

Each round starts a fresh process of the baseline binary and one of the candidate binary
(the order alternates from round to round, so a slow spell of the machine hits both alike),
each timing `--iters` search iterations of every mode after `--warmup` untimed ones. It
prints, per mode, both binaries' median ms per iteration and the median over rounds of
baseline time / candidate time in the same round (the speed-up) with its spread (min–max)
and, from 6 rounds on, a distribution-free 95 % confidence interval of that median. From
each process's rusage it also prints the CPUs kept busy ((user + system) CPU time / wall
time, warm-up and set-up included) and the peak resident memory.

  python3 scripts/bench-search-vs.py --old /work/target-b72/release/trainer \\
      --new target/release/trainer [--rounds 6] [--iters 2] [--json FILE] \\
      [-- EXTRA BENCH ARGS]

Everything after `--` goes to both binaries (default: `--mode san,shared --batch 16
--lr-size 32`). Only the standard library is needed.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

DEFAULT_BENCH = ["--mode", "san,shared", "--batch", "16", "--lr-size", "32"]


def isa():
    """CPU model and the widest x86 SIMD level the kernel reports."""
    model, flags = platform.machine(), set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name") and model == platform.machine():
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    level = next(
        (n for n, f in (("avx512f", "avx512f"), ("avx2+fma", "fma"), ("sse4.1", "sse4_1")) if f in flags),
        "unknown",
    )
    return f"{model}, {level}, {os.cpu_count()} CPUs"


def run_once(binary, bench_args, iters, warmup):
    """One fresh process: (ms per iteration per mode, CPUs busy, peak RSS in MB, wall s)."""
    cmd = [binary, "bench", "search-step", *bench_args, "--iters", str(iters),
           "--warmup", str(warmup), "--json"]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # wait4 gives this child's own rusage (not the sum over every finished child).
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    out, err = p.stdout.read().decode(), p.stderr.read().decode()
    p.stdout.close()
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{err}")
    row = json.loads(out.strip().splitlines()[-1])
    busy = (ru.ru_utime + ru.ru_stime) / wall
    return row["ms_per_iter"], busy, ru.ru_maxrss / 1024.0, wall


def median_ci95(v):
    """Order statistics (v_(j), v_(n+1-j)) with the largest j with P(Bin(n, 1/2) < j) <= 2.5 %."""
    n = len(v)
    pmf, below, j = 0.5 ** n, 0.0, 0
    for k in range(n):
        if below + pmf > 0.025:
            break
        below += pmf
        pmf *= (n - k) / (k + 1)
        j = k + 1
    if j == 0:
        return None
    s = sorted(v)
    return s[j - 1], s[n - j]


def main():
    argv = sys.argv[1:]
    extra = DEFAULT_BENCH
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--old", required=True, help="baseline trainer binary")
    ap.add_argument("--new", required=True, help="candidate trainer binary")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--iters", type=int, default=2, help="timed iterations per process")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--json", help="also write every measurement to this file")
    a = ap.parse_args(argv)

    print(f"bench search-step {' '.join(extra)}, {a.rounds} rounds x {a.iters} iterations "
          f"(+{a.warmup} warm-up), fresh processes alternating; {isa()}", flush=True)
    rows = {"old": [], "new": []}
    for r in range(a.rounds):
        order = ("old", "new") if r % 2 == 0 else ("new", "old")
        for which in order:
            ms, busy, rss, wall = run_once(getattr(a, which), extra, a.iters, a.warmup)
            rows[which].append({"ms_per_iter": ms, "cpus_busy": busy, "peak_rss_mb": rss, "wall_s": wall})
            cells = ", ".join(f"{m} {v:.0f} ms" for m, v in ms.items())
            print(f"  round {r + 1} {which}: {cells}; {busy:.2f} CPUs busy, peak {rss:.0f} MB",
                  flush=True)

    modes = list(rows["old"][0]["ms_per_iter"])
    summary = {}
    print("\nmode      old ms   new ms   old/new per round: median (min-max) [95% CI]")
    for m in modes:
        old = [x["ms_per_iter"][m] for x in rows["old"]]
        new = [x["ms_per_iter"][m] for x in rows["new"]]
        ratios = [o / n for o, n in zip(old, new)]
        ci = median_ci95(ratios)
        summary[m] = {"old_ms": statistics.median(old), "new_ms": statistics.median(new),
                      "speedup": statistics.median(ratios), "min": min(ratios), "max": max(ratios),
                      "ci95": ci}
        ci_s = f" [{ci[0]:.3f}-{ci[1]:.3f}]" if ci else ""
        print(f"{m:<8} {summary[m]['old_ms']:>7.0f} {summary[m]['new_ms']:>8.0f}   "
              f"{summary[m]['speedup']:.3f}x ({min(ratios):.3f}-{max(ratios):.3f}){ci_s}")
    for which in ("old", "new"):
        busy = statistics.median(x["cpus_busy"] for x in rows[which])
        rss = max(x["peak_rss_mb"] for x in rows[which])
        summary[which] = {"cpus_busy": busy, "peak_rss_mb": rss}
        print(f"{which}: {busy:.2f} CPUs busy (median over processes), peak RSS {rss:.0f} MB")
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump({"bench": extra, "isa": isa(), "rows": rows, "summary": summary}, f, indent=1)


if __name__ == "__main__":
    main()
