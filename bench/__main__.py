"""Run the benchmarks in one process, ``--runs`` times: ``python -m bench [--runs N] [NAME ...]``.

Run 1 runs every selected benchmark one after the other, then run 2 does, and so on, so that the
figures of one run were measured under the same conditions. Each benchmark prints its report as
it goes; the end is a summary of the headline figures over the runs, with their goals
(bench/summary.py).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback

from bench.summary import summarize, table

BENCHMARKS = ("bus_overhead", "redis_roundtrip", "http", "allocation_scaling", "command_path")


def main(argv: list[str]) -> int:
    """Run the named benchmarks (all by default) ``--runs`` times; print reports and summary."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs of the whole set (default 3)")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"of {', '.join(BENCHMARKS)}")
    arguments = parser.parse_args(argv)
    names = arguments.names or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    if arguments.runs < 1:
        print("--runs must be at least 1")
        return 2
    runs: list[dict[str, float]] = []
    failed = []
    for run in range(1, arguments.runs + 1):
        print(f"==== run {run} of {arguments.runs}\n", flush=True)
        figures: dict[str, float] = {}
        for name in names:
            started = time.perf_counter()
            print(f"== {name}", flush=True)
            try:
                found = importlib.import_module(f"bench.{name}").main()
            except Exception:
                # The other benchmarks and runs still count; the summary shows the gap.
                traceback.print_exc()
                failed.append(f"{name} (run {run})")
            else:
                figures.update({f"{name}: {figure}": value for figure, value in found.items()})
            print(f"   ({time.perf_counter() - started:.1f} s)\n", flush=True)
        runs.append(figures)
    print(f"==== summary of {arguments.runs} run(s): goals judged on the median")
    print(table(summarize(runs, benchmarks=names)))
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
