from optimiser.reasons import SENTENCES, Reason, explain_exclusion
from optimiser.rules import HARD_RULES


def test_every_reason_has_a_sentence_and_every_unit_rule_a_reason() -> None:
    assert set(SENTENCES) == set(Reason)
    assert all(s.endswith(".") and s[0].isupper() for s in SENTENCES.values())
    assert len({reason for reason, _ in HARD_RULES}) == len(HARD_RULES)


def test_explanations_list_reasons_in_a_fixed_order() -> None:
    text = explain_exclusion([Reason.PETS, Reason.CAPACITY_BED_SPACES, Reason.PETS])
    assert text.index("bed spaces") < text.index("pets")
    assert text.count("pets") == 2
