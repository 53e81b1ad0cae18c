"""Whether one household may have one unit: the hard rules alone.

Before a unit is held for a household, the service checks the pair against the same
rules the ranking uses, but needs neither scores nor words: only which rules, if any,
the pair breaks. This runs the rules on a one-unit table and stops there.
"""

from datetime import date

from optimiser.problem import Household, Unit
from optimiser.protocols import Protocols, checked
from optimiser.reasons import Reason
from optimiser.rules import Request, broken_rules
from optimiser.unit_table import UnitTable
from optimiser.validation import validate_household, validate_unit


def rules_broken(
    unit: Unit,
    household: Household,
    protocols: Protocols,
    as_of: date,
    *,
    linked_schemes: frozenset[str] = frozenset(),
) -> tuple[Reason, ...]:
    """Every hard rule the pair breaks, in explanation order; empty when it may be offered.

    ``linked_schemes`` are as for :func:`optimiser.options_for_household`.
    """
    validate_household(household)
    validate_unit(unit)
    protocols = checked(protocols)
    table = UnitTable.from_units([unit])
    request = Request.build(table, household, protocols, as_of, linked_schemes=linked_schemes)
    return tuple(reason for reason, _ in broken_rules(table, request))
