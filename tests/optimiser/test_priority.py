from optimiser.priority import priority_points
from optimiser.problem import Member, Weights
from tests.optimiser.builders import household, woman


def test_priority_adds_risk_children_and_waiting() -> None:
    assert priority_points(household(), Weights()) == 100
    assert priority_points(household(risk_level="high"), Weights()) == 300
    assert priority_points(household(members=(woman(), Member(3, "male"))), Weights()) == 150
    assert priority_points(household(days_waiting=70), Weights()) == 150
    assert priority_points(household(days_waiting=10_000), Weights()) == priority_points(
        household(days_waiting=365), Weights()
    )
    assert priority_points(household(risk_level="high"), Weights(priority_risk=0.0)) == 100
