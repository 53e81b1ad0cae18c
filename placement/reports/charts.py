"""Charts as SVG images in the page, written directly: a horizontal bar chart is a few
rectangles and words, and drawing each through a plotting library (its layout engine,
its ticks, its SVG backend) cost a tenth of a second a chart, most of an HTML report.

A chart is an `<img>` whose source is its SVG as a `data:` URI, so nothing in the page
itself needs an inline style the pages' Content-Security-Policy forbids. The image's text
alternative names the chart, and the table beside it holds the same figures.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence

from markupsafe import Markup, escape

BAR = "#1d70b8"
"""GOV.UK blue."""
INK = "#0b0c0c"
"""GOV.UK text colour, for words and axes."""

FONT_SIZE = 12
CHAR_WIDTH = 0.55 * FONT_SIZE
"""A generous average width of a character, to leave room for the longest label."""
ROW = 24
PLOT_WIDTH = 300
MARGIN = 8
AXIS_HEIGHT = 40
"""Room under the bars for the tick labels and the unit."""


def nice_step(largest: float, ticks: int = 4) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about `ticks` steps up to
    `largest`, so the axis reads in round numbers."""
    if largest <= 0:
        return 1.0
    rough = largest / ticks
    power = 10 ** math.floor(math.log10(rough))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= rough)


def _number(value: float) -> str:
    return f"{value:.10g}"


def svg(labels: Sequence[str], values: Sequence[float | None], unit: str) -> str:
    """The chart's SVG: one bar a label, top to bottom; a withheld value has no bar."""
    label_width = max((len(label) for label in labels), default=0) * CHAR_WIDTH
    left = MARGIN + label_width + MARGIN
    width = left + PLOT_WIDTH + 3 * MARGIN
    height = MARGIN + ROW * len(labels) + AXIS_HEIGHT
    bottom = MARGIN + ROW * len(labels)
    step = nice_step(max((v or 0 for v in values), default=0))
    top = step * max(1, math.ceil(max((v or 0 for v in values), default=0) / step))
    scale = PLOT_WIDTH / top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}" '
        f'viewBox="0 0 {width:.0f} {height}" font-family="Arial, sans-serif" '
        f'font-size="{FONT_SIZE}" fill="{INK}">'
    ]
    for row, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = MARGIN + row * ROW
        parts.append(
            f'<text x="{left - MARGIN:.1f}" y="{y + ROW / 2:.1f}" text-anchor="end" '
            f'dominant-baseline="middle">{escape(label)}</text>'
        )
        if value:
            parts.append(
                f'<rect x="{left:.1f}" y="{y + 4}" width="{value * scale:.1f}" '
                f'height="{ROW - 8}" fill="{BAR}"/>'
            )
    parts.append(
        f'<path d="M{left:.1f} {MARGIN}V{bottom}H{left + PLOT_WIDTH:.1f}" '
        f'stroke="{INK}" fill="none"/>'
    )
    for i in range(round(top / step) + 1):
        x = left + i * step * scale
        parts.append(f'<path d="M{x:.1f} {bottom}v4" stroke="{INK}"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{_number(i * step)}</text>'
        )
    parts.append(
        f'<text x="{left + PLOT_WIDTH / 2:.1f}" y="{bottom + 34}" '
        f'text-anchor="middle">{escape(unit)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    title: str, labels: Sequence[str], values: Sequence[float | None], unit: str
) -> Markup:
    """A horizontal bar chart as an `<img>` of its SVG; a withheld value is drawn as no bar."""
    image = svg(labels, values, unit)
    source = "data:image/svg+xml;base64," + base64.b64encode(image.encode()).decode("ascii")
    alt = f"Bar chart: {title} ({unit}). The table beside it gives the same figures."
    return Markup(f'<img src="{source}" alt="{escape(alt)}">')
