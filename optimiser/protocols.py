"""Which agreement governs a cross-border placement, and how much room it leaves.

When several protocols cover the same two authorities (a group protocol and a bilateral
reciprocal, say) exactly one governs each placement, so that a placement is charged to
one balance only: an uncapped protocol if there is one (it limits nothing), otherwise
the most specific (fewest members), then the lowest id. Options and allocation use the
same choice, so a unit offered as an option is never refused by the allocator for a cap
the officer did not see.

Room: an authority may send ``cap - balance`` more households than it receives. An
authority already past its cap may still receive, and may send one for each it receives:
the allocator never makes a balance worse than it was, nor pushes it past the cap.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from optimiser.problem import Protocol
from optimiser.validation import validate_protocols


@dataclass(frozen=True, slots=True)
class CheckedProtocols:
    """Protocols validated once, for the many requests that read the same ones.

    A caller holding a snapshot of the registry (the service's per-worker index) checks
    its protocols when the snapshot is built and passes this to every match; a plain
    sequence is checked on each call instead.
    """

    protocols: tuple[Protocol, ...]
    _receivers: dict[str, dict[str, Protocol]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """Each sender's :func:`receivers`, worked out on its first request: every match from
    an authority asks the same question of the same protocols."""

    @classmethod
    def of(cls, protocols: Iterable[Protocol]) -> "CheckedProtocols":
        protocols = tuple(protocols)
        validate_protocols(protocols)
        return cls(protocols)

    def receivers(self, sender: str) -> dict[str, Protocol]:
        """:func:`receivers` of these protocols, kept per sender (read-only by contract:
        the same dict is handed to every caller). Two threads may both work out a sender
        the first time; they get equal answers, and one is kept."""
        found = self._receivers.get(sender)
        if found is None:
            found = self._receivers.setdefault(sender, receivers(self.protocols, sender))
        return found


Protocols = Sequence[Protocol] | CheckedProtocols
"""What the request functions take: protocols to check, or checked ones."""


def as_checked(protocols: Protocols) -> CheckedProtocols:
    """The protocols, validated unless they already were."""
    if isinstance(protocols, CheckedProtocols):
        return protocols
    return CheckedProtocols.of(protocols)


def checked(protocols: Protocols) -> tuple[Protocol, ...]:
    """The protocols, validated unless they already were."""
    return as_checked(protocols).protocols


def _preference(protocol: Protocol) -> tuple[int, int, str]:
    return (protocol.balance_cap is not None, len(protocol.members), protocol.id)


def governing_protocol(
    protocols: Sequence[Protocol], sender: str, receiver: str
) -> Protocol | None:
    """The protocol a placement from ``sender`` into ``receiver`` is made under, if any."""
    covering = [p for p in protocols if sender in p.members and receiver in p.members]
    return min(covering, key=_preference, default=None)


def room(protocol: Protocol, sender: str) -> int | None:
    """How many more households ``sender`` may send than receive; ``None`` is unlimited."""
    if protocol.balance_cap is None:
        return None
    return max(protocol.balance_cap - protocol.balance(sender), 0)


def receivers(protocols: Sequence[Protocol], sender: str) -> dict[str, Protocol]:
    """Every other authority ``sender`` may place into, with the protocol that governs."""
    out: dict[str, Protocol] = {}
    for protocol in sorted(protocols, key=_preference):
        if sender in protocol.members:
            for receiver in protocol.members:
                if receiver != sender:
                    out.setdefault(receiver, protocol)
    return out
