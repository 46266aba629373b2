#!/usr/bin/env python3
"""Medians of several `bench/cluster` runs, one table row per (label, layout).

usage: bench/cluster_medians.py LABEL=DIR[,DIR...] [LABEL=DIR[,DIR...] ...]
Each DIR is an --out directory of bench/cluster (one-node.json, split.json, *.xadds). Latencies are
printed as median (min-max); CPU columns are the medians of each component's microseconds per
acknowledged message, and the total is the median of the runs' totals.
"""
import json
import statistics
import sys

COMPONENTS = ["broker1", "broker1_other_threads", "broker2", "broker2_other_threads",
              "bridge1", "bridge2", "redis_primary", "postgres"]


def row(label, dirs, layout):
    runs = [json.load(open(f"{d}/{layout}.json")) for d in dirs]
    xadds = [int(open(f"{d}/{layout}.xadds").read()) / max(1, r["acked"]) for d, r in zip(dirs, runs)]
    med = lambda f: statistics.median(f(r) for r in runs)
    def lat(p):
        values = sorted(r["latency_us"].get(p, 0) / 1000 for r in runs)
        return f"{statistics.median(values):.2f} ({values[0]:.2f}–{values[-1]:.2f})"
    cpu = [med(lambda r: r["cpu"][c]["us_per_message"]) for c in COMPONENTS]
    total = med(lambda r: sum(r["cpu"][c]["us_per_message"] for c in COMPONENTS))
    return (f"| {label} | {layout} | {len(runs)} | {med(lambda r: r['delivered_per_s']):.0f} | {lat('p50')} | "
            f"{lat('p99')} | {lat('p999')} | {statistics.median(xadds):.2f} | "
            + " | ".join(f"{c:.1f}" for c in cpu) + f" | {total:.1f} |")


def main(argv):
    if not argv or any("=" not in a for a in argv):
        sys.exit(__doc__)
    print("| build | layout | runs | delivered/s | p50 ms | p99 ms | p999 ms | XADD per msg | "
          + " | ".join(COMPONENTS) + " | total µs |")
    print("|" + "---|" * (9 + len(COMPONENTS)))
    for arg in argv:
        label, dirs = arg.split("=", 1)
        for layout in ("one-node", "split"):
            print(row(label, dirs.split(","), layout))


if __name__ == "__main__":
    main(sys.argv[1:])
