"""The audit log as a hash chain, so that changing it afterwards shows.

Triggers keep the service from changing audit events, but whoever owns the tables can
drop them, then edit, delete or insert events. So each event also stores `prev_hash`, the
hash of the event before it, and `hash`, a SHA-256 over a canonical JSON of its own fields
and `prev_hash`; one chain head row holds the newest event's id and hash. An edited event
no longer matches its hash, a deleted one leaves its successor pointing at nothing, an
inserted one is skipped by its successor or lies past the head, and `verify` names the
first such event. (Someone who rewrites every event from the first change on, and the
head, is caught only by a head hash kept outside the database: `verify` prints it.)

Appends are serialised on the head row: the UPDATE that reserves their ids (or moves the
head on from the one this process last left) takes a row lock on PostgreSQL and the write
lock on SQLite, so two workers never extend the chain from the same event. Ids come from
the head, so they are never reused, even after the newest event is deleted, and an
event's id is part of what its hash seals.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, Row, bindparam, insert, select, update
from sqlalchemy.engine import URL

from placement.models import AUDIT_CHAIN_HEAD_ID, AuditChainHead, AuditEvent

GENESIS = "0" * 64
"""The `prev_hash` of the first event: it follows nothing."""
PAGE = 5_000
"""Events read per query while verifying: a long log is walked, never loaded whole."""
SEALED_FIELDS = (
    "id",
    "at",
    "actor_key_id",
    "actor_role",
    "actor_label",
    "action",
    "record_type",
    "record_id",
    "detail",
    "prev_hash",
)
SEALED_COLUMNS = tuple(getattr(AuditEvent, name) for name in SEALED_FIELDS)


def seal(event: Mapping[str, Any]) -> str:
    """The hash of an event: SHA-256 over its fields (and `prev_hash`) as canonical JSON.

    Canonical means one spelling for one content, whichever backend stored it: keys
    sorted, no spaces, times in UTC to the microsecond (both backends keep that much),
    ids as text.
    """
    content = {name: _plain(event[name]) for name in SEALED_FIELDS}
    text = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def append(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add events (their fields but `id` and the hashes) at the end of the chain.

    In the caller's transaction, which must be a real one, not an AUTOCOMMIT connection
    (`outside_transaction`), where the head's lock would end with the first statement.
    Two statements when this process knows the head (it made the last append, the usual
    case: every append is a transaction's, so a few statements saved on each is much of
    the cost of a write), else four; see `_extend_known_head`.
    """
    if not rows:
        return
    url = connection.engine.url
    guess = _heads.get(url)
    if guess is not None and (head := _extend_known_head(connection, guess, rows)):
        _heads[url] = head
        return
    last_id, prev_hash = connection.execute(_RESERVE, {"count": len(rows)}).one()
    events = _chained(rows, last_id - len(rows) + 1, prev_hash)
    connection.execute(_INSERT, events)
    connection.execute(_SET_HASH, {"new_hash": events[-1]["hash"]})
    _heads[url] = Head(last_id, events[-1]["hash"])


_heads: dict[URL, Head] = {}
"""Per database, the head as this process's last append left it: a guess, since another
process may have appended since, or that append's transaction rolled back."""


def _extend_known_head(
    connection: Connection, guess: Head, rows: Sequence[Mapping[str, Any]]
) -> Head | None:
    """Append after `guess` if it is still the head: the new head, or None if it is not.

    The events are sealed after the guessed head, and one UPDATE moves the head to the
    last of them only where it still is the guessed one. That UPDATE locks the head (the
    row lock on PostgreSQL, which re-checks the condition on the row a concurrent append
    left; the write lock on SQLite), so when it matches, the head was the guess under the
    lock, and the events are exactly what reserving ids first would have made. When it
    does not match, nothing was written and the caller reserves ids as before.
    """
    events = _chained(rows, guess.last_id + 1, guess.last_hash)
    head = Head(guess.last_id + len(rows), events[-1]["hash"])
    moved = connection.execute(
        _MOVE_KNOWN,
        {
            "guess_id": guess.last_id,
            "guess_hash": guess.last_hash,
            "new_id": head.last_id,
            "new_hash": head.last_hash,
        },
    )
    if moved.rowcount != 1:
        return None
    connection.execute(_INSERT, events)
    return head


# Built once: every write's audit and every batch of read audits appends, and a statement
# built anew is compiled anew (its cache key computed from scratch) each time.
_HEAD = AuditChainHead.id == AUDIT_CHAIN_HEAD_ID
_RESERVE = (
    update(AuditChainHead)
    .where(_HEAD)
    .values(last_id=AuditChainHead.last_id + bindparam("count", type_=BigInteger))
    .returning(AuditChainHead.last_id, AuditChainHead.last_hash)
)
_INSERT = insert(AuditEvent)
_SET_HASH = update(AuditChainHead).where(_HEAD).values(last_hash=bindparam("new_hash"))
_MOVE_KNOWN = (
    update(AuditChainHead)
    .where(
        _HEAD,
        AuditChainHead.last_id == bindparam("guess_id", type_=BigInteger),
        AuditChainHead.last_hash == bindparam("guess_hash"),
    )
    .values(last_id=bindparam("new_id", type_=BigInteger), last_hash=bindparam("new_hash"))
)


def _chained(
    rows: Sequence[Mapping[str, Any]], first_id: int, prev_hash: str
) -> list[dict[str, Any]]:
    """The rows as events numbered from `first_id`, each sealed to the one before."""
    events: list[dict[str, Any]] = []
    for event_id, row in enumerate(rows, start=first_id):
        event = {**row, "id": event_id, "prev_hash": prev_hash}
        prev_hash = event["hash"] = seal(event)
        events.append(event)
    return events


@dataclass(frozen=True, slots=True)
class Head:
    last_id: int
    last_hash: str


@dataclass(frozen=True, slots=True)
class Link:
    """An event as the chain sees it: where it is, what it claims, what it holds."""

    id: int
    prev_hash: str
    hash: str
    content_hash: str
    """The hash of what the event holds now (equal to `hash` unless it was changed)."""


@dataclass(frozen=True, slots=True)
class Broken:
    """The first event that is not as appended, and in what way."""

    event_id: int
    problem: str

    def __str__(self) -> str:
        return f"event {self.event_id}: {self.problem}" if self.event_id else self.problem


@dataclass(frozen=True, slots=True)
class Intact:
    events: int
    head: Head

    def __str__(self) -> str:
        verified = f"{self.events} event{'' if self.events == 1 else 's'} verified"
        if not self.events:
            return verified
        return f"{verified}; the newest is event {self.head.last_id}, hash {self.head.last_hash}"


class Walk:
    """The checks of `verify`, fed one event at a time in id order.

    Each event is judged when the next one is known: an event its successor skips (the
    successor follows the event before it) was inserted.
    """

    def __init__(self, read_head: Callable[[], Head]) -> None:
        self._read_head = read_head
        self.head = read_head()
        self.events = 0
        self._prev: Link | None = None
        self._pending: Link | None = None

    def feed(self, link: Link) -> Broken | None:
        pending, self._pending = self._pending, link
        return None if pending is None else self._judge(pending, link)

    def finish(self, head: Head) -> Broken | Intact:
        """The verdict once no event is left to read; `head` was read before that was seen."""
        self.head = head
        if self._pending is not None and (broken := self._judge(self._pending, None)):
            return broken
        last = self._prev
        last_id = last.id if last else 0
        if head.last_id > last_id:
            return Broken(
                last_id + 1,
                f"missing: the log ends at event {last_id}, but the chain reached event "
                f"{head.last_id} (deleted from the end)",
            )
        if head.last_hash != (last.hash if last else GENESIS):
            return Broken(
                last_id,
                "replaced: its hash is not the one the chain head recorded for the newest event",
            )
        return Intact(self.events, head)

    def _judge(self, link: Link, after: Link | None) -> Broken | None:
        prev_id = self._prev.id if self._prev else 0
        expected = self._prev.hash if self._prev else GENESIS
        if link.id > self.head.last_id:
            self.head = self._read_head()  # or it was appended after the head was read
            if link.id > self.head.last_id:
                return Broken(
                    link.id,
                    f"inserted: the chain ends at event {self.head.last_id}, and it is not part "
                    "of it",
                )
        if after is not None and after.prev_hash == expected:
            before = f"event {prev_id}" if self._prev else "nothing (it starts the chain)"
            return Broken(link.id, f"inserted: event {after.id} follows {before}, not this one")
        if link.prev_hash != expected:
            if link.id > prev_id + 1:
                first, last = prev_id + 1, link.id - 1
                gone = f"event {first} is" if first == last else f"events {first}-{last} are"
                return Broken(first, f"missing: {gone} gone (deleted); event {link.id} follows it")
            return Broken(
                prev_id or link.id,
                f"replaced: event {link.id} follows a different event from the one on record "
                f"before it",
            )
        if link.content_hash != link.hash:
            return Broken(link.id, "content changed: what it records no longer matches its hash")
        self._prev = link
        self.events += 1
        return None


def verify(connection: Connection) -> Broken | Intact:
    """Walk the whole log in id order; the first broken link, or how many events hold.

    Safe while the service appends: the head is read before each page, and every event it
    counts was committed with it, so a page can show more events than the head, never fewer.
    """
    if _head(connection) is None:
        return Broken(0, "the chain head is gone (only the tables' owner could delete it)")
    walk = Walk(lambda: _head(connection) or Head(0, GENESIS))
    after = 0
    while True:
        head = _head(connection) or Head(0, GENESIS)
        page = connection.execute(
            select(*SEALED_COLUMNS, AuditEvent.hash)
            .where(AuditEvent.id > after)
            .order_by(AuditEvent.id)
            .limit(PAGE)
        ).all()
        if not page:
            return walk.finish(head)
        for row in page:
            if broken := walk.feed(_link(row)):
                return broken
        after = page[-1].id


def _link(row: Row[Any]) -> Link:
    content = {name: getattr(row, name) for name in SEALED_FIELDS}
    return Link(row.id, row.prev_hash, row.hash, seal(content))


def _head(connection: Connection) -> Head | None:
    row = connection.execute(
        select(AuditChainHead.last_id, AuditChainHead.last_hash).where(
            AuditChainHead.id == AUDIT_CHAIN_HEAD_ID
        )
    ).one_or_none()
    return None if row is None else Head(int(row.last_id), str(row.last_hash))
