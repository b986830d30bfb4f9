"""Tests of the evaluation metrics, the precision-recall figure and per-day performance."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from fraud_assets.ml.evaluation import (
    PER_DAY_COLUMNS,
    alerts_against_budget,
    describe_alert_quality,
    evaluate,
    per_day_performance,
    per_day_table_for_people,
    precision_recall_curve_figure,
)

Y_TRUE = np.array([1, 1, 0, 0, 1, 0])
SCORES = np.array([0.9, 0.4, 0.8, 0.1, 0.7, 0.2])
AMOUNTS = np.array([100.0, 200.0, 300.0, 400.0, 500.0, 600.0])
DAYS = np.array([0, 0, 0, 1, 1, 1])


def test_metrics_at_threshold_on_a_crafted_example():
    metrics = evaluate(Y_TRUE, SCORES, threshold=0.5, amounts=AMOUNTS, days=DAYS, alerts_per_1000=1.0)
    # alerted: 0.9 (fraud), 0.8 (genuine), 0.7 (fraud)
    assert metrics["precision"] == pytest.approx(2 / 3)
    assert metrics["recall"] == pytest.approx(2 / 3)
    assert metrics["f1"] == pytest.approx(2 / 3)
    assert metrics["alerts_per_day"] == 1.5
    assert metrics["fraud_amount_total"] == 800.0
    assert metrics["fraud_amount_caught"] == 600.0
    assert metrics["fraud_amount_caught_share"] == 0.75
    assert metrics["auprc"] == pytest.approx(29 / 36)  # (1 + 2/3 + 3/4) / 3
    assert metrics["roc_auc"] == pytest.approx(7 / 9)
    assert metrics["brier"] == pytest.approx(1.15 / 6)
    assert (metrics["n_rows"], metrics["n_fraud"]) == (6.0, 3.0)


def test_budget_metrics_alert_the_top_scores_of_each_day():
    metrics = evaluate(Y_TRUE, SCORES, threshold=0.5, amounts=AMOUNTS, days=DAYS, alerts_per_1000=1.0)
    # day 0 alerts 0.9 (fraud), day 1 alerts 0.7 (fraud); the fraud at 0.4 on day 0 is missed
    assert metrics["recall_at_budget"] == pytest.approx(2 / 3)
    assert metrics["precision_at_budget"] == 1.0


def test_budget_takes_exactly_the_budget_on_ties_and_all_rows_of_small_days():
    y_true = np.array([0, 1, 0, 1, 1])
    scores = np.array([0.5, 0.5, 0.5, 0.2, 0.9])
    days = np.array([0, 0, 0, 0, 1])
    metrics = evaluate(y_true, scores, threshold=0.5, amounts=np.ones(5), days=days, alerts_per_1000=500.0)
    # day 0 (4 rows, a budget of 2): two of the three tied 0.5 rows, in row order (genuine, fraud); day 1: its only row
    assert metrics["precision_at_budget"] == pytest.approx(2 / 3)
    assert metrics["recall_at_budget"] == pytest.approx(2 / 3)


def test_slice_without_fraud_gives_nan_not_an_error():
    metrics = evaluate(np.zeros(4), np.array([0.1, 0.6, 0.3, 0.2]), 0.5, np.ones(4), np.zeros(4), 1.0)
    for name in ("auprc", "roc_auc", "recall", "f1", "recall_at_budget", "fraud_amount_caught_share"):
        assert math.isnan(metrics[name]), name
    assert metrics["precision"] == 0.0
    assert metrics["n_fraud"] == 0.0


def test_precision_recall_figure_marks_the_threshold():
    figure = precision_recall_curve_figure(Y_TRUE, SCORES, threshold=0.5)
    assert isinstance(figure, Figure)
    (axes,) = figure.axes
    (marker,) = [line for line in axes.get_lines() if line.get_label().startswith("threshold")]
    assert marker.get_xdata()[0] == pytest.approx(2 / 3) and marker.get_ydata()[0] == pytest.approx(2 / 3)


def test_precision_recall_figure_without_fraud_is_still_a_figure():
    figure = precision_recall_curve_figure(np.zeros(3), np.array([0.1, 0.2, 0.3]), threshold=0.5)
    assert "undefined" in figure.axes[0].get_title()


def test_per_day_performance_by_day_and_model_version():
    frame = pd.DataFrame(
        {
            "day": [0, 0, 0, 0, 1, 1, 0, 0],
            "score": [0.9, 0.8, 0.3, 0.2, 0.7, 0.1, 0.6, 0.5],
            "is_alert": [1, 1, 0, 0, 1, 0, 1, 0],
            "label": [1, 0, 1, 0, 0, 0, 1, 1],
            "amount": np.ones(8),
            "model_version": ["v1", "v1", "v1", "v1", "v1", "v1", "v2", "v2"],
        }
    )
    table = per_day_performance(frame, alerts_per_1000=1.0)  # a budget of one alert a day
    assert list(table.columns) == PER_DAY_COLUMNS
    assert table[["day", "model_version"]].values.tolist() == [[0, "v1"], [0, "v2"], [1, "v1"]]
    day0_v1, day0_v2, day1_v1 = (row for _, row in table.iterrows())
    assert (day0_v1.n_rows, day0_v1.n_fraud, day0_v1.n_alerts, day0_v1.true_positives) == (4, 2, 2, 1)
    assert (day0_v1.precision, day0_v1.recall, day0_v1.recall_at_budget) == (0.5, 0.5, 0.5)
    assert day0_v1.auprc == pytest.approx((1 + 2 / 3) / 2)
    assert (day0_v2.recall, day0_v2.recall_at_budget) == (0.5, 0.5)
    assert math.isnan(day0_v2.auprc)  # only fraud rows: AUPRC undefined
    assert math.isnan(day1_v1.recall) and day1_v1.precision == 0.0


def test_the_per_day_table_for_people_says_no_alerts_in_words_and_shows_each_days_budget():
    table = pd.DataFrame({"day": [0, 1, 2], "model_version": ["1", "1", "1"], "n_rows": [2000, 2000, 1000],
                          "n_fraud": [3, 2, 0], "n_alerts": [6, 0, 2], "true_positives": [3, 0, 0],
                          "precision": [0.5, math.nan, 0.0], "recall": [1.0, 0.0, math.nan],
                          "auprc": [0.9, 0.4, math.nan], "recall_at_budget": [1.0, 0.5, math.nan]})
    shown = per_day_table_for_people(table, alerts_per_1000=2.92)
    assert shown["alert_budget"].tolist() == [6, 6, 3]
    assert shown["precision"].tolist() == ["0.500", "no alerts", "0.000"]
    assert shown.loc[2, "recall"] == "no fraud" and shown.loc[2, "auprc"] == "undefined"
    assert "nan" not in shown.to_string()


def test_quality_at_a_threshold_in_words():
    assert describe_alert_quality(math.nan, 0.0, 0) == "no alerts (recall 0.000)"
    assert describe_alert_quality(0.25, 1.0, 8) == "precision 0.250, recall 1.000 (8 alerts)"
    assert describe_alert_quality(0.0, math.nan, 3) == "precision 0.000, recall no fraud (3 alerts)"


def test_alerts_against_the_budget_per_day():
    days = np.repeat([0, 1], [1000, 2000])
    alerts = np.zeros(3000, dtype=bool)
    alerts[:5] = True  # day 0: 5 alerts against 3
    alerts[1000:1004] = True  # day 1: 4 against 6
    table = alerts_against_budget(days, alerts, 2.92)
    assert table[["day", "transactions", "alerts", "budget", "over_budget"]].values.tolist() == [
        [0, 1000, 5, 3, 2], [1, 2000, 4, 6, 0]]
