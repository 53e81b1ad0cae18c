from hypothesis import given, settings
from hypothesis import strategies as st

from optimiser.composition import composition
from optimiser.problem import Member
from tests.optimiser.builders import household, woman
from tests.optimiser.checker import bedrooms_needed


def rooms(*members: Member) -> int:
    return composition(household(members=members)).bedrooms


def test_bedroom_standard_by_hand() -> None:
    assert rooms(woman()) == 1
    assert rooms(woman(), woman(40)) == 1
    assert rooms(woman(), Member(1, "male")) == 1
    assert rooms(woman(), Member(4, "male"), Member(6, "female")) == 2
    assert rooms(woman(), Member(12, "male"), Member(6, "female")) == 3
    assert rooms(woman(), Member(12, "male"), Member(15, "male")) == 2
    assert rooms(woman(), Member(12, "male"), Member(8, "male"), Member(7, "female")) == 3
    assert rooms(woman(), Member(16, "female"), Member(15, "female")) == 3
    assert rooms(Member(17, "female"), Member(1, "female")) == 2


def test_composition_counts() -> None:
    c = composition(
        household(
            members=(
                woman(),
                Member(1, "male"),
                Member(12, "male"),
                Member(3, "female", frozenset({"wheelchair"})),
            )
        )
    )
    assert (c.size, c.infants, c.children, c.oldest_boy) == (4, 1, 3, 12)
    assert c.adult_genders == {"female"}
    assert c.access_needs == {"wheelchair"}


children = st.lists(
    st.builds(Member, st.integers(0, 17), st.sampled_from(("female", "male", "non_binary"))),
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(children, st.booleans())
def test_pairing_is_as_good_as_brute_force(kids: list[Member], with_adult: bool) -> None:
    members = ([woman()] if with_adult else []) + kids
    if not members:
        return
    h = household(members=tuple(members))
    assert composition(h).bedrooms == bedrooms_needed(h)
