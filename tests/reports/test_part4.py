"""The Part 4 report over a history written through the API, on SQLite and PostgreSQL:
every figure reconciles with the raw rows (counted here, independently of the report's
code), no withheld figure can be recovered, and only the right keys get a report."""

from __future__ import annotations

import base64
import csv
import io
import re
import statistics
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from placement.enums import OfferStatus, ReferralOutcome, Role
from placement.models import Offer, Placement, Referral, ReferralCharacteristics, Scheme, Unit
from placement.reports.disclosure import round_to_ten
from placement.reports.period import Period
from tests.conftest import API, MANCHESTER, STOCKPORT, Actors, assert_problem
from tests.placing import db_all, settle_reads
from tests.reports.attack import recovered
from tests.reports.world import World, build

MAN, STO = MANCHESTER[0], STOCKPORT[0]


@pytest.fixture(scope="module")
def world(shared_actors: Actors) -> Iterator[World]:
    built = build(shared_actors)
    shared_actors.keys["commissioner_man"] = shared_actors.new_key(
        Role.COMMISSIONER, authority_code=MAN
    )
    shared_actors.keys["commissioner_sto"] = shared_actors.new_key(
        Role.COMMISSIONER, authority_code=STO
    )
    shared_actors.keys["commissioner_london"] = shared_actors.new_key(
        Role.COMMISSIONER, region="London"
    )
    yield built


def report(world: World, who: str, period: Period | None = None, **params: Any) -> dict[str, Any]:
    period = period or world.period
    query = {"from": period.start.isoformat(), "to": period.end.isoformat(), **params}
    response = world.actors.get(who, f"{API}/reports/part4", params=query)
    assert response.status_code == 200, response.text
    return dict(response.json())


def figures(document: dict[str, Any], measure: str) -> dict[tuple[str, ...], Any]:
    table = next(t for t in document["tables"] if t["measure"] == measure)
    return {
        tuple(f["category"]): (f["marker"] if f["marker"] else f["value"]) for f in table["figures"]
    }


def in_period(moment: datetime | date | None, period: Period) -> bool:
    if moment is None:
        return False
    day = moment.date() if isinstance(moment, datetime) else moment
    return period.start <= day <= period.end


def quarter_counts(
    rows: list[tuple[Any, tuple[str, ...], int]], period: Period, margins: int
) -> list[Counter[tuple[str, ...]]]:
    """Counts per quarter of (moment, key, weight) rows, with totals (margins: 0, 1 or 2)."""
    out = []
    for quarter in period.quarters:
        counts: Counter[tuple[str, ...]] = Counter()
        for moment, key, weight in rows:
            if in_period(moment, quarter):
                counts[key] += weight
                if margins == 1:
                    counts[("total",)] += weight
                if margins == 2:
                    counts[(key[0], "total")] += weight
                    counts[("total", key[1])] += weight
                    counts[("total", "total")] += weight
        out.append(counts)
    return out


def assert_reconciles(
    published: dict[tuple[str, ...], Any], quarters: list[Counter[tuple[str, ...]]], rounded: bool
) -> None:
    """Every shown figure is the true count (rounded where the area is); every count that
    is 1 to 4 in any quarter is withheld; nothing is shown for a category with no cell."""
    total: Counter[tuple[str, ...]] = Counter()
    for quarter in quarters:
        total.update(quarter)
    for key in total:
        assert key in published, key
    for key, value in published.items():
        if value == "[c]":
            continue
        expected = round_to_ten(total[key]) if rounded else total[key]
        assert value == expected, (key, value, total[key])
        assert not any(0 < q[key] < 5 for q in quarters), (key, value)


def raw(world: World) -> dict[str, list[tuple[Any, tuple[str, ...], int]]]:
    """The history's rows, read straight from the tables, as (moment, key, weight)."""
    settings = world.actors.settings
    stays = db_all(
        settings,
        select(
            Placement.moved_in_at,
            Placement.moved_out_at,
            Placement.move_out_reason,
            Scheme.authority_code,
            Scheme.scheme_type,
            Referral.authority_code,
            ReferralCharacteristics.women,
            ReferralCharacteristics.men,
            ReferralCharacteristics.trans_adults,
            ReferralCharacteristics.other_adults,
            ReferralCharacteristics.children,
        )
        .join(Unit, Unit.id == Placement.unit_id)
        .join(Scheme, Scheme.id == Unit.scheme_id)
        .join(Referral, Referral.id == Placement.referral_id)
        .join(ReferralCharacteristics, ReferralCharacteristics.referral_id == Referral.id),
    )
    referrals = db_all(
        settings,
        select(
            Referral.referred_on,
            Referral.risk_level,
            Referral.authority_code,
            Referral.outcome,
            Referral.outcome_at,
            Referral.unable_reason,
        ),
    )
    offers = db_all(
        settings,
        select(Offer.decided_at, Offer.decline_reason, Offer.status, Referral.authority_code).join(
            Referral, Referral.id == Offer.referral_id
        ),
    )
    groups = ("women", "men", "trans_adults", "other_adults", "children")
    return {
        "referrals_received": [
            (day, (str(risk),), 1) for day, risk, code, *_ in referrals if code == MAN
        ],
        "unable_to_support": [
            (at, (str(reason),), 1)
            for _, _, code, outcome, at, reason in referrals
            if code == MAN and outcome == ReferralOutcome.UNABLE_TO_SUPPORT
        ],
        "offers_declined": [
            (at, (str(reason),), 1)
            for at, reason, status, code in offers
            if code == MAN and status == OfferStatus.DECLINED
        ],
        "households_supported": [
            (moved_in, (str(kind),), 1) for moved_in, _, _, where, kind, *_ in stays if where == MAN
        ],
        "support_ended": [
            (moved_out, (str(reason),), 1)
            for _, moved_out, reason, where, *_ in stays
            if where == MAN and moved_out
        ],
        "individuals_supported": [
            (row[0], (str(row[4]), group), row[6 + i])
            for row in stays
            if row[3] == MAN
            for i, group in enumerate(groups)
        ],
        "cross_border_flows": [
            (row[0], (row[5], row[3]), 1)
            for row in stays
            if row[5] != row[3] and MAN in (row[5], row[3])
        ],
    }


MARGINS = {
    "referrals_received": 1,
    "unable_to_support": 1,
    "offers_declined": 1,
    "households_supported": 1,
    "support_ended": 1,
    "individuals_supported": 2,
}


def test_every_figure_reconciles_with_the_raw_rows(world: World) -> None:
    document = report(world, "commissioner_man")
    assert (document["area_code"], document["rounded"]) == (MAN, False)
    rows = raw(world)
    for measure, margins in MARGINS.items():
        assert_reconciles(
            figures(document, measure), quarter_counts(rows[measure], world.period, margins), False
        )
    # Flows: each pair, and Manchester's totals out and in.
    flows = figures(document, "cross_border_flows")
    pairs = quarter_counts(rows["cross_border_flows"], world.period, 0)
    for quarter in pairs:
        quarter[(MAN, "total")] = sum(v for k, v in quarter.items() if k[0] == MAN)
        quarter[("total", MAN)] = sum(v for k, v in quarter.items() if k[1] == MAN)
    assert_reconciles(flows, pairs, False)
    assert flows[(STO, MAN)] == "[c]" and flows[(MAN, STO)] == "[c]"
    # The history has small cells, and they are withheld.
    assert figures(document, "households_supported")[("dispersed_accommodation",)] == "[c]"
    # In the latest quarter 10 began in refuges and 2 in dispersed accommodation: the 2 is
    # withheld, so the 10 must be too (the total would give it back); the total is shown.
    latest = figures(report(world, "commissioner_man", world.latest), "households_supported")
    assert (latest[("refuge",)], latest[("total",)]) == ("[c]", 12)


def test_provision_and_stays_reconcile(world: World) -> None:
    document = report(world, "commissioner_man", world.latest)
    settings = world.actors.settings
    units = db_all(
        settings,
        select(Scheme.scheme_type, Unit.bed_spaces)
        .join(Scheme, Scheme.id == Unit.scheme_id)
        .where(Scheme.authority_code == MAN),
    )
    provision = figures(document, "provision")
    assert provision[("refuge", "units")] == sum(1 for k, _ in units if k == "refuge")
    assert provision[("refuge", "bed_spaces")] == sum(b for k, b in units if k == "refuge")
    assert provision[("total", "units")] == len(units)
    stays = db_all(
        settings,
        select(Referral.referred_on, Placement.moved_in_at)
        .join(Referral, Referral.id == Placement.referral_id)
        .join(Unit, Unit.id == Placement.unit_id)
        .join(Scheme, Scheme.id == Unit.scheme_id)
        .where(Scheme.authority_code == MAN),
    )
    waits = [float((m.date() - r).days) for r, m in stays if in_period(m, world.latest)]
    times = figures(document, "time_to_placement")
    assert times[("all", "median")] == round(statistics.median(waits), 1)
    assert times[("nrpf", "median")] == "[z]"


def test_occupancy_reconciles_with_units_and_stays(world: World) -> None:
    """Occupied unit-nights over the unit-nights the area's units were registered, per
    type, from the raw rows (in seconds, as floats: the report's own arithmetic differs)."""
    period = world.period
    since = datetime.combine(period.start, datetime.min.time(), UTC)
    until = datetime.combine(period.end, datetime.min.time(), UTC) + timedelta(days=1)

    def seconds(start: datetime, end: datetime | None) -> float:
        return max((min(end or until, until) - max(start, since)).total_seconds(), 0.0)

    settings = world.actors.settings
    units = db_all(
        settings,
        select(Scheme.scheme_type, Unit.created_at, Unit.retired_at)
        .join(Scheme, Scheme.id == Unit.scheme_id)
        .where(Scheme.authority_code == MAN),
    )
    stays = db_all(
        settings,
        select(Scheme.scheme_type, Placement.moved_in_at, Placement.moved_out_at)
        .join(Unit, Unit.id == Placement.unit_id)
        .join(Scheme, Scheme.id == Unit.scheme_id)
        .where(Scheme.authority_code == MAN),
    )
    occupancy = figures(report(world, "commissioner_man"), "occupancy")
    kinds = {str(kind) for kind, *_ in units}
    assert kinds and set(occupancy) > {(kind,) for kind in kinds}
    for (kind,), shown in occupancy.items():
        nights = sum(seconds(c, r) for k, c, r in units if k == kind)
        lived = [(i, o) for k, i, o in stays if k == kind and i < until and (o or until) >= since]
        if not nights:
            assert shown == "[z]", kind
        elif 0 < len(lived) < 5:
            assert shown == "[c]", kind
        else:
            share = 100 * sum(seconds(i, o) for i, o in lived) / nights
            assert shown == round(share, 1), (kind, shown, share)
    assert any(isinstance(v, float) and v > 0 for v in occupancy.values())


def test_group_figures_are_rounded_to_ten(world: World) -> None:
    document = report(world, "commissioner")
    assert (document["area_kind"], document["rounded"]) == ("group", True)
    rows = raw(world)
    referrals = db_all(world.actors.settings, select(Referral.referred_on, Referral.risk_level))
    quarters = quarter_counts([(day, (str(risk),), 1) for day, risk in referrals], world.period, 1)
    assert_reconciles(figures(document, "referrals_received"), quarters, True)
    for table in document["tables"]:
        if (
            table["unit"] in ("households", "individuals")
            and table["measure"] != "protocol_ledgers"
        ):
            for figure in table["figures"]:
                assert figure["value"] is None or figure["value"] % 10 == 0, (table, figure)
    assert rows  # the history is there


def attack_tables(document: dict[str, Any]) -> Iterator[tuple[str, dict[Any, Any], list[Any]]]:
    """Each one- or two-way count table's shown values and its relations."""
    for table in document["tables"]:
        cells = {tuple(f["category"]): f["value"] for f in table["figures"]}
        if len(table["breakdown"]) == 1 and ("total",) in cells:
            parts = [k for k in cells if k != ("total",)]
            yield table["measure"], cells, [(("total",), parts)]
        elif table["measure"] == "individuals_supported":
            rows = {k[0] for k in cells} - {"total"}
            cols = {k[1] for k in cells} - {"total"}
            relations: list[Any] = [((r, "total"), [(r, c) for c in cols]) for r in rows]
            relations += [(("total", c), [(r, c) for r in rows]) for c in cols]
            relations.append((("total", "total"), [("total", c) for c in cols]))
            yield table["measure"], cells, relations


def test_no_withheld_figure_can_be_recovered_within_across_or_between_reports(
    world: World,
) -> None:
    earlier = Period(world.period.start, world.period.quarters[0].end)
    whole = report(world, "commissioner_man")
    parts = [report(world, "commissioner_man", q) for q in (earlier, world.latest)]
    withheld = 0
    for document in [whole, *parts]:
        for measure, cells, relations in attack_tables(document):
            withheld += sum(v is None for v in cells.values())
            assert recovered(cells, relations) == {}, (measure, cells)
    assert withheld > 0
    # Overlapping periods: the whole period is the sum of its quarters, cell by cell.
    for (measure, cells, relations), *quarters in zip(
        attack_tables(whole), *(attack_tables(p) for p in parts), strict=True
    ):
        shown: dict[Any, Any] = {("all", k): v for k, v in cells.items()}
        joint: list[Any] = [(("all", t), [("all", p) for p in ps]) for t, ps in relations]
        for index, (_, q_cells, q_relations) in enumerate(quarters):
            shown |= {(index, k): v for k, v in q_cells.items()}
            joint += [((index, t), [(index, p) for p in ps]) for t, ps in q_relations]
        joint += [(("all", k), [(i, k) for i in range(len(quarters))]) for k in cells]
        assert recovered(shown, joint) == {}, measure
    # Nested areas: the group's rounded figures over both authorities' exact ones.
    group = report(world, "admin", region="Greater Manchester")
    stockport = report(world, "admin", authority=STO)
    for (measure, g_cells, _), (_, m_cells, m_rel), (_, s_cells, s_rel) in zip(
        attack_tables(group), attack_tables(whole), attack_tables(stockport), strict=True
    ):
        shown = {
            ("gm", k): (None if v is None else (max(v - 5, 0), v + 4)) for k, v in g_cells.items()
        }
        shown |= {("m", k): v for k, v in m_cells.items()} | {
            ("s", k): v for k, v in s_cells.items()
        }
        joint = [(("m", t), [("m", p) for p in ps]) for t, ps in m_rel]
        joint += [(("s", t), [("s", p) for p in ps]) for t, ps in s_rel]
        joint += [(("gm", k), [("m", k), ("s", k)]) for k in g_cells]
        found: dict[Any, float] = recovered(shown, joint)
        assert not [k for k in found if k[0] in ("m", "s")], (measure, found)


def test_csv_is_one_tidy_row_per_figure(world: World) -> None:
    document = report(world, "commissioner_man")
    response = world.actors.get(
        "commissioner_man",
        f"{API}/reports/part4",
        params={
            "from": world.period.start.isoformat(),
            "to": world.period.end.isoformat(),
            "format": "csv",
        },
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == [
        "area",
        "from",
        "to",
        "measure",
        "breakdown",
        "category",
        "value",
        "unit",
    ]
    assert any(r["measure"] == "disclosure_rules" for r in rows)
    by_key = {(r["measure"], r["category"]): r["value"] for r in rows}
    for table in document["tables"]:
        for f in table["figures"]:
            expected = f["marker"] or str(f["value"])
            assert by_key[(table["measure"], ":".join(f["category"]))] == expected
    assert len(rows) == len(set((r["measure"], r["category"]) for r in rows))


def test_html_page_has_charts_beside_tables_and_no_script(world: World) -> None:
    response = world.actors.get(
        "commissioner_man", f"{API}/reports/part4", params={"format": "html"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src" not in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    page = response.text
    assert "<script" not in page and "<style" not in page and " style=" not in page
    charts = re.findall(
        r'<figure class="app-chart"><img src="data:image/svg\+xml;base64,([^"]+)"', page
    )
    assert charts and len(charts) == page.count("<img")
    assert all(b"<svg" in base64.b64decode(chart) for chart in charts)
    assert "Manchester" in page and "How small counts are protected" in page
    assert "Household declined" in page  # words, not codes


@pytest.mark.parametrize(
    ("who", "params", "status", "field"),
    [
        ("officer", {}, 403, None),
        ("provider_a", {}, 403, None),
        ("integration", {}, 403, None),
        ("commissioner_man", {"authority": STO}, 404, None),
        ("commissioner_man", {"region": "Greater Manchester"}, 404, None),
        ("commissioner", {"region": "London"}, 404, None),
        ("commissioner", {"authority": MAN}, 404, None),
        ("commissioner_london", {"region": "Greater Manchester"}, 404, None),
        ("admin", {"authority": "E99999999"}, 404, None),
        ("admin", {"from": "2026-02-01"}, 422, "from"),
        ("admin", {"to": "2026-05-31"}, 422, "to"),
        ("admin", {"to": "2099-12-31"}, 422, "to"),
        ("admin", {"from": "2026-04-01", "to": "2026-03-31"}, 422, "from"),
        ("admin", {"from": "yesterday"}, 400, "from"),
        ("admin", {"format": "xml"}, 400, "format"),
        ("admin", {"authority": MAN, "region": "London"}, 422, "region"),
    ],
)
def test_who_may_read_which_report(
    world: World, who: str, params: dict[str, str], status: int, field: str | None
) -> None:
    response = world.actors.get(who, f"{API}/reports/part4", params=params)
    assert_problem(response, status, field)


def test_every_report_request_is_audited_refused_ones_too(world: World) -> None:
    report(world, "commissioner_man")
    world.actors.get("commissioner_man", f"{API}/reports/part4", params={"authority": STO})
    settle_reads(world.actors)
    response = world.actors.get(
        "admin", f"{API}/audit", params={"record_type": "part4", "limit": 500}
    )
    events = response.json()["items"]
    assert any(e["record_id"] == STO and e["action"] == "report" for e in events)
    assert any(e["record_id"] is None for e in events)


def test_protocol_ledger_counts_the_placements(world: World) -> None:
    response = world.actors.get("officer", f"{API}/protocols/{world.protocol_id}/ledger")
    assert response.status_code == 200, response.text
    lines = {line["authority_code"]: line for line in response.json()["lines"]}
    stays = db_all(
        world.actors.settings,
        select(Referral.authority_code, Scheme.authority_code, Placement.moved_in_at)
        .join(Referral, Referral.id == Placement.referral_id)
        .join(Unit, Unit.id == Placement.unit_id)
        .join(Scheme, Scheme.id == Unit.scheme_id),
    )
    since = datetime.now(UTC).timestamp() - 365 * 86400
    flows = Counter((s, r) for s, r, at in stays if s != r and at.timestamp() >= since)
    for code, other in ((MAN, STO), (STO, MAN)):
        line = lines[code]
        assert (line["sent"], line["received"]) == (flows[(code, other)], flows[(other, code)])
        assert line["balance"] == line["sent"] - line["received"]
        assert line["headroom"] == max(5 - line["balance"], 0) and line["cap"] == 5
    for who, status in (("provider_a", 403), ("commissioner_london", 403), ("commissioner", 200)):
        answer = world.actors.get(who, f"{API}/protocols/{world.protocol_id}/ledger")
        assert answer.status_code == status, (who, answer.text)
    missing = world.actors.get("admin", f"{API}/protocols/{uuid.uuid4()}/ledger")
    assert_problem(missing, 404)


@pytest.mark.parametrize("path", ["/referrals", "/offers", "/placements", "/audit"])
def test_commissioners_get_no_person_level_record(world: World, path: str) -> None:
    for who in ("commissioner_man", "commissioner"):
        response = world.actors.get(who, f"{API}{path}")
        assert response.status_code == 403, (who, path, response.text)
