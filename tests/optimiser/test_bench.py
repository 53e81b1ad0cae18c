"""The benchmark runs end to end (its figures are quoted by hand, not asserted here)."""

import json

import pytest

from optimiser import bench


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
    } <= set(lines[0])
    assert lines[0]["weighted_placed"] >= lines[0]["greedy_weighted_placed"]
    assert "median_ms" in lines[1]


def test_text_output_and_bad_sizes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench, "OPTION_REQUESTS", 2)
    bench.main(["--sizes", "small", "--option-units", "1000"])
    assert "greedy" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        bench.main(["--sizes", "planet"])
