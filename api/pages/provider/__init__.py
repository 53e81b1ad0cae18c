"""The refuge provider's pages: the vacancy board (schemes, units, status, move-out) and
the offers inbox. No rule lives here: each page calls the services the API's schemes,
units, offers and placements call, with the signed-in person's `Principal`, so a
provider sees and changes only its own schemes, units and offers."""

from __future__ import annotations

from api.pages.provider.inbox import InboxPages
from api.pages.provider.vacancies import VacancyPages

__all__ = ["InboxPages", "VacancyPages"]
