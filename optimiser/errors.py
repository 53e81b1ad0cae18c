"""The one error a caller should expect from the optimiser."""


class ProblemError(ValueError):
    """A problem that breaks a rule of its own shape (not a matching rule), found before any
    solving starts so that a caller can point at the offending field."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule
