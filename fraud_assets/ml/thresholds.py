"""Choosing the alert threshold on validation scores.

Convention everywhere in the project: a row is alerted when `score >= threshold`.
Both strategies return a score value present in the data, or, when no threshold at or below the top
score is acceptable, the next float64 above the top score (no row of these data is alerted).
Candidates are the distinct score values; the work is one sort, never a loop over thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

THRESHOLD_STRATEGIES: tuple[str, ...] = ("alert_budget", "net_value")


@dataclass(frozen=True)
class ThresholdChoice:
    """A chosen threshold and what it gave on the data it was chosen on."""

    threshold: float
    strategy: str
    expected_precision: float
    expected_recall: float
    expected_alerts_per_day: float


def threshold_for_alert_budget(scores: np.ndarray, days: np.ndarray, alert_budget_per_day: int) -> float:
    """The lowest threshold whose average number of alerts per day stays within the budget.

    With D distinct days, the threshold is the lowest distinct score value v such that
    count(scores >= v) <= alert_budget_per_day * D; the next lower distinct score would exceed that.
    Tied scores are alerted together, so ties at the boundary can leave the average below the budget.
    If even the top score alone exceeds the budget (a budget of 0, or ties at the top), the next
    float above the top score is returned and nothing is alerted.
    """
    values = _as_scores(scores)
    if alert_budget_per_day < 0:
        raise ValueError(f"alert_budget_per_day must be >= 0, got {alert_budget_per_day}")
    max_alerts = alert_budget_per_day * len(np.unique(np.asarray(days)))
    distinct, counts = np.unique(values, return_counts=True)
    alerts_at = np.cumsum(counts[::-1])[::-1]  # alerts_at[i] = count(scores >= distinct[i])
    within_budget = alerts_at <= max_alerts
    if not within_budget.any():
        return _above(distinct[-1])
    return float(distinct[np.argmax(within_budget)])


def threshold_for_net_value(
    scores: np.ndarray, labels: np.ndarray, amounts: np.ndarray, review_cost_per_alert: float
) -> float:
    """The threshold maximising (amount of fraud alerted) - review_cost_per_alert * (number of alerts).

    Not alerting at all is a candidate worth 0. Among thresholds of equal value the highest
    (fewest alerts) wins, so with no profitable threshold nothing is alerted.
    """
    values = _as_scores(scores)
    fraud_amounts = np.where(np.asarray(labels).astype(bool), np.asarray(amounts, dtype=np.float64), 0.0)
    distinct, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    fraud_amount_per_score = np.bincount(inverse, weights=fraud_amounts, minlength=len(distinct))
    caught_at = np.cumsum(fraud_amount_per_score[::-1])[::-1]
    alerts_at = np.cumsum(counts[::-1])[::-1]
    net_value = caught_at - review_cost_per_alert * alerts_at
    best = len(net_value) - 1 - np.argmax(net_value[::-1])  # the highest threshold among the maxima
    if net_value[best] <= 0:
        return _above(distinct[-1])
    return float(distinct[best])


def choose_threshold(
    strategy: str,
    scores: np.ndarray,
    labels: np.ndarray,
    amounts: np.ndarray,
    days: np.ndarray,
    alert_budget_per_day: int,
    review_cost_per_alert: float,
) -> ThresholdChoice:
    """Pick a threshold with `strategy` ("alert_budget" or "net_value") and report what it gives on these rows.

    Expected precision is NaN when nothing is alerted, expected recall NaN when there is no fraud.
    """
    if strategy == "alert_budget":
        threshold = threshold_for_alert_budget(scores, days, alert_budget_per_day)
    elif strategy == "net_value":
        threshold = threshold_for_net_value(scores, labels, amounts, review_cost_per_alert)
    else:
        raise ValueError(f"Unknown threshold strategy {strategy!r}; allowed values: {', '.join(THRESHOLD_STRATEGIES)}")
    alerted = _as_scores(scores) >= threshold
    fraud = np.asarray(labels).astype(bool)
    true_positives = int((alerted & fraud).sum())
    return ThresholdChoice(
        threshold=threshold,
        strategy=strategy,
        expected_precision=_ratio(true_positives, int(alerted.sum())),
        expected_recall=_ratio(true_positives, int(fraud.sum())),
        expected_alerts_per_day=int(alerted.sum()) / len(np.unique(np.asarray(days))),
    )


def _as_scores(scores: np.ndarray) -> np.ndarray:
    """Scores as a non-empty float64 array."""
    values = np.asarray(scores, dtype=np.float64)
    if values.size == 0:
        raise ValueError("Cannot choose a threshold without scores")
    return values


def _above(top_score: float) -> float:
    """The smallest float64 above the top score: a threshold that alerts none of these rows."""
    return float(np.nextafter(top_score, np.inf))


def _ratio(numerator: int, denominator: int) -> float:
    """numerator / denominator, NaN when the denominator is 0."""
    return numerator / denominator if denominator else float("nan")


def high_precision_level(scores: np.ndarray, labels: np.ndarray, min_precision: float = 0.9) -> float:
    """The lowest score s such that the rows scoring >= s have a precision of at least `min_precision`.

    Above it the scores are nearly all fraud, so how many rows reach it each day tracks how much fraud the model
    still recognises. NaN when no score level reaches that precision.
    """
    values = _as_scores(scores)
    order = np.argsort(-values, kind="stable")
    fraud = np.asarray(labels).astype(bool)[order]
    precision = np.cumsum(fraud) / np.arange(1, len(values) + 1)
    reaching = np.flatnonzero(precision >= min_precision)
    return float(values[order][reaching[-1]]) if reaching.size else float("nan")
