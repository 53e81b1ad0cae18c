"""A chart is drawn once per set of figures: the same figures give the same image without
drawing again, and any change of figure, label, title or unit draws a new one."""

from __future__ import annotations

import base64
import re

from placement.reports import charts

LABELS = ["Refuge", "Dispersed accommodation", "Sanctuary scheme"]


def svg(markup: str) -> str:
    found = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', markup)
    assert found is not None
    return base64.b64decode(found.group(1)).decode()


def test_the_same_figures_are_drawn_once() -> None:
    first = charts.bar_chart("Households", LABELS, [120, None, 40], "households")
    drawn = charts._bar_chart.cache_info().misses
    again = charts.bar_chart("Households", list(LABELS), (120, None, 40), "households")
    assert again == first
    assert charts._bar_chart.cache_info().misses == drawn
    assert "<svg" in svg(first) and "Sanctuary scheme" in svg(first)
    charts.forget()
    assert charts.bar_chart("Households", LABELS, [120, None, 40], "households") == first
    assert charts._bar_chart.cache_info().misses == 1  # drawn anew, the same image


def test_other_figures_are_drawn_anew() -> None:
    base = charts.bar_chart("Households", LABELS, [120, None, 40], "households")
    others = [
        charts.bar_chart("Households", LABELS, [120, 30, 40], "households"),
        charts.bar_chart(
            "Households", ["Refuge", "Other", "Sanctuary scheme"], [120, None, 40], "households"
        ),
        charts.bar_chart("Individuals", LABELS, [120, None, 40], "households"),
        charts.bar_chart("Households", LABELS, [120, None, 40], "individuals"),
    ]
    assert len({str(c) for c in [base, *others]}) == 5  # the title is in the alt text
    assert len({svg(c) for c in [base, others[0], others[1], others[3]]}) == 4
    assert "Individuals" in others[2]
    assert "Other" in svg(others[1]) and "individuals" in svg(others[3])
