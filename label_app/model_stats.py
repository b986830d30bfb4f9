"""How the model does, from the exports and the labels known so far: per day the confusion matrix, precision,
recall and F1, alert volume, which model version served when, and the score distribution.

Daily precision uses the alerts whose label is known so far; recall (and so F1 and true negatives) needs every
missed fraud of the day, which is known only once the day's ground truth has matured.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from fraud_assets.core.review_export import SCORE_BIN_EDGES
from label_app.snapshot import Snapshot, exported_alert_budget

STATS_COLUMNS = ["day", "model_version", "threshold", "n_rows", "n_alerts", "alert_budget", "labeled_alerts",
                 "unlabeled_alerts",
                 "true_positives", "false_positives", "false_negatives", "true_negatives", "precision", "recall", "f1",
                 "ground_truth_matured"]
SCORE_BIN_COLUMNS = [f"score_bin_{index:02d}" for index in range(len(SCORE_BIN_EDGES) - 1)]


def daily_stats(snapshot: Snapshot) -> pd.DataFrame:
    """Per exported day: volume, the confusion matrix against the labels known so far, precision, recall and F1.

    True positives and false positives count alerts whose label is known (analyst or matured ground truth);
    false negatives count missed frauds whose label is known. Recall, F1 and true negatives are NaN until the
    day's ground truth has matured, because before that the missed frauds are unknown.
    """
    batch = snapshot.cases[snapshot.cases["source"] == "batch"]
    summary = snapshot.summary
    days = sorted(set(batch["day"].dropna().astype(int)) | set(summary["day"].astype(int)))
    rows = []
    for day in days:
        served = summary[summary["day"] == day]
        of_day = batch[batch["day"] == day]
        alerts, missed = of_day[of_day["is_alert"]], of_day[~of_day["is_alert"]]
        n_rows = int(served["n_rows"].sum()) if len(served) else math.nan
        n_alerts = int(served["n_alerts"].sum()) if len(served) else len(alerts)
        alert_budget = exported_alert_budget(served)
        tp, fp = int((alerts["label"] == 1).sum()), int((alerts["label"] == 0).sum())
        fn = int((missed["label"] == 1).sum())
        matures = of_day["label_matures_on_day"].min()
        matured = bool(snapshot.today is not None and not math.isnan(matures) and matures <= snapshot.today)
        precision = _ratio(tp, tp + fp)
        recall = _ratio(tp, tp + fn) if matured else math.nan
        f1 = (2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0) \
            if not (math.isnan(precision) or math.isnan(recall)) else math.nan
        versions = served["model_version"].astype(str).tolist() or sorted(of_day["model_version"].unique().tolist())
        thresholds = served["threshold"] if len(served) else alerts["threshold"]
        rows.append({
            "day": day,
            "model_version": ", ".join(dict.fromkeys(versions)),
            "threshold": float(thresholds.iloc[0]) if len(thresholds) else math.nan,
            "n_rows": n_rows,
            "n_alerts": n_alerts,
            "alert_budget": math.nan if alert_budget is None else alert_budget,
            "labeled_alerts": tp + fp,
            "unlabeled_alerts": n_alerts - tp - fp,
            "true_positives": tp,
            "false_positives": fp,
            "false_negatives": fn,
            "true_negatives": n_rows - n_alerts - fn if matured and not math.isnan(n_rows) else math.nan,
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "ground_truth_matured": matured,
        })
    return pd.DataFrame(rows, columns=STATS_COLUMNS)


def overall_stats(stats: pd.DataFrame) -> dict:
    """Totals over the days of `daily_stats`: precision over every labeled alert, recall over matured days."""
    matured = stats[stats["ground_truth_matured"].astype(bool)]  # an empty object column would select columns
    tp, fp = int(stats["true_positives"].sum()), int(stats["false_positives"].sum())
    precision = _ratio(tp, tp + fp)
    matured_tp, matured_fn = int(matured["true_positives"].sum()), int(matured["false_negatives"].sum())
    recall = _ratio(matured_tp, matured_tp + matured_fn)
    return {
        "days": len(stats),
        "matured_days": len(matured),
        "alerts": int(stats["n_alerts"].sum()),
        "unlabeled_alerts": int(stats["unlabeled_alerts"].sum()),
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": int(stats["false_negatives"].sum()),
        "true_negatives": int(matured["true_negatives"].sum()),
        "precision": precision,
        "recall_matured_days": recall,
    }


def metric_series(stats: pd.DataFrame) -> pd.DataFrame:
    """Precision, recall and F1 per day in long form (day, metric, value) for a line chart; NaNs left out."""
    long = stats.melt(id_vars="day", value_vars=["precision", "recall", "f1"], var_name="metric", value_name="value")
    return long.dropna(subset=["value"]).astype({"day": int, "value": float}).reset_index(drop=True)


def confusion_series(stats: pd.DataFrame) -> pd.DataFrame:
    """Per day the alert outcomes and missed frauds (day, outcome, count) for a stacked bar chart.

    True negatives are left out: they are the day's whole genuine volume and would flatten every other bar.
    """
    names = {"true_positives": "true positive", "false_positives": "false positive",
             "unlabeled_alerts": "alert not labeled yet", "false_negatives": "false negative (missed fraud)"}
    long = stats.melt(id_vars="day", value_vars=list(names), var_name="outcome", value_name="count")
    long["outcome"] = long["outcome"].map(names)
    return long.astype({"day": int, "count": int}).reset_index(drop=True)


def alert_volume(summary: pd.DataFrame) -> pd.DataFrame:
    """Alerts per day and serving model version (day, model_version, n_alerts, n_rows, threshold)."""
    columns = ["day", "model_version", "n_alerts", "n_rows", "threshold"]
    if not len(summary):
        return pd.DataFrame(columns=columns)
    volume = summary.groupby(["day", "model_version"], as_index=False).agg(
        n_alerts=("n_alerts", "sum"), n_rows=("n_rows", "sum"), threshold=("threshold", "first"))
    return volume.astype({"day": int, "model_version": str, "n_alerts": int, "n_rows": int})[columns]


def model_timeline(summary: pd.DataFrame) -> pd.DataFrame:
    """Which model version served when: one row per version with its first and last day, days served and threshold."""
    columns = ["model_version", "first_day", "last_day", "days_served", "threshold", "rows_scored", "alerts"]
    if not len(summary):
        return pd.DataFrame(columns=columns)
    timeline = summary.groupby("model_version", as_index=False).agg(
        first_day=("day", "min"), last_day=("day", "max"), days_served=("day", "nunique"),
        threshold=("threshold", "last"), rows_scored=("n_rows", "sum"), alerts=("n_alerts", "sum"))
    timeline = timeline.sort_values(["first_day", "model_version"]).astype({"model_version": str})
    return timeline[columns].reset_index(drop=True)


def score_histogram(summary: pd.DataFrame, day: int | None = None) -> pd.DataFrame:
    """Rows per score bin (bin_from, bin_to, rows) of one day, or of every day when `day` is None."""
    chosen = summary if day is None else summary[summary["day"] == day]
    counts = (chosen[SCORE_BIN_COLUMNS].sum().astype(int).to_numpy() if len(chosen)
              else np.zeros(len(SCORE_BIN_COLUMNS), dtype=int))
    return pd.DataFrame({"bin_from": SCORE_BIN_EDGES[:-1], "bin_to": SCORE_BIN_EDGES[1:], "rows": counts})


def score_histograms(summary: pd.DataFrame) -> list[dict]:
    """Every exported summary's score histogram: [{day, model_version, bins: [20 counts]}]."""
    return [{"day": int(row["day"]), "model_version": str(row["model_version"]),
             "bins": [int(row[column]) for column in SCORE_BIN_COLUMNS]} for _, row in summary.iterrows()]


def score_matrix(summary: pd.DataFrame) -> tuple[list[int], np.ndarray]:
    """Days (ascending) and a (20 bins x days) matrix of row counts, for a heat map of the score distribution."""
    if not len(summary):
        return [], np.zeros((len(SCORE_BIN_COLUMNS), 0), dtype=int)
    per_day = summary.groupby("day")[SCORE_BIN_COLUMNS].sum().sort_index()
    return [int(day) for day in per_day.index], per_day.to_numpy(dtype=int).T


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan
