"""The provider's forms as posted: the fields a person fills in, before they become the
API's own bodies (`SchemeCreate`, `UnitCreate`, `UnitUpdate`, `OfferDecline`, `MoveOut`),
whose rules and words then apply unchanged.

A form differs from its API body only where a person enters something other than what
the API takes: a scheme's place as a postcode district (its centre is the point) rather
than coordinates, a date as day, month and year.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import ClassVar

import msgspec

from api.pages.forms import FieldError, FormInvalid, errors_of
from placement.enums import (
    AccessFeature,
    DeclineReason,
    GenderPolicy,
    MoveOutReason,
    OutOfServiceReason,
    RiskLevel,
    SchemeType,
    Support,
    UnitStatus,
)
from placement.errors import InvalidInput


class SchemeForm(msgspec.Struct):
    name: str
    scheme_type: SchemeType
    address: str
    postcode: str
    gender_policy: GenderPolicy
    max_risk_level: RiskLevel
    postcode_district: str | None = None
    authority_code: str | None = None
    max_boy_age: int | None = None
    accepts_nrpf: bool = False
    accepts_pets: bool = False
    support: list[Support] = msgspec.field(default_factory=list)
    weekly_cost: float = 0.0

    REQUIRED: ClassVar[dict[str, str]] = {
        "name": "Enter the scheme's name",
        "scheme_type": "Select the type of scheme",
        "address": "Enter the scheme's address",
        "postcode": "Enter the scheme's full postcode, like M14 5AB",
        "gender_policy": "Select who the scheme takes",
        "max_risk_level": "Select the highest risk level the scheme takes",
    }


class UnitForm(msgspec.Struct):
    scheme_id: uuid.UUID
    label: str
    bedrooms: int
    bed_spaces: int
    cots: int = 0
    access_features: list[AccessFeature] = msgspec.field(default_factory=list)

    REQUIRED: ClassVar[dict[str, str]] = {
        "scheme_id": "Select the scheme the unit is in",
        "label": "Enter the unit's name, like Room 1",
        "bedrooms": "Enter the number of bedrooms",
        "bed_spaces": "Enter the number of bed spaces",
    }


class StatusForm(msgspec.Struct):
    version: int
    status: UnitStatus
    out_of_service_reason: OutOfServiceReason | None = None
    back_day: int | None = None
    back_month: int | None = None
    back_year: int | None = None

    REQUIRED: ClassVar[dict[str, str]] = {
        "status": "Select the unit's status",
        "version": "Open the unit's page again",
    }

    def expected_back_on(self) -> date | None:
        """The expected return date from its three fields; all empty is no date."""
        parts = (self.back_day, self.back_month, self.back_year)
        if all(part is None for part in parts):
            return None
        if any(part is None for part in parts):
            raise InvalidInput(
                "expected_back_on", "The expected return date must include a day, month and year"
            )
        try:
            return date(self.back_year, self.back_month, self.back_day)  # type: ignore[arg-type]
        except ValueError:
            raise InvalidInput(
                "expected_back_on", "The expected return date must be a real date"
            ) from None


class DeclineForm(msgspec.Struct):
    reason: DeclineReason
    note: str | None = None

    REQUIRED: ClassVar[dict[str, str]] = {"reason": "Select why you are declining the offer"}


class MoveOutForm(msgspec.Struct):
    reason: MoveOutReason

    REQUIRED: ClassVar[dict[str, str]] = {"reason": "Select why support ended"}


REFUSALS = (FormInvalid, InvalidInput, msgspec.ValidationError)
"""What a posted form can fail with: its own shape, the API body's limits, a domain rule."""


def errors_for(
    exc: FormInvalid | InvalidInput | msgspec.ValidationError, form: type[msgspec.Struct]
) -> list[FieldError]:
    """The error summary's entries for a refused form, in the form's own words."""
    if isinstance(exc, FormInvalid):
        return exc.errors
    return errors_of(exc, form, getattr(form, "REQUIRED", None))
