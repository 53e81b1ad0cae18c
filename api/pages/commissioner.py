"""The commissioner's pages: the reports they may read (aggregates only), as pages.

The Part 4 report is the same one `/api/v1/reports/part4` gives (the same service, the
same area rules, the same audit), reached with the person's session rather than a key:
a period picker on the landing page, then the report's own page or its CSV.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template

from api.auth import allow
from api.common import provide
from api.pages.rendering import page
from placement.enums import Role
from placement.errors import InvalidInput
from placement.reports import csv_output, html_output
from placement.reports.part4 import ReportService
from placement.reports.period import Period, last_ended_quarter, quarter_start

REPORT_PATH = "/commissioner/reports/part4"
"""The report's page, in the pages' layout and under their Content-Security-Policy."""
SINGLE_QUARTERS = 8
"""How many single ended quarters the period picker offers, besides the last four."""
COMMISSIONERS = allow(Role.COMMISSIONER, Role.ADMIN)


def period_choices(today: date) -> list[tuple[str, str]]:
    """(value, words) for the picker: the last four ended quarters, then single quarters,
    newest first. A value is `from/to`, both ISO dates on the quarter grid."""
    latest = last_ended_quarter(today)
    start = latest.start
    for _ in range(3):
        start = quarter_start(start - timedelta(days=1))
    choices = [
        (_value(Period(start, latest.end)), f"The last four quarters: {_words(start, latest.end)}")
    ]
    quarter = latest
    for _ in range(SINGLE_QUARTERS):
        choices.append((_value(quarter), _words(quarter.start, quarter.end)))
        end = quarter.start - timedelta(days=1)
        quarter = Period(quarter_start(end), end)
    return choices


def _value(period: Period) -> str:
    return f"{period.start.isoformat()}/{period.end.isoformat()}"


def _words(start: date, end: date) -> str:
    return f"{start.day} {start:%B %Y} to {end.day} {end:%B %Y}"


@get("/commissioner", guards=[COMMISSIONERS], include_in_schema=False)
async def landing(request: Request[Any, Any, Any]) -> Template:
    today = datetime.now(UTC).date()
    return page(
        request,
        "commissioner/landing.html",
        periods=period_choices(today),
        report_path=REPORT_PATH,
    )


@get(
    REPORT_PATH,
    guards=[COMMISSIONERS],
    include_in_schema=False,
    dependencies={"service": provide(ReportService)},
)
async def part4_report(
    request: Request[Any, Any, Any],
    service: NamedDependency[ReportService],
    period: FromQuery[str] = "",
    format: FromQuery[str] = "html",
) -> Response[str] | Template:
    """The report of the person's own area (an admin's: England) as a page or a CSV.

    A period that is not `from/to` on the quarter grid is refused by the report's own
    rules (a 422 page naming `from` or `to`), as the API refuses it.
    """
    start, end = _period(period)
    report = await service.part4(authority=None, region=None, start=start, end=end)
    if format == "csv":
        name = f"part4-{report.area.code}-{report.period.start}-{report.period.end}.csv"
        return Response(
            csv_output.render(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return page(
        request,
        "commissioner/part4.html",
        crumbs=[("Reports", "/commissioner")],
        report=report,
        body=html_output.body(report),
        csv_path=f"{REPORT_PATH}?{urlencode({'period': period, 'format': 'csv'})}",
    )


def _period(value: str) -> tuple[date | None, date | None]:
    """`from/to` as dates; empty for the default period (the last four quarters)."""
    if not value:
        return None, None
    start, _, end = value.partition("/")
    return _day(start, "from"), _day(end, "to")


def _day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field, "must be a date (YYYY-MM-DD)") from None
