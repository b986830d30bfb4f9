"""Batch scoring: one prediction per transaction in the input order, reasons for the alerted rows only."""

from datetime import datetime, timezone

import numpy as np

from fraud_assets.core.progress import progress_line
from fraud_assets.core.settings import simulation_epoch
from fraud_assets.core.transactions import prepare_raw_transactions, validate_transactions
from fraud_assets.ml.batch_scoring import PREDICTION_COLUMNS, score_transactions
from fraud_assets.ml.features import build_features
from fraud_assets.ml.training import XGBoostParams, train_xgboost
from fraud_assets.simulation import SimulationSettings, simulate_days


def test_scoring_keeps_the_input_order_and_explains_only_alerts():
    raw = prepare_raw_transactions(simulate_days(0, 3, SimulationSettings(seed=5, scale=0.01)), simulation_epoch())
    cleaned, _ = validate_transactions(raw)
    cleaned = cleaned.sample(frac=1.0, random_state=1).reset_index(drop=True)  # days interleaved
    features, labels = build_features(cleaned), cleaned["isFraud"].to_numpy()
    model = train_xgboost(features, labels, features, labels, XGBoostParams(n_estimators=20, max_depth=3), seed=0)
    scores = model.booster.inplace_predict(features.to_numpy())
    threshold = float(np.quantile(scores, 0.999))

    scored = score_transactions(cleaned, model.booster, threshold, "7", datetime(2026, 1, 1, tzinfo=timezone.utc))

    assert list(scored.columns) == PREDICTION_COLUMNS
    assert scored["transaction_id"].tolist() == cleaned["transaction_id"].tolist()
    np.testing.assert_allclose(scored["score"].to_numpy(), scores, rtol=1e-6)
    assert scored["is_alert"].sum() > 0 and (scored.loc[scored["is_alert"], "reasons"] != "").all()
    assert (scored.loc[~scored["is_alert"], "reasons"] == "").all()


def test_progress_line_says_days_rows_and_rate():
    assert progress_line("scored_predictions", 3, 31, 2, 600_000, 2.0) == (
        "scored_predictions: 3/31 days done (day 2), 600,000 rows in 2.0 s, 300,000 rows/s")
