"""The benchmark runs end to end (its figures are quoted by hand, not asserted here)."""

import json

import pytest

from optimiser import bench
from optimiser.bench_instances import SIZES, instance
from optimiser.validation import validate_problem


def test_json_lines_have_the_agreed_keys(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench, "OPTION_REQUESTS", 5)
    bench.main(["--json", "--sizes", "small", "--time-limit", "10", "--option-units", "2000"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["instance"] for line in lines] == ["small", "options"]
    assert {
        "instance",
        "households",
        "units",
        "seconds",
        "status",
        "gap",
        "weighted_placed",
        "greedy_weighted_placed",
        "placed",
        "greedy_placed",
        "objective",
        "bound",
        "peak_rss_mb",
        "candidate_pairs",
    } <= set(lines[0])
    assert lines[0]["weighted_placed"] >= lines[0]["greedy_weighted_placed"]
    assert lines[0]["bound"] >= lines[0]["objective"] > 0
    assert lines[0]["candidate_pairs"] > 0 and lines[0]["peak_rss_mb"] > 0
    assert "median_ms" in lines[1]


def test_text_output_and_bad_sizes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench, "OPTION_REQUESTS", 2)
    bench.main(["--sizes", "small", "--option-units", "1000"])
    assert "greedy" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        bench.main(["--sizes", "planet"])


@pytest.mark.parametrize(("name", "scale"), [("national_x2.5", 2.5), ("national_x5", 5)])
def test_national_multiples_scale_people_and_register_on_one_geography(
    name: str, scale: float
) -> None:
    national, larger = SIZES["national"], SIZES[name]
    assert larger.households == scale * national.households
    assert larger.units == scale * national.units
    assert larger.rehousing_options == scale * national.rehousing_options
    assert (larger.regions, larger.authorities_per_region) == (
        national.regions,
        national.authorities_per_region,
    )
    problem = instance(name, seed=1)
    validate_problem(problem)
    assert len(problem.households) == larger.households
    assert len(problem.units) == larger.units
