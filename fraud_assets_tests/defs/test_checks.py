"""The checks' pure verdicts, on hand-made numbers."""

from __future__ import annotations

import numpy as np

from fraud_assets.defs.checks.drift import ScoreDriftCheckConfig, alert_rate_verdict


def test_alert_rate_verdict_needs_both_a_large_ratio_and_a_significant_gap():
    config = ScoreDriftCheckConfig()
    scores = np.r_[np.full(40, 0.9), np.zeros(19960)]
    assert alert_rate_verdict(scores, 0.5, 40 / 20000, config)["passed"]
    assert not alert_rate_verdict(scores, 0.5, 120 / 20000, config)["passed"]  # a third of the expected alerts
    assert not alert_rate_verdict(scores, 0.5, 10 / 20000, config)["passed"]  # four times the expected alerts
    tiny = np.r_[np.full(2, 0.9), np.zeros(998)]
    assert alert_rate_verdict(tiny, 0.5, 5 / 1000, config)["passed"]  # 2 against 5: noise, not drift
