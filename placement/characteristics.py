"""The Part 4 return's characteristics of a household, as coarse clear-column counts.

The household document is encrypted, and a report over a region must not decrypt every
household in it. So whenever the service writes a household document (a referral
registered or changed, a provider's own placement), it writes beside it, in the same
transaction, one `referral_characteristics` row derived by `characteristics_of`, and by
nothing else: the row cannot drift from the document. The row holds only counts and
yes/no flags (no ages, places or anything else that singles a person out).

Definitions, as the return asks and the household states them:
- the first member is the person referred (the victim) and is an adult whatever their
  age (a 16-year-old can be referred in their own right); other members are adults at
  18 and over and children below;
- adults by gender: women, men, trans adults (a member who says they are trans is
  counted there and not again as a woman or man), and other adults (non-binary);
- age bands count every member;
- disabled: members who say they are disabled or who have an access need;
- mental health, substance use, complex needs: the household's support needs;
- NRPF, Black and minoritised, LGBTQ+: as the household says;
- older victim: the victim is 60 or over; young victim: 16 to 24; male victim: the
  victim is male;
- wheelchair user: any member needs wheelchair access; boy over 12: a male child aged
  13 to 17 (many refuges take boys only up to 12 or so).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.crypto import Cipher
from placement.enums import AccessFeature, Gender, Support
from placement.households import Household, Member, unseal
from placement.models import Referral, ReferralCharacteristics

ADULT_AGE = 18
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("aged_0_4", 0, 4),
    ("aged_5_11", 5, 11),
    ("aged_12_15", 12, 15),
    ("aged_16_17", 16, 17),
    ("aged_18_24", 18, 24),
    ("aged_25_34", 25, 34),
    ("aged_35_44", 35, 44),
    ("aged_45_59", 45, 59),
    ("aged_60_plus", 60, 200),
)
"""Column, youngest and oldest age of each band (every member falls in exactly one)."""


def characteristics_of(household: Household) -> dict[str, Any]:
    """The `referral_characteristics` columns (all but the referral id) of a household."""
    victim, *others = household.members
    adults = [victim, *(m for m in others if m.age >= ADULT_AGE)]
    children = [m for m in others if m.age < ADULT_AGE]
    support = set(household.support_needs)
    return {
        "women": sum(1 for m in adults if not m.trans and m.gender is Gender.FEMALE),
        "men": sum(1 for m in adults if not m.trans and m.gender is Gender.MALE),
        "trans_adults": sum(1 for m in adults if m.trans),
        "other_adults": sum(1 for m in adults if not m.trans and m.gender is Gender.NON_BINARY),
        "children": len(children),
        **{
            column: sum(1 for m in household.members if low <= m.age <= high)
            for column, low, high in AGE_BANDS
        },
        "disabled": sum(1 for m in household.members if _disabled(m)),
        "black_and_minoritised": bool(household.black_and_minoritised),
        "lgbtq": bool(household.lgbtq),
        "nrpf": household.nrpf,
        "mental_health": Support.MENTAL_HEALTH in support,
        "substance_use": Support.SUBSTANCE_USE in support,
        "complex_needs": Support.COMPLEX_NEEDS in support,
        "older_victim": victim.age >= 60,
        "young_victim": 16 <= victim.age <= 24,
        "male_victim": victim.gender is Gender.MALE,
        "wheelchair_user": any(
            AccessFeature.WHEELCHAIR in m.access_needs for m in household.members
        ),
        "boy_over_12": any(m.gender is Gender.MALE and m.age > 12 for m in children),
    }


def _disabled(member: Member) -> bool:
    return bool(member.disabled) or bool(member.access_needs)


async def record_characteristics(
    session: AsyncSession, referral_id: uuid.UUID, household: Household, *, new: bool = False
) -> None:
    """Write (or rewrite) the referral's row from its household, in the caller's
    transaction: whoever writes a household document calls this with it. A `new`
    referral has no row yet to delete (a statement saved on every referral made)."""
    if not new:
        await session.execute(
            delete(ReferralCharacteristics).where(
                ReferralCharacteristics.referral_id == referral_id
            )
        )
    await session.execute(
        insert(ReferralCharacteristics).values(
            referral_id=referral_id, **characteristics_of(household)
        )
    )


async def backfill(session: AsyncSession, cipher: Cipher) -> int:
    """Derive the row of every referral that has none (those registered before
    migration 0009, which could not decrypt households); returns how many."""
    missing = await session.execute(
        select(Referral.id, Referral.details_ciphertext).where(
            ~select(ReferralCharacteristics.referral_id)
            .where(ReferralCharacteristics.referral_id == Referral.id)
            .exists()
        )
    )
    rows = [
        {"referral_id": referral_id, **characteristics_of(unseal(cipher, ciphertext))}
        for referral_id, ciphertext in missing
    ]
    if rows:
        await session.execute(insert(ReferralCharacteristics), rows)
    return len(rows)
