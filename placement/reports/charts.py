"""Charts as inline SVG, drawn by matplotlib (its SVG backend, no pyplot and no display).

Text stays text (`svg.fonttype: none`), so the page's own font renders it and screen
readers and search find it; each chart carries a title for assistive technology, and the
table beside it holds the same figures.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from matplotlib import rc_context
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure as Chart

BAR = "#1d70b8"
"""GOV.UK blue."""


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float | None], unit: str) -> str:
    """A horizontal bar chart as an `<svg>` element; a withheld value is drawn as no bar."""
    with rc_context({"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "part4"}):
        chart = Chart(figsize=(5.2, 0.32 * len(labels) + 0.9))
        FigureCanvasSVG(chart)
        axes = chart.add_subplot()
        positions = range(len(labels))
        axes.barh(positions, [v or 0 for v in values], color=BAR)
        axes.set_yticks(list(positions), labels=list(labels))
        axes.invert_yaxis()
        axes.set_xlabel(unit)
        axes.spines[["top", "right"]].set_visible(False)
        chart.tight_layout()
        buffer = io.StringIO()
        chart.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    label = title.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    svg = re.sub(r"<svg ", f'<svg role="img" aria-label="{label}" ', svg, count=1)
    return re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
