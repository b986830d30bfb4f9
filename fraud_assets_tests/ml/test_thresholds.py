"""Tests of threshold choice: alert budget, net value and the strategy dispatcher."""

from __future__ import annotations

import numpy as np
import pytest

from fraud_assets.ml.thresholds import (
    ThresholdChoice,
    choose_threshold,
    threshold_for_alert_budget,
    threshold_for_net_value,
)


def test_budget_threshold_is_the_lowest_one_within_the_budget():
    rng = np.random.default_rng(0)
    scores = rng.random(300)
    days = np.repeat([0, 1, 2], 100)
    threshold = threshold_for_alert_budget(scores, days, alert_budget_per_day=5)
    assert (scores >= threshold).sum() / 3 <= 5
    one_notch_lower = scores[scores < threshold].max()
    assert (scores >= one_notch_lower).sum() / 3 > 5
    assert threshold in scores


def test_budget_threshold_keeps_tied_scores_together():
    scores = np.array([0.9, 0.8, 0.8, 0.1])
    days = np.zeros(4)
    assert threshold_for_alert_budget(scores, days, alert_budget_per_day=2) == 0.9
    assert threshold_for_alert_budget(scores, days, alert_budget_per_day=3) == 0.8


def test_budget_threshold_edges():
    scores = np.array([0.2, 0.5, 0.7])
    days = np.array([0, 0, 1])
    assert threshold_for_alert_budget(scores, days, alert_budget_per_day=10) == 0.2
    nothing = threshold_for_alert_budget(scores, days, alert_budget_per_day=0)
    assert nothing > 0.7 and not (scores >= nothing).any()


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
    choice = choose_threshold("net_value", scores, labels, amounts, days, 1, 100.0)
    assert choice == ThresholdChoice(
        threshold=0.8,
        strategy="net_value",
        expected_precision=1.0,
        expected_recall=pytest.approx(2 / 3),
        expected_alerts_per_day=1.0,
    )
    budget = choose_threshold("alert_budget", scores, labels, amounts, days, 2, 100.0)
    assert (budget.strategy, budget.threshold, budget.expected_alerts_per_day) == ("alert_budget", 0.6, 2.0)
    assert budget.expected_precision == 0.5


def test_unknown_strategy_names_the_allowed_values():
    with pytest.raises(ValueError, match="'top_k'.*alert_budget, net_value"):
        choose_threshold("top_k", np.array([0.5]), np.array([1]), np.array([1.0]), np.array([0]), 1, 1.0)


def test_high_precision_level_is_where_the_top_scores_stop_being_mostly_fraud():
    from fraud_assets.ml.thresholds import high_precision_level

    scores = np.array([0.99, 0.98, 0.97, 0.96, 0.95, 0.90, 0.50, 0.40, 0.30, 0.20])
    labels = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0, 0])
    assert high_precision_level(scores, labels, 0.9) == 0.40  # the top 8 are all fraud; 8/9 < 0.9
    one_false_in_the_middle = np.array([1, 1, 1, 1, 1, 0, 1, 1, 1, 1])
    assert high_precision_level(scores, one_false_in_the_middle, 0.9) == 0.20  # 9 of the 10
    assert high_precision_level(scores, one_false_in_the_middle, 0.95) == 0.95  # the top five only
    assert np.isnan(high_precision_level(scores, np.zeros(10), 0.9))
