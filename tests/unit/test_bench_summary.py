"""The benchmarks' summary: min/median/max of each figure over the runs, goals on the median."""

from __future__ import annotations

from bench.summary import GOALS, Goal, summarize, table

COST = "bench: cost µs"
RATE = "bench: rate /s"
GOALS_HERE = {COST: Goal("<=", 3.0), RATE: Goal(">=", 150.0)}


def test_min_median_max_of_each_figure_in_order_of_first_appearance():
    runs = [{COST: 2.0, RATE: 100.0}, {COST: 5.0, RATE: 200.0}, {COST: 2.5, RATE: 160.0}]
    rows = summarize(runs, GOALS_HERE)
    assert [row.name for row in rows] == [COST, RATE]
    cost, rate = rows
    assert cost.values == (2.0, 5.0, 2.5)
    assert (cost.low, cost.median, cost.high) == (2.0, 2.5, 5.0)
    assert (rate.low, rate.median, rate.high) == (100.0, 160.0, 200.0)


def test_goals_are_judged_on_the_median_not_on_the_best_or_worst_run():
    met = summarize([{COST: 1.0}, {COST: 2.9}, {COST: 9.0}], GOALS_HERE)[0]
    missed = summarize([{RATE: 10.0}, {RATE: 149.0}, {RATE: 900.0}], GOALS_HERE)[0]
    assert met.verdict == "met"
    assert missed.verdict == "not met"


def test_a_bound_itself_meets_the_goal_either_way():
    assert Goal("<=", 3.0).met(3.0) and Goal(">=", 150.0).met(150.0)
    assert not Goal("<=", 3.0).met(3.01) and not Goal(">=", 150.0).met(149.9)


def test_an_even_number_of_runs_takes_the_mean_of_the_middle_two():
    row = summarize([{COST: 2.0}, {COST: 4.0}], GOALS_HERE)[0]
    assert row.median == 3.0
    assert row.verdict == "met"


def test_a_figure_without_a_goal_has_no_verdict():
    row = summarize([{"bench: other": 1.0}], GOALS_HERE)[0]
    assert row.goal is None and row.verdict == ""


def test_a_run_missing_a_figure_leaves_a_gap_and_the_others_count():
    row = summarize([{COST: 2.0}, {}, {COST: 4.0}], GOALS_HERE)[0]
    assert row.values == (2.0, None, 4.0)
    assert (row.low, row.median, row.high) == (2.0, 3.0, 4.0)


def test_a_goal_of_a_benchmark_that_ran_but_reported_nothing_shows_as_such():
    rows = summarize([{}, {}], GOALS_HERE, benchmarks=["bench"])
    assert [(row.name, row.verdict) for row in rows] == [(COST, "no figure"), (RATE, "no figure")]
    assert summarize([{}], GOALS_HERE, benchmarks=["other"]) == []


def test_the_table_has_a_column_per_run_and_the_verdict():
    text = table(summarize([{COST: 2.0, RATE: 1000.0}, {COST: 4.0, RATE: 2000.0}], GOALS_HERE))
    header, cost, rate = text.splitlines()
    assert header.split() == ["figure", "run1", "run2", "min", "median", "max", "goal"]
    assert cost.split()[3:] == ["2.00", "4.00", "2.00", "3.00", "4.00", "<=", "3.00", "met"]
    assert "1,500" in rate and rate.endswith(">= 150 met")


def test_every_goal_names_a_benchmark_that_exists():
    from bench.__main__ import BENCHMARKS

    assert {name.split(":", 1)[0] for name in GOALS} <= set(BENCHMARKS)
