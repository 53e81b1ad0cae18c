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
from contextlib import AbstractContextManager
from functools import lru_cache

from markupsafe import Markup, escape
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure as Chart

BAR = "#1d70b8"
"""GOV.UK blue."""


CHARTS_KEPT = 256
"""Charts drawn lately, kept by their figures (some 30 kB each)."""


def bar_chart(
    title: str, labels: Sequence[str], values: Sequence[float | None], unit: str
) -> Markup:
    """A horizontal bar chart as an `<img>` of its SVG; a withheld value is drawn as no bar.

    Drawn once per set of figures: the same report read again (the page, then its HTML
    download; the same quarter asked for by the next commissioner) shows the same charts,
    and drawing is most of the page's time (some 40 ms a chart)."""
    return _bar_chart(title, tuple(labels), tuple(values), unit)


@lru_cache(maxsize=CHARTS_KEPT)
def _bar_chart(
    title: str, labels: tuple[str, ...], values: tuple[float | None, ...], unit: str
) -> Markup:
    with _style():
        chart, axes = _horizontal(labels)
        axes.barh(range(len(labels)), [v or 0 for v in values], color=BAR)
        axes.set_xlabel(unit)
        return _image(chart, f"Bar chart: {title} ({unit})")


def forget() -> None:
    """Forget the charts drawn, so the next are drawn anew (to measure drawing)."""
    _bar_chart.cache_clear()


def difference_chart(
    title: str,
    labels: Sequence[str],
    differences: Sequence[float],
    intervals: Sequence[tuple[float, float]],
    unit: str,
) -> Markup:
    """Each difference as a bar from zero with its interval as a line across its end
    (a what-if's change against the same years without it)."""
    with _style():
        chart, axes = _horizontal(labels)
        below = [d - low for d, (low, _) in zip(differences, intervals, strict=True)]
        above = [high - d for d, (_, high) in zip(differences, intervals, strict=True)]
        axes.barh(range(len(labels)), differences, color=BAR, xerr=[below, above], capsize=3)
        axes.axvline(0, color="#0b0c0c", linewidth=0.8)
        axes.set_xlabel(unit)
        return _image(chart, f"Bar chart with 95% intervals: {title} ({unit})")


def _style() -> AbstractContextManager[None]:
    """Text as text (the page's font, searchable), and the same SVG for the same figures."""
    return rc_context({"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "part4"})


def _horizontal(labels: Sequence[str]) -> tuple[Chart, Axes]:
    """A chart with one labelled row per label, top to bottom."""
    chart = Chart(figsize=(5.2, 0.32 * len(labels) + 0.9))
    FigureCanvasSVG(chart)
    axes = chart.add_subplot()
    positions = range(len(labels))
    axes.set_yticks(list(positions), labels=list(labels))
    axes.invert_yaxis()
    axes.spines[["top", "right"]].set_visible(False)
    return chart, axes


def _image(chart: Chart, description: str) -> Markup:
    """The chart as an `<img>` of its SVG, its text alternative pointing at the table."""
    chart.tight_layout()
    buffer = io.StringIO()
    chart.savefig(buffer, format="svg", metadata={"Date": None})
    svg = re.sub(r"<metadata>.*?</metadata>", "", buffer.getvalue(), flags=re.S)
    source = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
    alt = f"{description}. The table beside it gives the same figures."
    return Markup(f'<img src="{source}" alt="{escape(alt)}">')
