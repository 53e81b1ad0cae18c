"""Load a synthetic dataset (see `fixtures`) into a migrated database.

Seeding is for demos, tests and load runs, so it must be fast at national scale (about
10,000 units) and safe to run twice: rows go in with Core `insert()` executemany, not
ORM objects one by one, and a database that already holds schemes is left alone.
Secrets are encrypted exactly as the service stores them, so a seeded database is
indistinguishable from one filled through the API.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from fixtures.generator import generate
from fixtures.scales import scale_named
from placement.config import Settings
from placement.crypto import Cipher, load_cipher
from placement.db import create_engine
from placement.models import (
    AuditEvent,
    Authority,
    Protocol,
    ProtocolMember,
    Provider,
    Referral,
    RehousingOption,
    Scheme,
    Unit,
)

SECRET_FIELDS = {
    "location": "location_ciphertext",
    "address": "address_ciphertext",
    "details": "details_ciphertext",
}
"""Record fields holding a plaintext document, and the ciphertext column each goes to."""


@dataclass(frozen=True)
class SeedReport:
    """What a seed run did: rows written per table, or why it wrote nothing."""

    scale: str
    seed: int
    seeded: bool
    counts: Mapping[str, int]
    seconds: float

    def __str__(self) -> str:
        if not self.seeded:
            return "The database already holds schemes; nothing was seeded."
        written = ", ".join(f"{count:,} {table}" for table, count in self.counts.items())
        return (
            f"Seeded the {self.scale} dataset (seed {self.seed}) in {self.seconds:.1f} s: "
            f"{written}."
        )


async def seed_database(settings: Settings, scale: str, seed: int = 1) -> SeedReport:
    """Fill a migrated database with the `scale` dataset for `seed`, once.

    Authorities are reference data and go in first, in their own transaction (only the
    missing ones). Everything else goes in one transaction, so a failed run leaves no
    half dataset that a re-run would then mistake for a finished one.
    """
    scale_named(scale)  # an unknown scale fails before the database is touched
    started = time.perf_counter()
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            has_schemes = (await conn.scalar(select(func.count()).select_from(Scheme))) or 0
        if has_schemes:
            return SeedReport(scale, seed, seeded=False, counts={}, seconds=0.0)
        dataset = generate(scale, seed)
        cipher = load_cipher(settings)
        stamp = datetime.now(UTC)
        async with engine.begin() as conn:
            new_authorities = await _insert_missing_authorities(
                conn, _rows(dataset.authorities, cipher, stamp)
            )
        counts = {"authorities": new_authorities} | {
            table: count for table, count in dataset.counts().items() if table != "authorities"
        }
        async with engine.begin() as conn:
            for model, records in (
                (Provider, dataset.providers),
                (Scheme, dataset.schemes),
                (Unit, dataset.units),
                (Protocol, dataset.protocols),
                (RehousingOption, dataset.rehousing_options),
                (Referral, dataset.referrals),
            ):
                await _insert(conn, model, _rows(records, cipher, stamp))
            await _insert(conn, ProtocolMember, _rows(dataset.protocol_members, cipher, None))
            await conn.execute(
                insert(AuditEvent).values(
                    at=stamp,
                    actor_role="system",
                    actor_label="placement seed",
                    action="seed",
                    record_type="dataset",
                    record_id=scale,
                    detail={"seed": seed, "counts": counts},
                )
            )
    finally:
        await engine.dispose()
    return SeedReport(scale, seed, True, counts, time.perf_counter() - started)


async def _insert_missing_authorities(conn: AsyncConnection, rows: list[dict[str, Any]]) -> int:
    """Insert the authorities not already present; existing ones are left as an admin set them."""
    present = set((await conn.scalars(select(Authority.code))).all())
    missing = [row for row in rows if row["code"] not in present]
    await _insert(conn, Authority, missing)
    return len(missing)


async def _insert(conn: AsyncConnection, model: type[Any], rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(model), rows)


def _rows(records: Iterable[Any], cipher: Cipher, stamp: datetime | None) -> list[dict[str, Any]]:
    """Column dictionaries from records: documents encrypted, tuples as JSON lists.

    `stamp` fills created_at/updated_at for tables that have them (None for link tables).
    """
    rows = []
    for record in records:
        row: dict[str, Any] = {}
        for field in fields(record):
            value = getattr(record, field.name)
            if field.name in SECRET_FIELDS:
                row[SECRET_FIELDS[field.name]] = cipher.encrypt_json(value)
            else:
                row[field.name] = list(value) if isinstance(value, tuple) else value
        if stamp is not None:
            row["created_at"] = row["updated_at"] = stamp
        rows.append(row)
    return rows
