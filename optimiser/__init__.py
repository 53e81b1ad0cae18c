"""Matching households to safe accommodation under every hard rule, explained.

Pure: no database, network or files. See :func:`options_for_household` (one household,
every unit, fast), :func:`allocate` (many cases jointly, with reciprocal caps, keep-apart
and perpetrator moves), :func:`perpetrator_options`, and :func:`rules_broken` (one pair,
rules only).
"""

from optimiser.allocation import AllocationResult, Assignment, allocate
from optimiser.composition import SELF_CONTAINED_TYPES
from optimiser.enums import (
    AccessFeature,
    Gender,
    GenderPolicy,
    PerpetratorCondition,
    RiskLevel,
    SchemeType,
    SpaceNeed,
    Specialism,
    Support,
)
from optimiser.errors import ProblemError
from optimiser.options import NearMiss, OptionsResult, RankedOption, options_for_household
from optimiser.pair import rules_broken
from optimiser.perpetrator import (
    PerpetratorOptionsResult,
    RankedPerpetratorOption,
    perpetrator_options,
)
from optimiser.problem import (
    Household,
    Member,
    Point,
    Problem,
    Protocol,
    RehousingOption,
    Unit,
    Weights,
    Zone,
)
from optimiser.protocols import CheckedProtocols
from optimiser.reasons import Reason
from optimiser.unit_table import UnitTable

__all__ = [
    "SELF_CONTAINED_TYPES",
    "AccessFeature",
    "AllocationResult",
    "Assignment",
    "CheckedProtocols",
    "Gender",
    "GenderPolicy",
    "Household",
    "Member",
    "NearMiss",
    "OptionsResult",
    "PerpetratorCondition",
    "PerpetratorOptionsResult",
    "Point",
    "Problem",
    "ProblemError",
    "Protocol",
    "RankedOption",
    "RankedPerpetratorOption",
    "Reason",
    "RehousingOption",
    "RiskLevel",
    "SchemeType",
    "SpaceNeed",
    "Specialism",
    "Support",
    "Unit",
    "UnitTable",
    "Weights",
    "Zone",
    "allocate",
    "options_for_household",
    "perpetrator_options",
    "rules_broken",
]
