"""The new-referral form: the fields a person fills in, turned into the API's
`ReferralCreate` and checked by the same schema and service.

People name places by postcode district (M14) or pick authorities; the household stores
points, so a district becomes its centre (`placement.geography.districts`, open data).
Everything else goes as typed to `msgspec.convert(..., ReferralCreate)`: the API's rules
and words. An error's path in the household (`household.members[1].age`) is mapped back
to the input that held it, so the error summary links to that input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from api.pages.forms import FieldError, FormInvalid, errors_of
from placement.errors import InvalidInput
from placement.geography import District, districts
from placement.referrals import ReferralCreate

MEMBER_ROWS = 6
PERPETRATOR_ROWS = 3
NEAR_ROWS = 2
AVOID_ROWS = 3
FLAGS = ("marac", "nrpf", "pets", "language_essential", "support_essential", "keep_school")
FLAGS_OF_HOUSEHOLD = (*FLAGS[1:], "perpetrator_move_possible")
LISTS = ("languages", "support_needs", "preferred_specialisms", "perpetrator_conditions")
REQUIRED = {
    "reference": "Enter your case reference (no names)",
    "risk_level": "Select the risk level",
    "household.members": "Enter the age and gender of at least one person in the household",
    "gender": "Select the person's gender",
    "age": "Enter the person's age",
    "radius": "Enter how far to keep the household from this place, in kilometres",
    "label": "Enter a name for this place, like 'sister' or 'work'",
}
"""GOV.UK's words for a field left empty, by input id, its last part, or (for the
household's list of members) its wire path."""
MALFORMED = {
    "reference": "Enter a reference of 3 to 64 letters, digits, /, _ or -, with no names",
    "perpetrator_ref": "Enter a perpetrator reference of letters, digits, /, _ or - only",
    "age": "Enter an age in whole years, from 0 to 120",
    "radius": "Enter how far to keep the household away, in kilometres (0 to 500)",
    "needed_by": "Enter the date as day, month and year, like 2027-01-31",
}
"""Words for a value of the wrong form (the schema's own message is for programmers), by
input id or its last part (`member-2-age` -> `age`)."""


Posted = Mapping[str, Sequence[str]]
"""The form as posted: every value under each name (checkboxes post several)."""


@dataclass
class Built:
    """The request body made from the form, and which input each part of it came from."""

    body: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    """Wire path (`household.members[0].age`) -> input id (`member-1-age`)."""
    errors: list[FieldError] = field(default_factory=list)

    def input_for(self, path: str) -> str:
        """The input an error's path is about: its own, or its nearest enclosing part's."""
        while path:
            if path in self.inputs:
                return self.inputs[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return ""


def one(posted: Posted, name: str) -> str:
    values = posted.get(name) or [""]
    return values[0].strip()


def many(posted: Posted, name: str) -> list[str]:
    return [v for v in posted.get(name) or [] if v.strip()]


def _district(built: Built, posted: Posted, name: str) -> District | None:
    """The district typed in `name`, or None (an error is noted if it is not a district)."""
    typed = one(posted, name).upper().replace(" ", "")
    if not typed:
        return None
    found = districts().get(typed)
    if found is None:
        built.errors.append(
            FieldError(name, f"Enter a postcode district that exists, like M14 (not {typed})")
        )
    return found


def _point(place: District) -> dict[str, float]:
    return {"latitude": place.latitude, "longitude": place.longitude}


def build(posted: Posted) -> Built:
    """The body for `ReferralCreate`, with district errors noted (nothing checked yet)."""
    built = Built()
    body: dict[str, Any] = {}
    for name in ("reference", "risk_level", "perpetrator_ref"):
        built.inputs[name] = name
        if value := one(posted, name):
            body[name] = value
    body["marac"] = bool(one(posted, "marac"))
    household: dict[str, Any] = {name: bool(one(posted, name)) for name in FLAGS_OF_HOUSEHOLD}
    for name in LISTS:
        household[name] = many(posted, name)
        built.inputs[f"household.{name}"] = name
    if space := one(posted, "space_need"):
        household["space_need"] = space
    if needed_by := one(posted, "needed_by"):
        household["needed_by"] = needed_by
        built.inputs["household.needed_by"] = "needed_by"
    household["members"] = _members(built, posted)
    built.inputs["household.members"] = "member-1-age"
    if home := _district(built, posted, "home"):
        household["home"] = _point(home)
    built.inputs["household.home"] = "home"
    household["perpetrator_locations"] = _perpetrator_locations(built, posted)
    household["stay_near"] = _stay_near(built, posted)
    avoid = [code for i in range(1, AVOID_ROWS + 1) if (code := one(posted, f"avoid-{i}"))]
    for index, _ in enumerate(avoid):
        built.inputs[f"household.avoid_authorities[{index}]"] = f"avoid-{index + 1}"
    household["avoid_authorities"] = avoid
    body["household"] = household
    built.body = body
    return built


def _members(built: Built, posted: Posted) -> list[dict[str, Any]]:
    members: list[dict[str, Any]] = []
    for row in range(1, MEMBER_ROWS + 1):
        prefix = f"member-{row}"
        age, gender = one(posted, f"{prefix}-age"), one(posted, f"{prefix}-gender")
        if not (age or gender):
            continue
        path = f"household.members[{len(members)}]"
        member: dict[str, Any] = {"access_needs": many(posted, f"{prefix}-access")}
        built.inputs[path] = f"{prefix}-age"
        built.inputs[f"{path}.access_needs"] = f"{prefix}-access"
        if age:
            member["age"] = age
        built.inputs[f"{path}.age"] = f"{prefix}-age"
        if gender:
            member["gender"] = gender
        built.inputs[f"{path}.gender"] = f"{prefix}-gender"
        if school := _district(built, posted, f"{prefix}-school"):
            member["school"] = _point(school) | {"district": school.outcode}
        built.inputs[f"{path}.school"] = f"{prefix}-school"
        members.append(member)
    return members


def _perpetrator_locations(built: Built, posted: Posted) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for row in range(1, PERPETRATOR_ROWS + 1):
        place = _district(built, posted, f"perpetrator-{row}-district")
        if place is None:
            continue
        path = f"household.perpetrator_locations[{len(found)}]"
        built.inputs[path] = f"perpetrator-{row}-district"
        built.inputs[f"{path}.radius_km"] = f"perpetrator-{row}-radius"
        location: dict[str, Any] = _point(place)
        if radius := one(posted, f"perpetrator-{row}-radius"):
            location["radius_km"] = radius
        found.append(location)
    return found


def _stay_near(built: Built, posted: Posted) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for row in range(1, NEAR_ROWS + 1):
        place = _district(built, posted, f"near-{row}-district")
        if place is None:
            continue
        path = f"household.stay_near[{len(found)}]"
        built.inputs[path] = f"near-{row}-district"
        built.inputs[f"{path}.label"] = f"near-{row}-label"
        near: dict[str, Any] = _point(place)
        if label := one(posted, f"near-{row}-label"):
            near["label"] = label
        found.append(near)
    return found


def referral_of(posted: Posted) -> tuple[ReferralCreate, Built]:
    """The posted form as the API's `ReferralCreate`; raises `FormInvalid` naming inputs."""
    built = build(posted)
    if built.errors:
        raise FormInvalid(built.errors)
    try:
        return msgspec.convert(built.body, ReferralCreate, strict=False), built
    except msgspec.ValidationError as exc:
        raise FormInvalid(on_inputs(built, errors_of(exc, ReferralCreate))) from exc


def on_inputs(built: Built, errors: list[FieldError]) -> list[FieldError]:
    """Errors about wire paths, as errors about the inputs that held them."""
    shown = []
    for error in errors:
        target = built.input_for(error.field)
        message = error.message
        kind = target.rsplit("-", 1)[-1]
        if error.field in REQUIRED:
            message = REQUIRED[error.field]
        elif message.startswith("Enter the "):
            message = REQUIRED.get(target) or REQUIRED.get(kind, message)
        elif message.startswith(("Expected", "Invalid")):
            message = MALFORMED.get(target) or MALFORMED.get(kind, message)
        shown.append(FieldError(target, message))
    return shown


def rule_errors(built: Built, exc: InvalidInput) -> list[FieldError]:
    """The domain's rule error, on the input it is about."""
    return on_inputs(built, errors_of(exc))
