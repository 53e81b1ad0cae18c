"""Small defaults for hand-made cases: name only what the test is about."""

from datetime import date
from typing import Any

from optimiser.problem import Household, Member, Point, Unit

AS_OF = date(2025, 3, 3)
MANCHESTER = Point(53.4808, -2.2426)
STOCKPORT = Point(53.4106, -2.1575)
LEEDS = Point(53.8008, -1.5491)


def woman(age: int = 30, **kw: Any) -> Member:
    return Member(age, "female", **kw)


def household(**kw: Any) -> Household:
    defaults: dict[str, Any] = dict(
        id="h1", authority_code="A", members=(woman(),), needed_by=AS_OF
    )
    return Household(**(defaults | kw))


def unit(**kw: Any) -> Unit:
    defaults: dict[str, Any] = dict(
        id="u1",
        scheme_id="s1",
        provider_id="p1",
        authority_code="A",
        location=MANCHESTER,
        bedrooms=3,
        bed_spaces=6,
        available_from=AS_OF,
    )
    return Unit(**(defaults | kw))
