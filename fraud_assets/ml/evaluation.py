"""Model quality figures: metrics of a scored slice, a precision-recall figure, per-day performance.

Conventions:
- a row is alerted at a threshold when `score >= threshold`;
- "at budget" means that each day the day's alert budget of highest scores is alerted (`daily_alert_budget`:
  `alerts_per_1000` per 1,000 of the day's transactions); tied scores at the cut are taken in row order, so a day
  never gets more than its budget;
- a ratio whose denominator is 0 is NaN (precision with no alert, recall with no fraud), and so are
  AUPRC and ROC AUC on a slice without both fraud and genuine rows: NaN, never an exception.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from fraud_assets.ml.thresholds import daily_alert_budget

PER_DAY_COLUMNS: list[str] = [
    "day",
    "model_version",
    "n_rows",
    "n_fraud",
    "n_alerts",
    "true_positives",
    "precision",
    "recall",
    "auprc",
    "recall_at_budget",
]


def evaluate(
    y_true: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    amounts: np.ndarray,
    days: np.ndarray,
    alerts_per_1000: float,
) -> dict[str, float]:
    """Metrics of scored rows at a threshold and at the daily alert budget (see the module conventions)."""
    fraud = np.asarray(y_true).astype(bool)
    score_values = np.asarray(scores, dtype=np.float64)
    amount_values = np.asarray(amounts, dtype=np.float64)
    day_values = np.asarray(days)
    alerted = score_values >= threshold
    budget_alerted = alerts_within_budget(score_values, [day_values], alerts_per_1000)

    true_positives = int((alerted & fraud).sum())
    n_alerts = int(alerted.sum())
    n_fraud = int(fraud.sum())
    caught_at_budget = int((budget_alerted & fraud).sum())
    precision = _ratio(true_positives, n_alerts)
    recall = _ratio(true_positives, n_fraud)
    fraud_amount_total = float(amount_values[fraud].sum())
    fraud_amount_caught = float(amount_values[alerted & fraud].sum())
    return {
        "auprc": _auprc(fraud, score_values),
        "roc_auc": _roc_auc(fraud, score_values),
        "precision": precision,
        "recall": recall,
        "f1": _f1(precision, recall),
        "n_alerts": float(n_alerts),
        "alerts_per_day": _ratio(n_alerts, len(np.unique(day_values))),
        "recall_at_budget": _ratio(caught_at_budget, n_fraud),
        "precision_at_budget": _ratio(caught_at_budget, int(budget_alerted.sum())),
        "fraud_amount_total": fraud_amount_total,
        "fraud_amount_caught": fraud_amount_caught,
        "fraud_amount_caught_share": _ratio(fraud_amount_caught, fraud_amount_total),
        "brier": float(np.mean((score_values - fraud) ** 2)) if len(fraud) else float("nan"),
        "n_rows": float(len(fraud)),
        "n_fraud": float(n_fraud),
    }


def precision_recall_curve_figure(y_true: np.ndarray, scores: np.ndarray, threshold: float):
    """Precision-recall curve with the point of `threshold` marked (a matplotlib Agg figure, not registered with
    pyplot; matplotlib is imported here, not when the module loads)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fraud = np.asarray(y_true).astype(bool)
    score_values = np.asarray(scores, dtype=np.float64)
    figure = Figure(figsize=(6, 4.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02))
    if not fraud.any() or fraud.all():
        axes.set_title("Precision-recall: undefined (the slice needs fraud and genuine rows)")
        return figure
    precision, recall, _ = precision_recall_curve(fraud, score_values)
    axes.plot(recall, precision, drawstyle="steps-post", label="model")
    axes.axhline(fraud.mean(), color="grey", linestyle=":", label=f"fraud rate {fraud.mean():.4f}")
    alerted = score_values >= threshold
    true_positives = int((alerted & fraud).sum())
    if alerted.any():
        axes.plot(
            true_positives / fraud.sum(),
            true_positives / alerted.sum(),
            "o",
            color="tab:red",
            label=f"threshold {threshold:.4g}",
        )
    axes.set_title(f"Precision-recall (AUPRC {_auprc(fraud, score_values):.4f})")
    axes.legend(loc="lower left")
    return figure


def per_day_performance(frame: pd.DataFrame, alerts_per_1000: float) -> pd.DataFrame:
    """One row per (day, model_version) with `PER_DAY_COLUMNS`.

    Input columns: day, score, is_alert, label (0/1), amount, model_version. Precision and recall
    are those of `is_alert` (precision NaN on a day without alerts); recall_at_budget alerts the top scores of each
    (day, model_version) up to its alert budget.
    """
    if frame.empty:
        return pd.DataFrame(columns=PER_DAY_COLUMNS)
    keys = ["day", "model_version"]
    fraud = frame["label"].astype(bool).to_numpy()
    alerted = frame["is_alert"].astype(bool).to_numpy()
    budget_alerted = alerts_within_budget(
        frame["score"].to_numpy(dtype=np.float64),
        [frame["day"].to_numpy(), frame["model_version"].to_numpy()],
        alerts_per_1000,
    )
    flags = pd.DataFrame(
        {
            "day": frame["day"].to_numpy(),
            "model_version": frame["model_version"].to_numpy(),
            "score": frame["score"].to_numpy(dtype=np.float64),
            "fraud": fraud,
            "alerted": alerted,
            "true_positive": alerted & fraud,
            "caught_at_budget": budget_alerted & fraud,
        }
    )
    groups = flags.groupby(keys, sort=True, dropna=False)
    table = groups.agg(
        n_rows=("fraud", "size"),
        n_fraud=("fraud", "sum"),
        n_alerts=("alerted", "sum"),
        true_positives=("true_positive", "sum"),
        caught_at_budget=("caught_at_budget", "sum"),
    )
    table["auprc"] = groups[["fraud", "score"]].apply(lambda group: _auprc(group["fraud"], group["score"]))
    table["precision"] = table["true_positives"] / table["n_alerts"].where(table["n_alerts"] > 0)
    table["recall"] = table["true_positives"] / table["n_fraud"].where(table["n_fraud"] > 0)
    table["recall_at_budget"] = table["caught_at_budget"] / table["n_fraud"].where(table["n_fraud"] > 0)
    return table.reset_index()[PER_DAY_COLUMNS]


def alerts_within_budget(scores: np.ndarray, group_keys: list[np.ndarray], alerts_per_1000: float) -> np.ndarray:
    """Boolean mask of the highest scores of each group (a day) up to the group's alert budget, from its row count
    (ties in row order; NaN scores never)."""
    groups = pd.Series(scores).groupby(group_keys, sort=False, dropna=False)
    ranks = groups.rank(method="first", ascending=False).to_numpy()
    budgets = daily_alert_budget(groups.transform("size").to_numpy(), alerts_per_1000)
    return ranks <= budgets


def alerts_against_budget(days: np.ndarray, is_alert: np.ndarray, alerts_per_1000: float) -> pd.DataFrame:
    """Per day: transactions, alerts, the day's alert budget and the alerts beyond it (0 within it)."""
    frame = pd.DataFrame({"day": np.asarray(days), "alert": np.asarray(is_alert, dtype=bool)})
    table = frame.groupby("day", sort=True).agg(transactions=("alert", "size"), alerts=("alert", "sum"))
    table["budget"] = daily_alert_budget(table["transactions"].to_numpy(), alerts_per_1000)
    table["over_budget"] = np.maximum(0, table["alerts"] - table["budget"])
    return table.reset_index()


def describe_alert_quality(precision: float, recall: float, n_alerts: int) -> str:
    """Precision and recall at a threshold in words: "no alerts" where nothing was alerted, never NaN."""
    if n_alerts == 0:
        return "no alerts" + (f" (recall {recall:.3f})" if recall == recall else "")
    recall_text = f"{recall:.3f}" if recall == recall else "no fraud"
    return f"precision {precision:.3f}, recall {recall_text} ({n_alerts:,} alerts)"


def per_day_table_for_people(table: pd.DataFrame, alerts_per_1000: float) -> pd.DataFrame:
    """`per_day_performance`'s table as text for printing and Markdown, with each day's alert budget beside its
    alerts: "no alerts" where a day had none, "no fraud" where recall is undefined, "undefined" for an AUPRC without
    both classes, other figures to three decimals."""
    shown = table.astype(object)
    shown.insert(shown.columns.get_loc("n_alerts") + 1, "alert_budget",
                 daily_alert_budget(table["n_rows"].to_numpy(), alerts_per_1000))
    for column in ("precision", "recall", "auprc", "recall_at_budget"):
        shown[column] = [f"{value:.3f}" if value == value else "" for value in table[column]]
    shown.loc[table["n_alerts"] == 0, "precision"] = "no alerts"
    shown.loc[table["n_fraud"] == 0, ["recall", "recall_at_budget"]] = "no fraud"
    shown.loc[table["auprc"].isna(), "auprc"] = "undefined"
    return shown


def _auprc(fraud: np.ndarray, scores: np.ndarray) -> float:
    """Average precision, NaN unless both classes are present."""
    return float(average_precision_score(fraud, scores)) if _has_both_classes(fraud) else float("nan")


def _roc_auc(fraud: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC, NaN unless both classes are present."""
    return float(roc_auc_score(fraud, scores)) if _has_both_classes(fraud) else float("nan")


def _has_both_classes(fraud: np.ndarray) -> bool:
    """True when the labels hold at least one fraud and one genuine row."""
    n_fraud = int(np.sum(fraud))
    return 0 < n_fraud < len(fraud)


def _f1(precision: float, recall: float) -> float:
    """Harmonic mean of precision and recall; 0 when both are 0, NaN when either is undefined."""
    if np.isnan(precision) or np.isnan(recall):
        return float("nan")
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when the denominator is 0."""
    return float(numerator / denominator) if denominator else float("nan")
