"""Batch scoring a day at a time gives the same rows, in the same order, as scoring the whole range at once."""

from datetime import datetime, timezone

import numpy as np
import pandas as pd

from fraud_assets.core.progress import progress_line
from fraud_assets.core.settings import simulation_epoch
from fraud_assets.core.transactions import prepare_raw_transactions, validate_transactions
from fraud_assets.ml.batch_scoring import score_days, score_transactions
from fraud_assets.ml.features import build_features
from fraud_assets.ml.training import XGBoostParams, train_xgboost
from fraud_assets.simulation import SimulationSettings, simulate_days


def test_scoring_by_day_equals_scoring_at_once_in_the_input_order():
    raw = prepare_raw_transactions(simulate_days(0, 3, SimulationSettings(seed=5, scale=0.01)), simulation_epoch())
    cleaned, _ = validate_transactions(raw)
    cleaned = cleaned.sample(frac=1.0, random_state=1).reset_index(drop=True)  # days interleaved
    features, labels = build_features(cleaned), cleaned["isFraud"].to_numpy()
    model = train_xgboost(features, labels, features, labels, XGBoostParams(n_estimators=20, max_depth=3), seed=0)
    threshold = float(np.quantile(model.booster.inplace_predict(features.to_numpy()), 0.999))
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    seen = []

    by_day = score_days(cleaned, model.booster, threshold, "7", now, on_day=lambda day, rows: seen.append((day, rows)))
    at_once = score_transactions(cleaned, model.booster, threshold, "7", now)

    pd.testing.assert_frame_equal(by_day, at_once)
    assert by_day["is_alert"].sum() > 0 and (by_day.loc[by_day["is_alert"], "reasons"] != "").all()
    assert seen == [(day, int((cleaned["day"] == day).sum())) for day in range(4)]


def test_progress_line_says_days_rows_and_rate():
    assert progress_line("scored_predictions", 3, 31, 2, 600_000, 2.0) == (
        "scored_predictions: 3/31 days done (day 2), 600,000 rows in 2.0 s, 300,000 rows/s")
