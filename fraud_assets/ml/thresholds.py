"""The analysts' alert budget, and choosing the alert threshold on validation scores.

Convention everywhere in the project: a row is alerted when `score >= threshold`.

The budget follows the volume: `alerts_per_1000` alerts for every 1,000 transactions of a day, rounded, at least
one on a day with any transaction (`daily_alert_budget`); 2.92 per 1,000 is 60 a day at the demo's 20,500.

The budget threshold is the lowest score whose alerts stay within the budget (tied scores are alerted together, so
a tie at the boundary can leave it below the budget). It never fails open: when the rows tied at the top score
alone exceed the budget (XGBoost gives many drained-account frauds the very same top score), that tied group is
alerted and the choice says by how much the budget is exceeded, instead of a threshold above every score.
The net-value strategy returns a score present in the data, or, when no threshold is profitable, the next float64
above the top score (nothing alerted: by that strategy's own rule, reviewing costs more than it would catch).
Candidates are the distinct score values; the work is one sort, never a loop over thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

THRESHOLD_STRATEGIES: tuple[str, ...] = ("alert_budget", "net_value")


@dataclass(frozen=True)
class ThresholdChoice:
    """A chosen threshold and what it gave on the data it was chosen on (per day: averages over its days)."""

    threshold: float
    strategy: str
    expected_precision: float  # NaN when nothing is alerted
    expected_recall: float  # NaN when there is no fraud
    expected_alerts_per_day: float
    alert_budget_per_day: float  # the analysts' budget on those days

    @property
    def alerts_over_budget_per_day(self) -> float:
        """Alerts beyond the budget (a tied top group larger than it); 0 within it."""
        return max(0.0, self.expected_alerts_per_day - self.alert_budget_per_day)


class BudgetUse(Protocol):
    """What a threshold choice and a model card both say of the alerts against the budget."""

    expected_alerts_per_day: float
    alert_budget_per_day: float
    alerts_over_budget_per_day: float


def describe_budget_use(use: BudgetUse) -> str:
    """A threshold's alerts against the analysts' budget on its validation days, in words."""
    used = (f"{use.expected_alerts_per_day:.1f} alerts a day on the validation days against a budget of "
            f"{use.alert_budget_per_day:.1f}")
    if use.alerts_over_budget_per_day > 0:
        return (f"{used}: over the budget by {use.alerts_over_budget_per_day:.1f} a day, because the rows tied at "
                "the top score alone exceed it and are alerted together (rather than no alert at all)")
    return used


def daily_alert_budget(transactions, alerts_per_1000: float):
    """Alerts the analysts review on a day of `transactions` transactions (an int, or an array of day volumes):
    `alerts_per_1000` per 1,000 transactions, rounded, at least one on a day with any transaction, none on an empty
    day."""
    if not alerts_per_1000 > 0:
        raise ValueError(f"alerts_per_1000 must be a number > 0, got {alerts_per_1000}")
    volume = np.asarray(transactions, dtype=np.int64)
    budget = np.where(volume > 0, np.maximum(1, np.rint(volume * alerts_per_1000 / 1000)), 0).astype(np.int64)
    return int(budget) if budget.ndim == 0 else budget


def alert_budget_of_days(days: np.ndarray, alerts_per_1000: float) -> int:
    """The budget of the rows of several days: the sum of each day's budget, from each day's row count."""
    _, rows_per_day = np.unique(np.asarray(days), return_counts=True)
    return int(daily_alert_budget(rows_per_day, alerts_per_1000).sum())


def threshold_for_alert_budget(scores: np.ndarray, alert_budget: int) -> float:
    """The lowest distinct score v with count(scores >= v) <= alert_budget: the next lower score would exceed the
    budget. When even the rows tied at the top score exceed it, the top score: that tied group is alerted (over
    the budget) rather than nothing.
    """
    values = _as_scores(scores)
    if alert_budget < 1:
        raise ValueError(f"alert_budget must be at least 1, got {alert_budget}")
    distinct, counts = np.unique(values, return_counts=True)
    alerts_at = np.cumsum(counts[::-1])[::-1]  # alerts_at[i] = count(scores >= distinct[i])
    within_budget = alerts_at <= alert_budget
    if not within_budget.any():
        return float(distinct[-1])
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
    alerts_per_1000: float,
    review_cost_per_alert: float,
) -> ThresholdChoice:
    """Pick a threshold with `strategy` ("alert_budget" or "net_value") and report what it gives on these rows,
    against the alert budget of their days.

    Expected precision is NaN when nothing is alerted, expected recall NaN when there is no fraud.
    """
    budget = alert_budget_of_days(days, alerts_per_1000)
    if strategy == "alert_budget":
        threshold = threshold_for_alert_budget(scores, budget)
    elif strategy == "net_value":
        threshold = threshold_for_net_value(scores, labels, amounts, review_cost_per_alert)
    else:
        raise ValueError(f"Unknown threshold strategy {strategy!r}; allowed values: {', '.join(THRESHOLD_STRATEGIES)}")
    alerted = _as_scores(scores) >= threshold
    fraud = np.asarray(labels).astype(bool)
    true_positives = int((alerted & fraud).sum())
    n_days = len(np.unique(np.asarray(days)))
    return ThresholdChoice(
        threshold=threshold,
        strategy=strategy,
        expected_precision=_ratio(true_positives, int(alerted.sum())),
        expected_recall=_ratio(true_positives, int(fraud.sum())),
        expected_alerts_per_day=int(alerted.sum()) / n_days,
        alert_budget_per_day=budget / n_days,
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
