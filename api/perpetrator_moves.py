"""/api/v1/perpetrator-moves: a rehousing option booked for a referral's perpetrator.

Booked like a placement (`placement.perpetrator_moves`): an officer holds an option for
one of their referrals (409 if someone else holds it), then records that the
perpetrator moved in (the referral ends as `perpetrator_moved`) or withdraws the hold;
the officer or the option's provider records the end of the move. Every POST takes an
Idempotency-Key (`api.idempotency`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import OFFICERS, OFFICERS_AND_PROVIDERS
from api.common import Limit, Offset, Page, page_of, provide
from api.idempotency import Idempotency, provide_idempotency
from placement.enums import PerpetratorMoveStatus
from placement.idempotency import First, Replay
from placement.models import IdempotencyRecord, PerpetratorMove
from placement.perpetrator_moves import PerpetratorMoveService


class PerpetratorMoveCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Hold a rehousing option for a referral's perpetrator: checked against the same
    rules as the referral's perpetrator options."""

    referral_id: uuid.UUID
    option_id: uuid.UUID


class PerpetratorMoveView(msgspec.Struct):
    """A perpetrator move: held, accepted (the perpetrator moved in), withdrawn or ended."""

    id: uuid.UUID
    referral_id: uuid.UUID
    option_id: uuid.UUID
    status: PerpetratorMoveStatus
    held_at: datetime
    accepted_at: datetime | None
    withdrawn_at: datetime | None
    ended_at: datetime | None


def view(row: PerpetratorMove) -> PerpetratorMoveView:
    return msgspec.convert(row, PerpetratorMoveView, from_attributes=True)


def current(service: PerpetratorMoveService, move_id: uuid.UUID) -> Replay[PerpetratorMoveView]:
    """A retried transition's answer: the move as it is now."""

    async def again(_: IdempotencyRecord) -> PerpetratorMoveView:
        return view(await service.get(move_id))

    return again


class PerpetratorMoveController(Controller):
    path = "/perpetrator-moves"
    tags = ["perpetrator moves"]
    guards = [OFFICERS_AND_PROVIDERS]
    dependencies = {
        "service": provide(PerpetratorMoveService),
        "idempotency": provide_idempotency,
    }

    @get(summary="Perpetrator moves of your referrals (officers) or into your options (providers)")
    async def list_moves(
        self,
        service: NamedDependency[PerpetratorMoveService],
        limit: Limit = 50,
        offset: Offset = 0,
        status: FromQuery[PerpetratorMoveStatus | None] = None,
        referral_id: FromQuery[uuid.UUID | None] = None,
    ) -> Page[PerpetratorMoveView]:
        page = await service.list(
            status=status, referral_id=referral_id, limit=limit, offset=offset
        )
        return page_of(page, view)

    @get("/{move_id:uuid}", summary="A perpetrator move")
    async def get_move(
        self, service: NamedDependency[PerpetratorMoveService], move_id: FromPath[uuid.UUID]
    ) -> PerpetratorMoveView:
        return view(await service.get(move_id))

    @post(guards=[OFFICERS], summary="Hold a rehousing option for a referral's perpetrator")
    async def hold_option(
        self,
        service: NamedDependency[PerpetratorMoveService],
        idempotency: NamedDependency[Idempotency],
        data: JSONBody[PerpetratorMoveCreate],
    ) -> Response[PerpetratorMoveView]:
        async def hold() -> First[PerpetratorMoveView]:
            move = await service.hold(data.referral_id, data.option_id)
            return First(view(move), service.record_type, move.id)

        async def again(first: IdempotencyRecord) -> PerpetratorMoveView:
            return view(await service.get(uuid.UUID(first.record_id)))

        return await idempotency.answer(hold, again)

    @post(
        "/{move_id:uuid}/accept",
        guards=[OFFICERS],
        status_code=200,
        summary="The perpetrator moved in: the referral ends as perpetrator_moved",
    )
    async def accept_move(
        self,
        service: NamedDependency[PerpetratorMoveService],
        idempotency: NamedDependency[Idempotency],
        move_id: FromPath[uuid.UUID],
    ) -> Response[PerpetratorMoveView]:
        async def accept() -> First[PerpetratorMoveView]:
            return First(view(await service.accept(move_id)), service.record_type, move_id)

        return await idempotency.answer(accept, current(service, move_id))

    @post(
        "/{move_id:uuid}/withdraw",
        guards=[OFFICERS],
        status_code=200,
        summary="Let a held option go; it is available again",
    )
    async def withdraw_move(
        self,
        service: NamedDependency[PerpetratorMoveService],
        idempotency: NamedDependency[Idempotency],
        move_id: FromPath[uuid.UUID],
    ) -> Response[PerpetratorMoveView]:
        async def withdraw() -> First[PerpetratorMoveView]:
            return First(view(await service.withdraw(move_id)), service.record_type, move_id)

        return await idempotency.answer(withdraw, current(service, move_id))

    @post(
        "/{move_id:uuid}/end",
        status_code=200,
        summary="The perpetrator has left the option; it is available again",
    )
    async def end_move(
        self,
        service: NamedDependency[PerpetratorMoveService],
        idempotency: NamedDependency[Idempotency],
        move_id: FromPath[uuid.UUID],
    ) -> Response[PerpetratorMoveView]:
        async def end() -> First[PerpetratorMoveView]:
            return First(view(await service.end(move_id)), service.record_type, move_id)

        return await idempotency.answer(end, current(service, move_id))
