from types import MappingProxyType

from hypothesis import given, settings
from hypothesis import strategies as st

from optimiser.problem import Protocol
from optimiser.protocols import CheckedProtocols, governing_protocol, receivers, room
from tests.optimiser import strategies

GROUP = Protocol(
    id="gm", members=frozenset({"A", "B", "C"}), balance_cap=3, balances=MappingProxyType({"A": 1})
)
PAIR = Protocol(id="ab", members=frozenset({"A", "B"}), balance_cap=1)
OPEN = Protocol(id="zz", members=frozenset({"A", "B", "C", "D"}))


def test_the_most_specific_capped_protocol_governs() -> None:
    assert governing_protocol([GROUP, PAIR], "A", "B") == PAIR
    assert governing_protocol([GROUP, PAIR], "A", "C") == GROUP
    assert governing_protocol([GROUP, PAIR], "A", "D") is None


def test_an_uncapped_protocol_always_governs() -> None:
    assert governing_protocol([GROUP, PAIR, OPEN], "A", "B") == OPEN


def test_room_never_goes_below_zero() -> None:
    assert room(GROUP, "A") == 2
    assert room(GROUP, "B") == 3
    assert (
        room(
            Protocol(
                id="x",
                members=frozenset({"A", "B"}),
                balance_cap=1,
                balances=MappingProxyType({"A": 4}),
            ),
            "A",
        )
        == 0
    )
    assert room(OPEN, "A") is None


def test_receivers_match_governing_protocol() -> None:
    got = receivers([GROUP, PAIR], "A")
    assert got == {"B": PAIR, "C": GROUP}
    for receiver, protocol in got.items():
        assert governing_protocol([GROUP, PAIR], "A", receiver) == protocol


@settings(max_examples=100, deadline=None)
@given(strategies.protocols(), st.sampled_from((*strategies.AUTHORITIES, "Z")))
def test_checked_protocols_keep_each_senders_receivers_as_worked_out(
    protocols: tuple[Protocol, ...], sender: str
) -> None:
    memo = CheckedProtocols.of(protocols)
    first = memo.receivers(sender)
    assert first == receivers(protocols, sender)
    assert memo.receivers(sender) is first
    assert memo == CheckedProtocols.of(protocols)
