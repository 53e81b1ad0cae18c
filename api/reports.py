"""/api/v1/reports/part4: the commissioner's Part 4 report, as JSON, CSV or a page.

Aggregates only: every figure has been through the disclosure control
(`placement.reports.disclosure`); no record of a person leaves. Commissioners get their
own area, admins any (`placement.reports.area`).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Litestar, Response, get
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Schema
from litestar.params import QueryParameter
from msgspec import Meta

from api.auth import allow
from api.common import provide
from api.openapi import problem_response
from placement.enums import Role
from placement.reports import csv_output, html_output
from placement.reports.part4 import Report, ReportService

COMMISSIONERS = allow(Role.ADMIN, Role.COMMISSIONER)


class Format(enum.StrEnum):
    JSON = "json"
    CSV = "csv"
    HTML = "html"


class FigureView(msgspec.Struct):
    """One cell of a table: its categories and its figure, or the marker standing for it."""

    category: Annotated[
        list[str],
        Meta(description="the cell's category code in each breakdown (`total` for a total)"),
    ]
    value: Annotated[
        int | float | None,
        Meta(description="the figure, or null where `marker` stands for it"),
    ]
    marker: Annotated[
        str | None,
        Meta(description="`[c]` withheld to protect small counts, `[z]` not applicable, or null"),
    ]


class TableView(msgspec.Struct):
    """One measure of the report."""

    measure: Annotated[str, Meta(description="the measure's stable code")]
    title: Annotated[str, Meta(description="the measure, in words")]
    unit: Annotated[str, Meta(description="what the figures count or measure")]
    breakdown: Annotated[
        list[str], Meta(description="what the categories are, one name per breakdown")
    ]
    note: Annotated[str, Meta(description="how the measure is counted")]
    figures: Annotated[list[FigureView], Meta(description="every cell, totals included")]


class ReportView(msgspec.Struct):
    """The Part 4 report of an area over a period, as it may be published."""

    area_kind: Annotated[str, Meta(description="`authority`, `region`, `group` or `national`")]
    area_code: Annotated[str, Meta(description="the authority's code, or the area's name")]
    area_name: Annotated[str, Meta(description="the area, in words")]
    period_from: Annotated[date, Meta(description="the first day reported on")]
    period_to: Annotated[date, Meta(description="the last day reported on")]
    rounded: Annotated[bool, Meta(description="whether figures are rounded to the nearest 10")]
    generated_at: Annotated[datetime, Meta(description="when the report was computed (UTC)")]
    rules: Annotated[list[str], Meta(description="the disclosure control applied, in words")]
    names: Annotated[
        dict[str, str], Meta(description="authorities' and protocols' names by code or id")
    ]
    tables: Annotated[list[TableView], Meta(description="each measure")]


def view(report: Report) -> ReportView:
    area = report.area
    return ReportView(
        area_kind=area.kind,
        area_code=area.code,
        area_name=area.name,
        period_from=report.period.start,
        period_to=report.period.end,
        rounded=area.rounded,
        generated_at=report.generated_at,
        rules=list(report.rules),
        names=report.names,
        tables=[
            TableView(
                measure=t.code,
                title=t.title,
                unit=t.unit,
                breakdown=list(t.breakdown),
                note=t.note,
                figures=[FigureView(list(k), f.value, f.marker) for k, f in t.figures.items()],
            )
            for t in report.tables
        ],
    )


class ReportController(Controller):
    path = "/reports"
    tags = ["reports"]
    dependencies = {"service": provide(ReportService)}

    @get(
        "/part4",
        guards=[COMMISSIONERS],
        summary="The Part 4 report of an area over whole quarters",
        description="Counts of 1 to 4, and any count that would reveal one, are `[c]`; "
        "regional, group and national figures are rounded to the nearest 10. `format=csv` "
        "gives one tidy row per figure, `format=html` a page with charts.",
        responses={404: problem_response(404), 422: problem_response(422)},
    )
    async def part4(
        self,
        service: NamedDependency[ReportService],
        authority: Annotated[
            str | None,
            QueryParameter(description="an authority's ONS code", max_length=9, min_length=9),
        ] = None,
        region: Annotated[
            str | None,
            QueryParameter(
                description="an English region, a group (Greater Manchester) or England",
                max_length=120,
                min_length=1,
            ),
        ] = None,
        start: Annotated[
            date | None,
            QueryParameter(name="from", description="first day of a quarter; default: a year back"),
        ] = None,
        end: Annotated[
            date | None,
            QueryParameter(
                name="to", description="last day of an ended quarter; default: the latest"
            ),
        ] = None,
        format: Annotated[Format, QueryParameter(description="json, csv or html")] = Format.JSON,
    ) -> Response[Any]:
        report = await service.part4(authority=authority, region=region, start=start, end=end)
        if format is Format.CSV:
            name = f"part4-{report.area.code}-{report.period.start}-{report.period.end}.csv"
            return Response(
                csv_output.render(report),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        if format is Format.HTML:
            return Response(html_output.render(report), media_type="text/html; charset=utf-8")
        return Response(view(report))


def document_report_formats(app: Litestar) -> None:
    """Say in the OpenAPI that the report's 200 also comes as CSV and as an HTML page.

    Litestar documents one media type per response; `format=csv|html` answers in the
    others, and a client (or the contract fuzz) must find them documented. The schema is
    built once and kept, so this adds them to it after the routes are registered.
    """
    paths = app.openapi_schema.paths or {}
    operation = paths[f"/api/v1{ReportController.path}/part4"].get
    assert operation is not None and operation.responses is not None
    ok = operation.responses["200"]
    assert isinstance(ok, OpenAPIResponse) and ok.content is not None
    ok.content["text/csv"] = OpenAPIMediaType(
        schema=Schema(type=OpenAPIType.STRING, description="one tidy row per figure")
    )
    ok.content["text/html"] = OpenAPIMediaType(
        schema=Schema(type=OpenAPIType.STRING, description="the report as a page")
    )
