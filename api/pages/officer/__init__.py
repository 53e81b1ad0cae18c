"""The housing officer's pages: referrals, matches, offers, allocation and the reveal.

Each module is one family of pages on the same services as the API's controllers
(`referrals`: the list, the form, one referral; `matching`: ranked matches and why not
a unit; `allocation`: the allocation panel and its queued runs; `booking`: offers and
the address reveal). `words` names
the domain's values for people; `referral_form` turns the form into `ReferralCreate`.
"""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from api.pages.officer.allocation import OfficerAllocationPages
from api.pages.officer.booking import OfficerBookingPages
from api.pages.officer.matching import OfficerMatchingPages
from api.pages.officer.referrals import OfficerReferralPages

HANDLERS: list[ControllerRouterHandler] = [
    OfficerReferralPages,
    OfficerMatchingPages,
    OfficerAllocationPages,
    OfficerBookingPages,
]
