"""What the locust users work with: keys, and ids from the seeded database."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from placement.cli import issue_key
from placement.config import Settings
from placement.db import create_engine
from placement.enums import ReferralStatus, Role, UnitStatus
from placement.geography import local_authorities
from placement.models import Referral, Scheme, Unit

OFFICER_AUTHORITIES = 25
PROVIDERS = 20


async def build_plan(settings: Settings) -> dict[str, Any]:
    """Officers for the authorities with most open referrals; providers with most vacancies."""
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            busiest = (
                (
                    await conn.execute(
                        select(Referral.authority_code)
                        .where(Referral.status == ReferralStatus.OPEN)
                        .group_by(Referral.authority_code)
                        .order_by(func.count().desc(), Referral.authority_code)
                        .limit(OFFICER_AUTHORITIES)
                    )
                )
                .scalars()
                .all()
            )
            referrals = (
                await conn.execute(
                    select(Referral.authority_code, Referral.id).where(
                        Referral.status == ReferralStatus.OPEN,
                        Referral.authority_code.in_(busiest),
                    )
                )
            ).all()
            togglable = (
                await conn.execute(
                    select(Scheme.provider_id, Unit.id)
                    .join(Scheme, Scheme.id == Unit.scheme_id)
                    .where(Unit.status.in_([UnitStatus.AVAILABLE, UnitStatus.OUT_OF_SERVICE]))
                )
            ).all()
    finally:
        await engine.dispose()
    units_by_provider: dict[uuid.UUID, list[str]] = {}
    for provider_id, unit_id in togglable:
        units_by_provider.setdefault(provider_id, []).append(str(unit_id))
    top_providers = sorted(units_by_provider, key=lambda p: (-len(units_by_provider[p]), str(p)))
    officers = []
    for code in busiest:
        key = await issue_key(
            settings, Role.HOUSING_OFFICER, f"load officer {code}", authority_code=code
        )
        officers.append(
            {
                "authority_code": code,
                "key": key,
                "referrals": [str(r) for a, r in referrals if a == code],
            }
        )
    providers = []
    for provider_id in top_providers[:PROVIDERS]:
        key = await issue_key(settings, Role.PROVIDER, "load provider", provider_id=provider_id)
        providers.append({"key": key, "units": units_by_provider[provider_id]})
    authorities = local_authorities()
    places = [
        {"latitude": authorities[c].latitude, "longitude": authorities[c].longitude}
        for c in busiest
    ]
    return {"officers": officers, "providers": providers, "places": places}
