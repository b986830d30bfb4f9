"""The checks' statistics on hand-made figures: their false-alarm rate without drift, their power with it, and the
days that have too little evidence to be judged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fraud_assets.ml.evidence import (
    TOO_LITTLE_EVIDENCE,
    EvidenceBudget,
    RecallDays,
    TailDays,
    TailReference,
    feature_drift_verdict,
    feature_level,
    fraud_events,
    rate_drop_p_value,
    recall_interval,
    recall_verdict,
    split_tail_days,
    tail_shift_verdict,
)


def test_the_budget_shares_one_false_retraining_a_year_over_days_and_checks():
    assert EvidenceBudget().level_per_check_day == pytest.approx(1 / (365 * 3))
    assert EvidenceBudget(2.0, watched_checks=4).level_per_check_day == pytest.approx(2 / (365 * 4))
    with pytest.raises(ValueError, match="false retrainings"):
        EvidenceBudget(0.0)


@pytest.mark.parametrize("reference_rate_events, day_events, least_power",
                         [(12.0, 4.0, 0.25), (47.0, 16.0, 0.95), (600.0, 200.0, 0.999)])
def test_the_count_test_fails_by_chance_at_most_at_its_level(reference_rate_events, day_events, least_power):
    """Many days without drift, the reference drawn too (it is an estimate): the share of days the drop test calls
    significant at 5% stays within 5% (the exact conditional test is conservative)."""
    rng = np.random.default_rng(3)
    trials = 20_000
    reference = rng.poisson(reference_rate_events, trials)
    day = rng.poisson(day_events, trials)
    p_values = np.array([rate_drop_p_value(int(d), 1000, int(r), 3000) for d, r in zip(day, reference)])
    false_alarms = float((p_values < 0.05).mean())
    assert false_alarms <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / trials)
    # ... and it is not a test that cannot fail: a day whose rate fell to a fifth is found, more often with more
    # events (at four a day against twelve in the reference, a third of the time).
    dropped = rng.poisson(day_events / 5, trials)
    power = float((np.array([rate_drop_p_value(int(d), 1000, int(r), 3000)
                             for d, r in zip(dropped, reference)]) < 0.05).mean())
    assert power > least_power


def test_the_tail_verdict_over_scanned_windows_keeps_its_level_without_drift():
    rng = np.random.default_rng(5)
    failures = 0
    trials = 4_000
    for _ in range(trials):
        reference = TailReference(rows=60_000, events=int(rng.poisson(45)))
        tail = TailDays([1, 2, 3], [20_000] * 3, rng.poisson(15, 3).tolist())
        failures += not tail_shift_verdict(tail, reference, 0.05, 1.0, "drop").passed
    assert failures / trials <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / trials)


def test_an_emptied_tail_fails_and_a_full_one_passes():
    reference = TailReference(rows=60_000, events=47)
    emptied = tail_shift_verdict(TailDays([20], [20_000], [0]), reference, 1e-3, 0.5, "drop")
    assert not emptied.passed and emptied.status == "tail emptied"
    assert emptied.metadata["expected_events"] == pytest.approx(47 / 3, rel=1e-3)
    assert "0 fraud events" in emptied.evidence and "day 20" in emptied.evidence
    usual = tail_shift_verdict(TailDays([19, 20], [20_000, 20_000], [17, 14]), reference, 1e-3, 0.5, "drop")
    assert usual.passed and usual.status == "within expectation"


def test_a_small_reference_has_too_little_evidence_for_one_day_and_enough_for_several():
    reference = TailReference(rows=60_000, events=9)  # a low-volume champion: nine fraud events in three days
    one_day = tail_shift_verdict(TailDays([20], [20_000], [0]), reference, 1e-3, 0.5, "drop")
    assert one_day.passed and one_day.status == TOO_LITTLE_EVIDENCE
    assert "too few" in one_day.evidence
    tiny = TailReference(rows=6_000, events=4)
    assert tail_shift_verdict(TailDays([20, 21, 22], [2_000] * 3, [0, 0, 0]), tiny, 1e-3, 0.5,
                              "drop").status == TOO_LITTLE_EVIDENCE
    # With the scale of the reference kept and a long enough run of empty days, the evidence is there.
    many = tail_shift_verdict(TailDays(list(range(20, 27)), [20_000] * 7, [0] * 7), reference, 1e-3, 0.5, "drop")
    assert not many.passed and many.metadata["window_days"] == "days 20-26"


def test_a_tail_that_fills_is_a_rise_and_the_drop_test_ignores_it():
    reference = TailReference(rows=60_000, events=45)
    wave = TailDays([20], [20_000], [45])  # three times the expected fifteen
    assert tail_shift_verdict(wave, reference, 1e-3, 0.5, "drop").passed
    rise = tail_shift_verdict(wave, reference, 1e-3, 2.0, "rise")
    assert not rise.passed and rise.status == "tail filled"
    assert tail_shift_verdict(TailDays([20], [20_000], [20]), reference, 1e-3, 2.0, "rise").passed


def test_recall_judges_the_frauds_it_has_pooling_days_when_one_is_not_enough():
    floor, level = 0.6, 1e-3
    few = recall_verdict(RecallDays([20], [2], [0]), floor, level)
    assert few.passed and few.status == TOO_LITTLE_EVIDENCE
    assert "too few to judge" in few.evidence
    pooled = recall_verdict(RecallDays([18, 19, 20], [3, 3, 3], [0, 0, 0]), floor, level)
    assert not pooled.passed and pooled.metadata["window_days"] == "days 18-20"
    assert not recall_verdict(RecallDays([20], [20], [2]), floor, level).passed
    healthy = recall_verdict(RecallDays([20], [20], [15]), floor, level)
    assert healthy.passed and healthy.status == "within expectation"
    assert healthy.metadata["recall_interval_low"] < 0.75 < healthy.metadata["recall_interval_high"]


def test_the_recall_interval_holds_the_estimate_and_narrows_with_evidence():
    low, high = recall_interval(6, 10, 0.025)
    assert low < 0.6 < high
    low_many, high_many = recall_interval(600, 1000, 0.025)
    assert low < low_many < 0.6 < high_many < high
    assert recall_interval(0, 0, 0.025) == (0.0, 1.0)


def drift_table(distances: list[float], p_values: list[float]) -> pd.DataFrame:
    rows = len(distances)
    return pd.DataFrame({"column": [f"f{i}" for i in range(rows)], "kind": ["numeric"] * rows,
                         "score": distances, "threshold": [0.1] * rows, "p_value": p_values})


def test_a_feature_drifts_only_when_it_is_both_far_and_significant():
    level = 1e-3
    per_feature = feature_level(level, 10, 0.3)
    assert per_feature == pytest.approx(level * 3 / 10)
    far_and_sure = drift_table([0.3] * 3 + [0.01] * 7, [1e-12] * 3 + [0.5] * 7)
    verdict = feature_drift_verdict(far_and_sure, 0.3, level)
    assert not verdict.passed and verdict.metadata["drifted_features"] == "f0, f1, f2"
    far_but_noise = drift_table([0.3] * 3 + [0.01] * 7, [0.01] * 3 + [0.5] * 7)  # a small day's sampling noise
    noise = feature_drift_verdict(far_but_noise, 0.3, level)
    assert noise.passed and noise.metadata["distant_but_noise"] == "f0, f1, f2"
    significant_but_small = drift_table([0.05] * 10, [1e-12] * 10)  # a huge day sees any difference
    assert feature_drift_verdict(significant_but_small, 0.3, level).passed


def test_a_fraud_event_is_a_distinct_amount_of_a_day():
    day = np.array([20, 20, 20, 21])
    amount = np.array([5000.0, 5000.0, 1200.0, 5000.0])  # a transfer and its cash-out, another fraud, next day's
    assert fraud_events(day, amount) == 3
    assert fraud_events(np.array([]), np.array([])) == 0


def test_the_first_live_days_join_the_reference_and_later_days_never_do():
    validation = TailReference(rows=60_000, events=45)
    scored = TailDays(list(range(15, 26)), [20_000] * 11, list(range(10, 21)))  # days 15-25, events 10..20
    reference, window = split_tail_days(scored, validation, judged_day=25, last_validation_day=14,
                                        live_reference_days=7, scan_days=3)
    assert window.days == [23, 24, 25] and window.events == [18, 19, 20]
    assert reference.live_days == tuple(range(15, 22))  # day 22 is neither: after the live days, before the window
    assert reference.rows == 60_000 + 7 * 20_000 and reference.events == 45 + sum(range(10, 17))
    assert reference.describe() == "validation days and live days 15-21"
    # Early on, only the days older than the window join; the first day after the window is judged alone.
    early, early_window = split_tail_days(TailDays([15, 16, 17], [20_000] * 3, [5, 6, 7]), validation, 17, 14, 7, 3)
    assert early.live_days == () and early_window.days == [15, 16, 17]
    first, first_window = split_tail_days(TailDays([15], [20_000], [5]), validation, 15, 14, 7, 3)
    assert first == validation and first_window.days == [15]
