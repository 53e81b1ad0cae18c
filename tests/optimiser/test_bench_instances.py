from optimiser.bench_instances import instance
from optimiser.candidates import build_candidates
from optimiser.validation import validate_problem


def test_instances_are_valid_deterministic_and_scarce() -> None:
    problem = instance("small", seed=3)
    validate_problem(problem)
    assert problem == instance("small", seed=3)
    assert len(problem.households) == 50 and len(problem.units) == 500
    c = build_candidates(problem)
    suitable = {int(t) for t in c.target if c.targets[int(t)].option_id is None}
    assert sum(c.targets[t].capacity for t in suitable) < len(set(c.household.tolist()))
