"""`placement simulate` and `placement what-if` on the demo registry: one JSON line per
policy, the same for the same seeds, and bad options answered with what is wrong."""

from __future__ import annotations

import json

from click.testing import CliRunner, Result

from placement.cli import main

FIELDS = {
    "policy",
    "placed",
    "weighted_placed",
    "hindsight_bound",
    "ratio",
    "gain_vs_fcfs_pct",
    "time_to_placement_days",
    "unmet_by_reason",
    "occupancy",
    "cross_border",
    "perpetrator_moves",
}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def lines(result: Result) -> list[dict[str, object]]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_simulate_prints_one_json_line_per_policy_against_the_bound() -> None:
    args = ("simulate", "--scale", "demo", "--days", "30", "--policy", "fcfs,batch+perp", "--json")
    rows = lines(invoke(*args))
    assert [r["policy"] for r in rows] == ["fcfs", "batch+perp"]
    for row in rows:
        assert set(row) >= FIELDS
        assert isinstance(row["ratio"], float) and 0 < row["ratio"] <= 1
        groups = row["time_to_placement_days"]
        assert isinstance(groups, dict)
        assert set(groups) == {"all", "nrpf", "wheelchair", "large_family", "boy_over_12"}
    assert rows[0]["gain_vs_fcfs_pct"] == 0.0
    again = lines(invoke(*args))
    for first, second in zip(rows, again, strict=True):
        first.pop("seconds_per_run")
        second.pop("seconds_per_run")
        assert first == second


def test_simulate_in_words_names_each_policy() -> None:
    result = invoke("simulate", "--days", "10", "--policy", "fcfs", "--no-hindsight")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("fcfs: placed ")
    assert "no hindsight bound" in result.stdout


def test_what_if_adding_units_reports_differences_with_intervals() -> None:
    result = invoke(
        "what-if",
        "--days",
        "20",
        "--seeds",
        "2",
        "--add",
        "3",
        "--authority",
        "E08000003",
        "--features",
        "wheelchair,step_free",
        "--json",
    )
    [row] = lines(result)
    assert row["policy"] == "batch" and row["seeds"] == 2
    placed = row["placed"]
    assert isinstance(placed, dict)
    low, high = placed["interval_95"]
    assert low <= placed["difference"] <= high


def test_bad_options_say_what_is_wrong() -> None:
    unknown_policy = invoke("simulate", "--policy", "lottery")
    assert unknown_policy.exit_code == 2 and "lottery" in unknown_policy.stderr
    two_changes = invoke("what-if", "--add", "1", "--remove", "1", "--authority", "E08000003")
    assert two_changes.exit_code == 2 and "exactly one" in two_changes.stderr
    nowhere = invoke("what-if", "--add", "1", "--authority", "W06000015")
    assert nowhere.exit_code == 2 and "--authority" in nowhere.stderr
    feature = invoke("what-if", "--add", "1", "--authority", "E08000003", "--features", "lift")
    assert feature.exit_code == 2 and "'lift'" in feature.stderr
    protocol = invoke("what-if", "--join", "Nope", "--authority", "E08000003")
    assert protocol.exit_code == 2 and "no protocol of that name" in protocol.stderr
