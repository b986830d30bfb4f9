"""The model's daily statistics against the labels known so far, and the series the dashboard charts."""

from __future__ import annotations

import math

import pytest

from label_app.model_stats import (
    alert_volume,
    confusion_series,
    daily_stats,
    metric_series,
    model_timeline,
    overall_stats,
    score_histogram,
    score_matrix,
)


def test_daily_stats_count_only_known_labels(snapshot):
    stats = daily_stats(snapshot).set_index("day")
    day0, day1, day2, day3 = (stats.loc[day] for day in range(4))
    # day 0, matured: TP a0 a2, FP a1, FN m0; TN = 1000 rows - 3 alerts - 1 missed fraud
    assert (day0.true_positives, day0.false_positives, day0.false_negatives, day0.true_negatives) == (2, 1, 1, 996)
    assert day0.precision == pytest.approx(2 / 3) and day0.recall == pytest.approx(2 / 3)
    assert day0.f1 == pytest.approx(2 / 3) and day0.ground_truth_matured
    # day 1: the analyst's fraud label on b1 overrides ground truth
    assert (day1.true_positives, day1.false_positives, day1.precision, day1.recall) == (2, 0, 1.0, 1.0)
    # day 2, not matured: analyst labels only; c2 unlabeled; the missed fraud c3 is not known yet, so no recall
    assert (day2.true_positives, day2.false_positives, day2.unlabeled_alerts, day2.false_negatives) == (1, 1, 1, 0)
    assert day2.precision == 0.5 and math.isnan(day2.recall) and math.isnan(day2.f1)
    assert math.isnan(day2.true_negatives) and not day2.ground_truth_matured
    # today: nothing labeled
    assert (day3.n_alerts, day3.labeled_alerts, day3.model_version, day3.threshold) == (3, 0, "v2", 0.4)
    assert day3.alert_budget == 3  # the day's budget as the pipeline exported it: 1,000 transactions at 2.92
    assert math.isnan(day3.precision)


def test_overall_stats_and_chart_series(snapshot):
    stats = daily_stats(snapshot)
    overall = overall_stats(stats)
    assert (overall["true_positives"], overall["false_positives"], overall["false_negatives"]) == (5, 2, 1)
    assert overall["precision"] == pytest.approx(5 / 7)
    assert overall["recall_matured_days"] == pytest.approx(4 / 5)  # days 0 and 1: TP 4, FN 1
    metrics = metric_series(stats)
    assert set(metrics["metric"]) == {"precision", "recall", "f1"} and metrics["value"].notna().all()
    assert metrics[metrics["metric"] == "recall"]["day"].tolist() == [0, 1]
    confusion = confusion_series(stats)
    assert confusion.query("day == 2 and outcome == 'alert not labeled yet'")["count"].item() == 1


def test_model_timeline_volume_and_score_histograms(snapshot):
    timeline = model_timeline(snapshot.summary)
    assert timeline[["model_version", "first_day", "last_day", "days_served"]].values.tolist() == [
        ["v1", 0, 1, 2], ["v2", 2, 3, 2]]
    volume = alert_volume(snapshot.summary)
    assert volume["n_alerts"].tolist() == [3, 2, 3, 3]
    histogram = score_histogram(snapshot.summary, day=3)
    assert histogram["rows"].sum() == 1000 and histogram.loc[19, "rows"] == 1  # d0's 0.97
    days, matrix = score_matrix(snapshot.summary)
    assert days == [0, 1, 2, 3] and matrix.shape == (20, 4) and matrix.sum() == 4000
