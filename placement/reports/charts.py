"""Charts as SVG inside the page, drawn by matplotlib (its SVG backend, no pyplot and no
display).

A chart is an `<img>` whose source is its SVG as a `data:` URI: matplotlib's SVG styles
its shapes inline, which the pages' Content-Security-Policy (no inline style) would
block in the page itself but not inside an image. The image's text alternative names the
chart, and the table beside it holds the same figures.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Sequence

from markupsafe import Markup, escape
from matplotlib import rc_context
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure as Chart

BAR = "#1d70b8"
"""GOV.UK blue."""


def bar_chart(
    title: str, labels: Sequence[str], values: Sequence[float | None], unit: str
) -> Markup:
    """A horizontal bar chart as an `<img>` of its SVG; a withheld value is drawn as no bar."""
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
    svg = re.sub(r"<metadata>.*?</metadata>", "", buffer.getvalue(), flags=re.S)
    source = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
    alt = f"Bar chart: {title} ({unit}). The table beside it gives the same figures."
    return Markup(f'<img src="{source}" alt="{escape(alt)}">')
