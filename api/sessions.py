"""A request's database session, ended as its response starts: committed on success,
rolled back otherwise, as advanced-alchemy's `autocommit` handler does, except that a
session the request never used is simply let go.

Every handler that asks for a service gets a session, but a match usually leaves it
untouched (its one read is on a connection of its own: inline on a SQLite file,
`placement.inline_reads`, else outside any transaction, `placement.db.reading`). Ending
such a session still begins and commits an empty transaction, firing every listener on
the way (advanced-alchemy's cache listener builds a copy of the engine for each), for no
statement at all: about as much CPU as the match's own query.
"""

from __future__ import annotations

from typing import Any

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from advanced_alchemy.extensions.litestar._utils import delete_aa_scope_state, get_aa_scope_state
from litestar.constants import HTTP_RESPONSE_START
from litestar.types import BeforeMessageSendHookHandler, Message, Scope
from sqlalchemy.ext.asyncio import AsyncSession

from placement import audit


def letting_untouched_go(config: SQLAlchemyAsyncConfig) -> BeforeMessageSendHookHandler:
    """`config`'s own before-send handler (`autocommit`), for a session the request used;
    an unused one is forgotten (nothing began: nothing to commit, roll back or give back).

    The session is looked up under `config`'s scope key, which advanced-alchemy makes
    unique per configuration (several apps in one process each have their own)."""
    ends: Any = config.before_send_handler
    if not callable(ends):
        raise TypeError("the configuration's before-send handler is not resolved yet")
    key = config.session_scope_key

    async def end_session(message: Message, scope: Scope) -> None:
        session: AsyncSession | None = get_aa_scope_state(scope, key)
        if session is not None and message["type"] == HTTP_RESPONSE_START and untouched(session):
            delete_aa_scope_state(scope, key)
            return
        await ends(message, scope)

    return end_session


def untouched(session: AsyncSession) -> bool:
    """Whether the session has done nothing that ending it could complete: no transaction
    begun (adding a record begins one), and no audit event waiting for a commit."""
    return not session.in_transaction() and not audit.pending(session)
