"""/api/v1/perpetrator-links: two authorities' references linked as one perpetrator.

An officer proposes a link from its authority's reference to another authority's (by
that authority's code and reference); an officer of the other authority confirms it, and
only then does it keep households apart, in matches and allocation runs alike. An admin
records a link confirmed at once. Either side (or an admin) withdraws it with DELETE.
POSTs take an Idempotency-Key (`api.idempotency`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from msgspec import Meta

from api.auth import allow
from api.common import Limit, Offset, Page, page_of, provide
from api.examples import PERPETRATOR_LINK, example_body
from api.idempotency import Idempotency, provide_idempotency
from placement.enums import OFFICER_ROLES, LinkStatus, Role
from placement.fields import AuthorityCode
from placement.idempotency import First, Replay
from placement.models import IdempotencyRecord, PerpetratorLink
from placement.perpetrator_links import PerpetratorLinkService
from placement.referrals import PerpetratorRef

LINKERS = allow(Role.ADMIN, *OFFICER_ROLES)

OwnAuthority = Annotated[
    AuthorityCode,
    Meta(
        description="the proposing authority's ONS code: an officer's own (or omit it); "
        "an admin recording a link names it"
    ),
]
OwnRef = Annotated[
    PerpetratorRef, Meta(description="the proposing authority's reference for the perpetrator")
]
PartnerRef = Annotated[
    PerpetratorRef,
    Meta(description="the other authority's reference for the same perpetrator, as it gave it"),
]


class PerpetratorLinkCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Propose that your reference and another authority's name the same perpetrator."""

    perpetrator_ref: OwnRef
    partner_authority_code: AuthorityCode
    partner_perpetrator_ref: PartnerRef
    authority_code: OwnAuthority | None = None


class PerpetratorLinkView(msgspec.Struct):
    """A link between two authorities' perpetrator references; it keeps their households
    apart only once confirmed."""

    id: uuid.UUID
    authority_code: str
    perpetrator_ref: str
    partner_authority_code: str
    partner_perpetrator_ref: str
    status: LinkStatus
    created_at: datetime
    confirmed_at: datetime | None
    withdrawn_at: datetime | None


def view(row: PerpetratorLink) -> PerpetratorLinkView:
    return msgspec.convert(row, PerpetratorLinkView, from_attributes=True)


def current(service: PerpetratorLinkService, link_id: uuid.UUID) -> Replay[PerpetratorLinkView]:
    """A retried confirmation's answer: the link as it is now."""

    async def again(_: IdempotencyRecord) -> PerpetratorLinkView:
        return view(await service.get(link_id))

    return again


class PerpetratorLinkController(Controller):
    path = "/perpetrator-links"
    tags = ["perpetrator links"]
    guards = [LINKERS]
    dependencies = {
        "service": provide(PerpetratorLinkService),
        "idempotency": provide_idempotency,
    }

    @get(summary="Links that touch your authority (admins: every link)")
    async def list_links(
        self,
        service: NamedDependency[PerpetratorLinkService],
        limit: Limit = 50,
        offset: Offset = 0,
        status: FromQuery[LinkStatus | None] = None,
    ) -> Page[PerpetratorLinkView]:
        return page_of(await service.list(status=status, limit=limit, offset=offset), view)

    @get("/{link_id:str}", summary="A link that touches your authority")
    async def get_link(
        self, service: NamedDependency[PerpetratorLinkService], link_id: FromPath[uuid.UUID]
    ) -> PerpetratorLinkView:
        return view(await service.get(link_id))

    @post(summary="Propose a link to another authority's reference (admins: record it)")
    async def propose_link(
        self,
        service: NamedDependency[PerpetratorLinkService],
        idempotency: NamedDependency[Idempotency],
        data: Annotated[
            PerpetratorLinkCreate, example_body("a Manchester officer proposes", PERPETRATOR_LINK)
        ],
    ) -> Response[PerpetratorLinkView]:
        async def propose() -> First[PerpetratorLinkView]:
            link = await service.propose(
                data.authority_code,
                data.perpetrator_ref,
                data.partner_authority_code,
                data.partner_perpetrator_ref,
            )
            return First(view(link), service.record_type, link.id)

        async def again(first: IdempotencyRecord) -> PerpetratorLinkView:
            return view(await service.get(uuid.UUID(first.record_id)))

        return await idempotency.answer(propose, again)

    @post(
        "/{link_id:str}/confirm",
        status_code=200,
        summary="Confirm a link another authority proposed to yours: from now on it counts",
    )
    async def confirm_link(
        self,
        service: NamedDependency[PerpetratorLinkService],
        idempotency: NamedDependency[Idempotency],
        link_id: FromPath[uuid.UUID],
    ) -> Response[PerpetratorLinkView]:
        async def confirm() -> First[PerpetratorLinkView]:
            return First(view(await service.confirm(link_id)), service.record_type, link_id)

        return await idempotency.answer(confirm, current(service, link_id))

    @delete(
        "/{link_id:str}",
        status_code=200,
        summary="Withdraw a link (either authority, or an admin); again changes nothing",
    )
    async def withdraw_link(
        self, service: NamedDependency[PerpetratorLinkService], link_id: FromPath[uuid.UUID]
    ) -> PerpetratorLinkView:
        return view(await service.withdraw(link_id))
