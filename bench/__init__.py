"""Benchmarks, each beside the floor it is compared with; run with ``make bench``."""
