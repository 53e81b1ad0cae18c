"""The report as CSV: one tidy row per (measure, breakdown, category), with stable codes,
to paste into the annual return. A two-way category is written `refuge:women`; the rules
of the disclosure control come first, as rows of the measure `disclosure_rules`."""

from __future__ import annotations

import csv
import io

from placement.reports.part4 import Report
from placement.reports.tables import Figure

COLUMNS = ("area", "from", "to", "measure", "breakdown", "category", "value", "unit")


def cell(figure: Figure) -> str:
    return figure.marker if figure.marker else str(figure.value)


def render(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    head = (report.area.code, report.period.start.isoformat(), report.period.end.isoformat())
    for number, rule in enumerate(report.rules, 1):
        writer.writerow((*head, "disclosure_rules", "rule", str(number), rule, ""))
    for table in report.tables:
        for key, figure in table.figures.items():
            writer.writerow(
                (
                    *head,
                    table.code,
                    ":".join(table.breakdown),
                    ":".join(key),
                    cell(figure),
                    table.unit,
                )
            )
    return out.getvalue()
