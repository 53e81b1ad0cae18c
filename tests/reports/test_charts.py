"""The report's bar charts, read back as SVG: a bar a shown figure, in proportion, on an
axis of round numbers; a withheld or zero figure has no bar."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

import pytest

from placement.reports.charts import bar_chart, nice_step, svg

NS = {"svg": "http://www.w3.org/2000/svg"}


@pytest.mark.parametrize(
    ("largest", "step"),
    [(0, 1), (3, 1), (8, 2), (37.5, 10), (120, 50), (999, 500), (0.3, 0.1)],
)
def test_axis_steps_are_round(largest: float, step: float) -> None:
    assert nice_step(largest) == pytest.approx(step)


def test_bars_are_in_proportion_and_withheld_figures_have_none() -> None:
    labels = ["Refuge", "Sanctuary <scheme> & more", "Dispersed", "Second stage"]
    root = ET.fromstring(svg(labels, [120, None, 30, 0], "households"))
    bars = root.findall("svg:rect", NS)
    assert len(bars) == 2
    widths = [float(b.attrib["width"]) for b in bars]
    assert widths[0] == pytest.approx(4 * widths[1])
    words = [t.text for t in root.findall("svg:text", NS)]
    assert words[:4] == labels  # escaped in the SVG, the same words read back
    assert words[4:-1] == ["0", "50", "100", "150"]
    assert words[-1] == "households"
    # The longest bar ends inside the axis, which ends at its last tick.
    ticks = [float(t.attrib["x"]) for t in root.findall("svg:text", NS)[4:-1]]
    assert float(bars[0].attrib["x"]) + widths[0] <= ticks[-1]
    assert float(root.attrib["width"]) > ticks[-1]


def test_a_chart_is_an_image_of_its_svg_named_for_people() -> None:
    image = bar_chart("Offers declined", ["Too far"], [7], "offers")
    source = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', image)
    assert source is not None
    assert ET.fromstring(base64.b64decode(source.group(1))).tag == "{http://www.w3.org/2000/svg}svg"
    assert 'alt="Bar chart: Offers declined (offers).' in image
