"""Sentences for chosen options, built from the score parts and the facts behind them."""

LABELS = {
    "school": "school travel",
    "perpetrator_distance": "distance from the perpetrator",
    "near": "near named places",
    "specialist": "specialist fit",
    "cost": "cost",
    "cross_border": "no cross-border placement",
    "perpetrator_move": "perpetrator moves",
}


def describe_score(score: float, parts: dict[str, float], facts: list[str]) -> str:
    shown = ", ".join(f"{LABELS[name]} {value:.2f}" for name, value in parts.items() if value)
    head = f"Meets every rule. Score {score:.2f}" + (f" ({shown})." if shown else ".")
    return " ".join([head, *facts])
