"""Run every benchmark in one process, one after the other: ``python -m bench [NAME ...]``."""

from __future__ import annotations

import importlib
import sys
import time

BENCHMARKS = ("bus_overhead", "redis_roundtrip", "http", "allocation_scaling", "command_path")


def main(argv: list[str]) -> int:
    """Run the named benchmarks (all by default) and print their reports."""
    names = argv or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    for name in names:
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        importlib.import_module(f"bench.{name}").main()
        print(f"   ({time.perf_counter() - started:.1f} s)\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
