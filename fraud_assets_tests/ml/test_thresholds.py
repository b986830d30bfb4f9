"""Tests of threshold choice: alert budget, net value and the strategy dispatcher."""

from __future__ import annotations

import numpy as np
import pytest

from fraud_assets.ml.thresholds import (
    ThresholdChoice,
    alert_budget_of_days,
    choose_threshold,
    daily_alert_budget,
    threshold_for_alert_budget,
    threshold_for_net_value,
)


def test_the_daily_budget_follows_the_volume_and_a_day_with_transactions_gets_at_least_one_alert():
    assert daily_alert_budget(20_524, 2.92) == 60  # the demo's day
    assert daily_alert_budget(205_246, 2.92) == 599  # a day of the real PaySim file
    assert daily_alert_budget(10, 2.92) == 1 and daily_alert_budget(0, 2.92) == 0
    assert daily_alert_budget(np.array([0, 10, 20_524]), 2.92).tolist() == [0, 1, 60]
    assert alert_budget_of_days(np.repeat([3, 4], [20_524, 1_000]), 2.92) == 63
    with pytest.raises(ValueError, match="alerts_per_1000 must be a number > 0"):
        daily_alert_budget(100, 0)


def test_budget_threshold_is_the_lowest_one_within_the_budget():
    rng = np.random.default_rng(0)
    scores = np.round(rng.random(300), 2)  # ties
    threshold = threshold_for_alert_budget(scores, alert_budget=15)
    assert (scores >= threshold).sum() <= 15
    one_notch_lower = scores[scores < threshold].max()
    assert (scores >= one_notch_lower).sum() > 15
    assert threshold in scores


def test_budget_threshold_keeps_tied_scores_together_below_the_top():
    scores = np.array([0.9, 0.8, 0.8, 0.1, 0.1, 0.1])
    assert threshold_for_alert_budget(scores, alert_budget=2) == 0.9  # the tie at 0.8 would exceed it
    assert threshold_for_alert_budget(scores, alert_budget=3) == 0.8
    assert threshold_for_alert_budget(scores, alert_budget=4) == 0.8  # never a flood of the tied low scores


def test_a_tied_top_group_larger_than_the_budget_is_alerted_and_the_excess_reported():
    """XGBoost gives many drained-account frauds the very same top score; the old rule then alerted nothing."""
    scores = np.r_[np.full(10, 0.9991), np.linspace(0.01, 0.5, 90)]
    labels = np.r_[np.ones(10, dtype=int), np.zeros(90, dtype=int)]
    days = np.repeat([0, 1], 50)  # 50 transactions a day: a budget of 2 a day at 40 per 1,000
    assert threshold_for_alert_budget(scores, alert_budget=4) == 0.9991
    choice = choose_threshold("alert_budget", scores, labels, np.ones(100), days, 40.0, 100.0)
    assert choice.threshold == 0.9991
    assert (choice.expected_alerts_per_day, choice.alert_budget_per_day, choice.alerts_over_budget_per_day) == (
        5.0, 2.0, 3.0)
    assert (choice.expected_precision, choice.expected_recall) == (1.0, 1.0)


def test_budget_threshold_edges():
    scores = np.array([0.2, 0.5, 0.7])
    assert threshold_for_alert_budget(scores, alert_budget=10) == 0.2
    with pytest.raises(ValueError, match="at least 1"):
        threshold_for_alert_budget(scores, alert_budget=0)


def test_net_value_picks_the_obvious_optimum():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    labels = np.array([1, 1, 0, 0, 1, 0])
    amounts = np.array([1000.0, 500.0, 9999.0, 9999.0, 50.0, 9999.0])
    # net value per threshold: 0.9 -> 900, 0.8 -> 1300, 0.7 -> 1200, 0.6 -> 1100, 0.5 -> 1050, 0.4 -> 950
    assert threshold_for_net_value(scores, labels, amounts, review_cost_per_alert=100.0) == 0.8


def test_net_value_prefers_fewer_alerts_on_equal_value():
    scores = np.array([0.9, 0.5])
    # 0.9 -> 1000 - 100 = 900; 0.5 -> 1100 - 200 = 900
    labels, amounts = np.array([1, 1]), np.array([1000.0, 100.0])
    assert threshold_for_net_value(scores, labels, amounts, review_cost_per_alert=100.0) == 0.9


def test_net_value_alerts_nothing_when_no_threshold_pays():
    scores = np.array([0.9, 0.3])
    threshold = threshold_for_net_value(scores, np.array([1, 0]), np.array([100.0, 5.0]), review_cost_per_alert=100.0)
    assert threshold > 0.9


def test_net_value_matches_a_loop_over_every_threshold():
    rng = np.random.default_rng(1)
    scores = np.round(rng.random(400), 2)  # many ties
    labels = (rng.random(400) < scores * 0.3).astype(int)
    amounts = rng.lognormal(8, 1, 400)
    cost = 500.0
    threshold = threshold_for_net_value(scores, labels, amounts, cost)

    def net_value(t: float) -> float:
        alerted = scores >= t
        return amounts[alerted & (labels == 1)].sum() - cost * alerted.sum()

    best = max(net_value(t) for t in np.unique(scores))
    assert net_value(threshold) == pytest.approx(best)


def test_choose_threshold_reports_what_the_threshold_gives():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    labels = np.array([1, 1, 0, 0, 1, 0])
    amounts = np.array([1000.0, 500.0, 9999.0, 9999.0, 50.0, 9999.0])
    days = np.array([0, 0, 0, 1, 1, 1])
    choice = choose_threshold("net_value", scores, labels, amounts, days, 1.0, 100.0)
    assert choice == ThresholdChoice(
        threshold=0.8,
        strategy="net_value",
        expected_precision=1.0,
        expected_recall=pytest.approx(2 / 3),
        expected_alerts_per_day=1.0,
        alert_budget_per_day=1.0,  # a day of 3 transactions gets at least one alert
    )
    budget = choose_threshold("alert_budget", scores, labels, amounts, days, 667.0, 100.0)  # 2 a day of 3
    assert (budget.strategy, budget.threshold, budget.expected_alerts_per_day) == ("alert_budget", 0.6, 2.0)
    assert (budget.expected_precision, budget.alerts_over_budget_per_day) == (0.5, 0.0)


def test_unknown_strategy_names_the_allowed_values():
    with pytest.raises(ValueError, match="'top_k'.*alert_budget, net_value"):
        choose_threshold("top_k", np.array([0.5]), np.array([1]), np.array([1.0]), np.array([0]), 1.0, 1.0)


def test_high_precision_level_is_where_the_top_scores_stop_being_mostly_fraud():
    from fraud_assets.ml.thresholds import high_precision_level

    scores = np.array([0.99, 0.98, 0.97, 0.96, 0.95, 0.90, 0.50, 0.40, 0.30, 0.20])
    labels = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0, 0])
    assert high_precision_level(scores, labels, 0.9) == 0.40  # the top 8 are all fraud; 8/9 < 0.9
    one_false_in_the_middle = np.array([1, 1, 1, 1, 1, 0, 1, 1, 1, 1])
    assert high_precision_level(scores, one_false_in_the_middle, 0.9) == 0.20  # 9 of the 10
    assert high_precision_level(scores, one_false_in_the_middle, 0.95) == 0.95  # the top five only
    assert np.isnan(high_precision_level(scores, np.zeros(10), 0.9))
