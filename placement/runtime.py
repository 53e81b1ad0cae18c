"""What one worker builds once and every request's services share.

A service acts for one request (its transaction and its principal) with the worker's
long-lived parts: the cipher, the read-audit writer, the registry index, the
matcher's weights and the households lately decrypted. Passing them as one record lets
the API build any service the same way (see `api.common.provide`), and the pages can do
the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import optimiser
from placement.audit import ReadAudit
from placement.config import Settings
from placement.crypto import Cipher
from placement.households import Unsealed
from placement.inline_reads import InlineReads
from placement.matching.index import RegistryIndex


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    cipher: Cipher
    reads: ReadAudit
    """Writes audit events of reads in batches, outside the reader's transaction."""
    index: RegistryIndex
    weights: optimiser.Weights
    households: Unsealed = field(default_factory=Unsealed)
    """Households lately decrypted, by ciphertext (reads are still checked and audited)."""
    inline: InlineReads = field(default_factory=InlineReads)
    """Hot single-row reads on the event loop's thread (SQLite files; none by default)."""

    @property
    def offer_hold(self) -> timedelta:
        """How long an offer holds its unit."""
        return timedelta(hours=self.settings.offer_hold_hours)
