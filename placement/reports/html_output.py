"""The report as a readable page: each table beside its chart, the rules at the top.

The report's content (`part4_body.html`, GOV.UK Frontend's classes) is shown inside the
pages' layout on the commissioner's report page (`body`), and on a page of its own for
the API's `format=html` (`render`). No JavaScript and nothing inline to allow: a chart is
an image of its SVG (`placement.reports.charts`), the styles are the service's own
stylesheets.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from placement.reports.categories import words
from placement.reports.charts import bar_chart
from placement.reports.csv_output import cell
from placement.reports.part4 import PublishedTable, Report

GRID_LIMIT = 12
"""A two-way table with up to this many columns is drawn as a grid; wider ones as a list."""

_env = Environment(
    loader=PackageLoader("placement.reports", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class View:
    table: PublishedTable
    layout: str
    """`list` (one row per cell), `grid` (rows by columns) or `pairs` (several breakdowns)."""
    rows: list[list[str]]
    header: list[str]
    chart: Markup | None


def _view(table: PublishedTable, names: dict[str, str]) -> View:
    figures = table.figures
    if len(table.breakdown) == 1:
        rows = [[words(k[0], names), cell(f)] for k, f in figures.items()]
        shown = [(words(k[0], names), f) for k, f in figures.items() if k[0] != "total"]
        chart = None
        if any(f.value for _, f in shown):
            chart = bar_chart(
                table.title, [s for s, _ in shown], [f.value for _, f in shown], table.unit
            )
        return View(table, "list", rows, [table.breakdown[0].replace("_", " "), table.unit], chart)
    columns = list(dict.fromkeys(k[1] for k in figures))
    if len(table.breakdown) == 2 and len(columns) <= GRID_LIMIT:
        row_keys = list(dict.fromkeys(k[0] for k in figures))
        grid = [
            [
                words(r, names),
                *(cell(figures[(r, c)]) if (r, c) in figures else "" for c in columns),
            ]
            for r in row_keys
        ]
        header = [table.breakdown[0].replace("_", " "), *(words(c, names) for c in columns)]
        return View(table, "grid", grid, header, None)
    rows = [[*(words(part, names) for part in k), cell(f)] for k, f in figures.items()]
    return View(
        table, "pairs", rows, [*(b.replace("_", " ") for b in table.breakdown), table.unit], None
    )


def body(report: Report) -> Markup:
    """The report's content, for a page's layout to hold."""
    views = [_view(t, report.names) for t in report.tables]
    return Markup(_env.get_template("part4_body.html").render(report=report, views=views))


def render(report: Report) -> str:
    """The report as a page of its own."""
    return _env.get_template("part4.html").render(report=report, body=body(report))
