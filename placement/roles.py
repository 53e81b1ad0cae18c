"""Who may act: the roles of keys and accounts.

Its own module, importing nothing, so that the command line can offer the roles without
loading the matcher (which `placement.enums` re-exports from).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a key may do: admin, housing officer, integration, provider or commissioner."""

    ADMIN = "admin"
    HOUSING_OFFICER = "housing_officer"
    INTEGRATION = "integration"
    PROVIDER = "provider"
    COMMISSIONER = "commissioner"


OFFICER_ROLES = frozenset({Role.HOUSING_OFFICER, Role.INTEGRATION})
"""Housing officers and integrations act alike, for one authority."""
