"""The goals, and the table of every headline figure over several runs of the benchmarks.

Each benchmark's ``main()`` returns its headline figures (name -> value); ``python -m bench``
qualifies them with the benchmark's name (``"bus_overhead: overhead µs per message"``), runs the
selected set ``--runs`` times, and prints one row per figure: each run, min, median, max, and
the figure's goal, met or not judged on the median.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Goal:
    """A bound a figure's median must stay within: ``<=`` (a cost) or ``>=`` (a throughput)."""

    op: Literal["<=", ">="]
    bound: float

    def met(self, value: float) -> bool:
        """Whether ``value`` is within the bound."""
        return value <= self.bound if self.op == "<=" else value >= self.bound

    def __str__(self) -> str:
        return f"{self.op} {_number(self.bound)}"


# Every goal the benchmarks are held to, by qualified figure name ("benchmark: figure").
GOALS: dict[str, Goal] = {
    "bus_overhead: overhead µs per message": Goal("<=", 3.0),
    "command_path: add batch bus+uow/psycopg": Goal("<=", 2.5),
    "command_path: place+allocate bus+uow/psycopg": Goal("<=", 2.5),
    "http: add batch 1 client shop/floor": Goal(">=", 0.6),
    "http: add batch 8 clients shop/floor": Goal(">=", 0.6),
    "http: order story 1 client shop/floor": Goal(">=", 0.6),
    "http: order story 8 clients shop/floor": Goal(">=", 0.6),
    "redis_roundtrip: a line moves p50 ms": Goal("<=", 8.0),
    "redis_roundtrip: a line moves burst /s": Goal(">=", 150.0),
    "redis_roundtrip: relay events/s": Goal(">=", 5_000.0),
    "allocation_scaling: last/first ratio": Goal("<=", 1.5),
}


@dataclass(frozen=True)
class Row:
    """One figure over the runs: its value in each (None where the run has none) and stats."""

    name: str
    values: tuple[float | None, ...]
    low: float | None
    median: float | None
    high: float | None
    goal: Goal | None

    @property
    def verdict(self) -> str:
        """Met or not met (on the median); empty without a goal; "no figure" without values."""
        if self.goal is None:
            return ""
        if self.median is None:
            return "no figure"
        return "met" if self.goal.met(self.median) else "not met"


def summarize(
    runs: Sequence[Mapping[str, float]],
    goals: Mapping[str, Goal] = GOALS,
    benchmarks: Sequence[str] = (),
) -> list[Row]:
    """One row per figure seen in any run, in order of first appearance, then one per goal of
    the ``benchmarks`` run that no run reported (a benchmark failed or renamed a figure)."""
    names = list(dict.fromkeys(name for figures in runs for name in figures))
    names += [
        name
        for name in goals
        if name not in names and name.split(":", 1)[0] in benchmarks
    ]  # fmt: skip
    rows = []
    for name in names:
        values = tuple(figures.get(name) for figures in runs)
        found = [value for value in values if value is not None]
        rows.append(
            Row(
                name=name,
                values=values,
                low=min(found) if found else None,
                median=statistics.median(found) if found else None,
                high=max(found) if found else None,
                goal=goals.get(name),
            )
        )
    return rows


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def table(rows: Sequence[Row]) -> str:
    """The rows as a plain-text table: figure, run 1..N, min, median, max, goal, verdict."""
    runs = max((len(row.values) for row in rows), default=0)
    header = ["figure", *(f"run{n}" for n in range(1, runs + 1)), "min", "median", "max", "goal"]
    lines = [header]
    for row in rows:
        cells = [_number(v) for v in (*row.values, row.low, row.median, row.high)]
        goal = f"{row.goal} {row.verdict}" if row.goal else ""
        lines.append([row.name, *cells, goal])
    width = [max(len(line[n]) for line in lines) for n in range(len(header))]
    text = []
    for line in lines:
        first = line[0].ljust(width[0])
        numbers = [cell.rjust(width[n + 1]) for n, cell in enumerate(line[1:-1])]
        text.append("   " + "  ".join([first, *numbers, line[-1]]).rstrip())
    return "\n".join(text)
