"""The provider's vacancy board: its schemes and units, their status, new schemes and
units, retiring a unit, and recording a household's move-out.

Every change goes through the API's own services and bodies (`SchemeService`,
`UnitService`, `PlacementService`; `SchemeCreate`, `UnitCreate`, `UnitUpdate`,
`MoveOut`), so their rules and words apply. What the page adds is the person's side:
a scheme's point is its postcode district's centre (people do not type coordinates),
the unit's version is carried in the form so a change made meanwhile by someone else is
caught, and explained in words, and the scheme's address is taken but never shown.

A change commits before redirecting to the board (Post/Redirect/Get), as the SQLAlchemy
plugin commits only 2xx responses; a refused form is shown again (422/409) and nothing
is written.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import PROVIDERS
from api.common import provide
from api.pages.forms import INVALID, FieldError, FormInvalid, read_form
from api.pages.provider import words
from api.pages.provider.forms import (
    REFUSALS,
    MoveOutForm,
    SchemeForm,
    StatusForm,
    UnitForm,
    errors_for,
)
from api.pages.rendering import page
from api.schemes import SchemeCreate, _normalise
from api.units import UnitCreate, UnitUpdate
from placement import geography
from placement.enums import (
    AccessFeature,
    GenderPolicy,
    MoveOutReason,
    OutOfServiceReason,
    RiskLevel,
    SchemeType,
    Support,
    UnitStatus,
)
from placement.errors import Conflict, InvalidInput
from placement.models import Authority, Placement, Unit
from placement.placements import PlacementService
from placement.registry.schemes import SchemeService
from placement.registry.units import UnitService
from placement.security import Principal

BOARD = "/provider"
CRUMBS = [("Home", "/"), ("Vacancies", BOARD)]
EVERYTHING = 500
"""Rows a board shows at most (the API's largest page); a provider has far fewer."""
NOTICES = {
    "scheme": "The scheme has been added.",
    "unit": "The unit has been added.",
    "status": "The unit's status has been changed.",
    "retired": "The unit has been retired.",
    "moved-out": "The move-out has been recorded and the unit is free again.",
}
"""What a redirect back to the board says happened (`?done=...`)."""
STALE = (
    "Someone else changed this unit after you opened this page. It is shown below as it "
    "is now: check it and make your change again."
)
SETTABLE = (UnitStatus.AVAILABLE, UnitStatus.OUT_OF_SERVICE)


def _conflict_words(exc: Conflict) -> str:
    """A refused unit change in words a person acts on, without ids or version numbers."""
    if "current_version" in exc.extra:
        return STALE
    if "retired" in exc.detail:
        return "This unit has been retired; it can no longer change."
    if "live offer" in exc.detail:
        return (
            "This unit is held by a live offer: its status follows the offer. Accept or "
            "decline the offer first."
        )
    if "current placement" in exc.detail:
        return (
            "A household lives in this unit: its status follows the placement. Record the "
            "move-out first."
        )
    return exc.detail


async def _authorities(db: AsyncSession) -> list[tuple[str, str]]:
    rows = await db.execute(select(Authority.code, Authority.name).order_by(Authority.name))
    return [(code, name) for code, name in rows.tuples()]


def _district_of(form: SchemeForm) -> geography.District:
    """The district whose centre is the scheme's point: the one named, or the postcode's."""
    named = (form.postcode_district or "").replace(" ", "").upper()
    if not named:
        postcode = geography.normalise_postcode(form.postcode)
        if postcode is None:
            raise InvalidInput("postcode", "Enter a full UK postcode, like M14 5AB")
        named = geography.outcode_of(postcode)
        field = "postcode"
    else:
        field = "postcode_district"
    district = geography.districts().get(named)
    if district is None or not district.in_england:
        raise InvalidInput(field, f"{named} is not a postcode district in England")
    return district


def scheme_body(form: SchemeForm, provider_id: uuid.UUID) -> SchemeCreate:
    """The API's body for the form: the point at the district's centre, the authority
    the one chosen or else the one at that centre."""
    district = _district_of(form)
    fields = msgspec.structs.asdict(form)
    del fields["postcode_district"]
    fields |= {
        "provider_id": provider_id,
        "authority_code": form.authority_code or district.authority_code,
        "latitude": district.latitude,
        "longitude": district.longitude,
    }
    try:
        return msgspec.convert(fields, SchemeCreate)
    except msgspec.ValidationError as exc:
        raise FormInvalid(errors_for(exc, SchemeForm)) from exc


def _in_words(
    refused: InvalidInput, district: str, authority_code: str, known: dict[str, str]
) -> InvalidInput:
    """The domain's refusal of a scheme's authority (its point, `district`'s centre, is
    not in it, or it is not registered), with names instead of ONS codes."""
    if refused.field != "authority_code":
        return refused
    if authority_code not in known:
        authority = geography.local_authorities().get(authority_code)
        where = authority.name if authority else "an authority"
        return InvalidInput(
            "authority_code",
            f"The centre of {district} is in {where}, which this service does not cover "
            "yet: choose the scheme's local authority",
        )
    return InvalidInput(
        "authority_code",
        f"The centre of {district} is not in {known[authority_code]}: choose the "
        "authority the scheme is in, or the district it is in",
    )


class VacancyPages(Controller):
    path = BOARD
    guards = [PROVIDERS]
    include_in_schema = False
    dependencies = {
        "schemes": provide(SchemeService),
        "units": provide(UnitService),
        "placements": provide(PlacementService),
    }

    @get("/")
    async def board(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        schemes: NamedDependency[SchemeService],
        units: NamedDependency[UnitService],
        placements: NamedDependency[PlacementService],
        db_session: NamedDependency[AsyncSession],
        done: FromQuery[str | None] = None,
    ) -> Template:
        mine = await schemes.list(
            provider_id=principal.provider_id,
            authority_code=None,
            scheme_type=None,
            gender_policy=None,
            postcode_district=None,
            include_retired=False,
            limit=EVERYTHING,
            offset=0,
        )
        rooms = await units.list(
            scheme_id=None,
            status=None,
            authority_code=None,
            scheme_type=None,
            min_bed_spaces=None,
            access_feature=None,
            include_retired=False,
            limit=EVERYTHING,
            offset=0,
        )
        living = await placements.list(current=True, limit=EVERYTHING, offset=0)
        authority_names = dict(await _authorities(db_session))
        by_scheme: dict[uuid.UUID, list[Unit]] = {}
        for unit in rooms.items:
            by_scheme.setdefault(unit.scheme_id, []).append(unit)
        return page(
            request,
            "provider/board.html",
            crumbs=[("Home", "/")],
            schemes=mine.items,
            units=by_scheme,
            placement_of={p.unit_id: p for p in living.items},
            authority_names=authority_names,
            notice=NOTICES.get(done or ""),
            words=words,
        )

    # -- schemes -----------------------------------------------------------------------
    @get("/schemes/new")
    async def new_scheme(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Template:
        return await self._scheme_form(request, db_session, {}, [])

    @post("/schemes/new")
    async def add_scheme(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        schemes: NamedDependency[SchemeService],
        db_session: NamedDependency[AsyncSession],
    ) -> Template | Redirect:
        assert principal.provider_id is not None  # a provider's principal has its provider
        try:
            form = await read_form(request, SchemeForm, SchemeForm.REQUIRED)
            body = scheme_body(form, principal.provider_id)
            try:
                await schemes.create(_normalise(msgspec.structs.asdict(body)))
            except InvalidInput as refused:
                known = dict(await _authorities(db_session))
                district = _district_of(form).outcode
                raise _in_words(refused, district, body.authority_code, known) from None
        except REFUSALS as exc:
            errors = errors_for(exc, SchemeForm)
            posted = dict((await request.form()).multi_items())
            posted["support"] = (await request.form()).getall("support", [])
            return await self._scheme_form(request, db_session, posted, errors)
        await db_session.commit()
        return Redirect(path=f"{BOARD}?done=scheme", status_code=303)

    async def _scheme_form(
        self,
        request: Request[Any, Any, Any],
        db: AsyncSession,
        posted: dict[str, Any],
        errors: list[FieldError],
    ) -> Template:
        return page(
            request,
            "provider/scheme_new.html",
            status_code=INVALID if errors else 200,
            crumbs=CRUMBS,
            errors=errors,
            posted=posted,
            scheme_types=words.options(SchemeType, "Choose a type"),
            policies=words.options(GenderPolicy, "Choose who it takes"),
            risks=words.options(RiskLevel, "Choose a risk level"),
            supports=words.options(Support),
            authorities=[
                ("", "The authority at the district's centre"),
                *await _authorities(db),
            ],
        )

    # -- units -------------------------------------------------------------------------
    @get("/units/new")
    async def new_unit(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        schemes: NamedDependency[SchemeService],
        scheme: FromQuery[uuid.UUID | None] = None,
    ) -> Template:
        posted = {"scheme_id": str(scheme)} if scheme else {}
        return await self._unit_form(request, principal, schemes, posted, [])

    @post("/units/new")
    async def add_unit(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        schemes: NamedDependency[SchemeService],
        units: NamedDependency[UnitService],
        db_session: NamedDependency[AsyncSession],
    ) -> Template | Redirect:
        try:
            form = await read_form(request, UnitForm, UnitForm.REQUIRED)
            body = msgspec.convert(msgspec.structs.asdict(form), UnitCreate)
            fields = msgspec.structs.asdict(body)
            fields["access_features"] = sorted({str(f) for f in body.access_features})
            del fields["available_from"]
            await units.create(fields)
        except REFUSALS as exc:
            errors = errors_for(exc, UnitForm)
            submitted = await request.form()
            posted: dict[str, Any] = dict(submitted.multi_items())
            posted["access_features"] = submitted.getall("access_features", [])
            return await self._unit_form(request, principal, schemes, posted, errors)
        await db_session.commit()
        return Redirect(path=f"{BOARD}?done=unit", status_code=303)

    async def _unit_form(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        schemes: SchemeService,
        posted: dict[str, Any],
        errors: list[FieldError],
    ) -> Template:
        mine = await schemes.list(
            provider_id=principal.provider_id,
            authority_code=None,
            scheme_type=None,
            gender_policy=None,
            postcode_district=None,
            include_retired=False,
            limit=EVERYTHING,
            offset=0,
        )
        return page(
            request,
            "provider/unit_new.html",
            status_code=INVALID if errors else 200,
            crumbs=CRUMBS,
            errors=errors,
            posted=posted,
            schemes=[("", "Choose a scheme")]
            + [(str(s.id), f"{s.name} ({s.postcode_district})") for s in mine.items],
            features=words.options(AccessFeature),
        )

    @get("/units/{unit_id:uuid}")
    async def unit(
        self,
        request: Request[Any, Any, Any],
        units: NamedDependency[UnitService],
        unit_id: FromPath[uuid.UUID],
    ) -> Template:
        return self._unit_page(request, await units.get(unit_id))

    @post("/units/{unit_id:uuid}/status")
    async def change_status(
        self,
        request: Request[Any, Any, Any],
        units: NamedDependency[UnitService],
        db_session: NamedDependency[AsyncSession],
        unit_id: FromPath[uuid.UUID],
    ) -> Template | Redirect:
        try:
            form = await read_form(request, StatusForm, StatusForm.REQUIRED)
            changes: dict[str, Any] = {"version": form.version, "status": form.status}
            if form.status is UnitStatus.OUT_OF_SERVICE:
                changes["out_of_service_reason"] = form.out_of_service_reason
                changes["expected_back_on"] = form.expected_back_on()
            body = msgspec.convert(changes, UnitUpdate)
            await units.update_versioned(
                unit_id, body.version, {k: v for k, v in changes.items() if k != "version"}
            )
        except REFUSALS as exc:
            errors = errors_for(exc, StatusForm)
            posted = dict((await request.form()).multi_items())
            return self._unit_page(request, await units.get(unit_id), errors=errors, posted=posted)
        except Conflict as exc:
            await db_session.rollback()
            return self._unit_page(
                request, await units.get(unit_id), refused=_conflict_words(exc), status_code=409
            )
        await db_session.commit()
        return Redirect(path=f"{BOARD}?done=status", status_code=303)

    @post("/units/{unit_id:uuid}/retire")
    async def retire_unit(
        self,
        request: Request[Any, Any, Any],
        units: NamedDependency[UnitService],
        db_session: NamedDependency[AsyncSession],
        unit_id: FromPath[uuid.UUID],
    ) -> Template | Redirect:
        try:
            await units.retire(unit_id)
        except Conflict as exc:
            await db_session.rollback()
            return self._unit_page(
                request, await units.get(unit_id), refused=_conflict_words(exc), status_code=409
            )
        await db_session.commit()
        return Redirect(path=f"{BOARD}?done=retired", status_code=303)

    def _unit_page(
        self,
        request: Request[Any, Any, Any],
        unit: Unit,
        *,
        errors: list[FieldError] | None = None,
        posted: dict[str, Any] | None = None,
        refused: str | None = None,
        status_code: int | None = None,
    ) -> Template:
        shown = posted or {
            "status": str(unit.status),
            "out_of_service_reason": str(unit.out_of_service_reason or ""),
        }
        if posted is None and unit.expected_back_on is not None:
            back = unit.expected_back_on
            shown |= {"back_day": back.day, "back_month": back.month, "back_year": back.year}
        return page(
            request,
            "provider/unit.html",
            status_code=status_code or (INVALID if errors else 200),
            crumbs=CRUMBS,
            errors=errors or [],
            unit=unit,
            scheme=unit.scheme,
            posted=shown,
            refused=refused,
            statuses=[(str(s), words.word(s)) for s in SETTABLE],
            reasons=words.options(OutOfServiceReason, "Choose a reason"),
            settable=unit.status in SETTABLE and unit.retired_at is None,
            words=words,
        )

    # -- move-out ----------------------------------------------------------------------
    @get("/placements/{placement_id:uuid}/move-out")
    async def move_out_page(
        self,
        request: Request[Any, Any, Any],
        placements: NamedDependency[PlacementService],
        units: NamedDependency[UnitService],
        placement_id: FromPath[uuid.UUID],
    ) -> Template:
        placement = await placements.get(placement_id)
        return self._move_out(request, placement, await units.get(placement.unit_id), [])

    @post("/placements/{placement_id:uuid}/move-out")
    async def move_out(
        self,
        request: Request[Any, Any, Any],
        placements: NamedDependency[PlacementService],
        units: NamedDependency[UnitService],
        db_session: NamedDependency[AsyncSession],
        placement_id: FromPath[uuid.UUID],
    ) -> Template | Redirect:
        placement = await placements.get(placement_id)
        try:
            form = await read_form(request, MoveOutForm, MoveOutForm.REQUIRED)
            await placements.move_out(placement_id, form.reason)
        except REFUSALS as exc:
            errors = errors_for(exc, MoveOutForm)
            unit = await units.get(placement.unit_id)
            return self._move_out(request, placement, unit, errors)
        await db_session.commit()
        return Redirect(path=f"{BOARD}?done=moved-out", status_code=303)

    def _move_out(
        self,
        request: Request[Any, Any, Any],
        placement: Placement,
        unit: Unit,
        errors: list[FieldError],
    ) -> Template:
        return page(
            request,
            "provider/move_out.html",
            status_code=INVALID if errors else 200,
            crumbs=CRUMBS,
            errors=errors,
            placement=placement,
            unit=unit,
            scheme=unit.scheme,
            reasons=words.options(MoveOutReason, "Choose why support ended"),
            words=words,
        )
