"""Wire-level vocabularies shared with the service.

The values are the service's own JSON values, so a string from a request can be used as
it is: a ``StrEnum`` member compares and hashes equal to its value, and the problem types
accept either form.
"""

from enum import StrEnum


class GenderPolicy(StrEnum):
    """Who a scheme takes."""

    WOMEN_ONLY = "women_only"
    MEN_ONLY = "men_only"
    ANY_GENDER = "any_gender"
    LGBTQ_SPECIALIST = "lgbtq_specialist"


class Gender(StrEnum):
    """A household member's gender, as the household gives it."""

    FEMALE = "female"
    MALE = "male"
    NON_BINARY = "non_binary"


class RiskLevel(StrEnum):
    """Risk from a DASH-style assessment; ordered, see :data:`RISK_RANK`."""

    STANDARD = "standard"
    MEDIUM = "medium"
    HIGH = "high"


RISK_RANK: dict[str, int] = {RiskLevel.STANDARD: 0, RiskLevel.MEDIUM: 1, RiskLevel.HIGH: 2}


class AccessFeature(StrEnum):
    """An access need of a person is met by the unit feature of the same name."""

    STEP_FREE = "step_free"
    WHEELCHAIR = "wheelchair"
    GROUND_FLOOR = "ground_floor"
    ADAPTED_BATHROOM = "adapted_bathroom"


class Support(StrEnum):
    """Support a household needs and a scheme offers."""

    SUBSTANCE_USE = "substance_use"
    MENTAL_HEALTH = "mental_health"
    COMPLEX_NEEDS = "complex_needs"


class Specialism(StrEnum):
    """What a provider specialises in (by-and-for services, LGBTQ+, Deaf BSL users, ...)."""

    BY_AND_FOR = "by_and_for"
    LGBTQ = "lgbtq"
    DEAF_BSL = "deaf_bsl"
    MALE_VICTIMS = "male_victims"
    OLDER_VICTIMS = "older_victims"
    YOUNG_PEOPLE = "young_people"


class SchemeType(StrEnum):
    """The 'relevant accommodation' types of SI 2021/991."""

    REFUGE = "refuge"
    SPECIALIST_SAFE_ACCOMMODATION = "specialist_safe_accommodation"
    DISPERSED_ACCOMMODATION = "dispersed_accommodation"
    SANCTUARY_SCHEME = "sanctuary_scheme"
    SECOND_STAGE_ACCOMMODATION = "second_stage_accommodation"
    OTHER_EMERGENCY_ACCOMMODATION = "other_emergency_accommodation"


class PerpetratorCondition(StrEnum):
    """A legal condition on the perpetrator a rehousing option can work with (DVPN, DVPO,
    bail, ...)."""

    DVPN = "dvpn"
    DVPO = "dvpo"
    BAIL = "bail"
    PROBATION = "probation"


class SpaceNeed(StrEnum):
    """A household that needs one of these must get a scheme with that policy."""

    WOMEN_ONLY = "women_only"
    LGBTQ_SPECIALIST = "lgbtq_specialist"
