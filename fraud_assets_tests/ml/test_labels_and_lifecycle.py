from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from fraud_assets.ml.batch_scoring import score_transactions
from fraud_assets.ml.label_maturity import known_labels, training_window
from fraud_assets.ml.lifecycle import decide_promotion


def test_ground_truth_counts_only_once_matured_and_analyst_labels_override():
    transactions = pd.DataFrame({"transaction_id": ["a", "b", "c", "d"], "day": [3, 4, 5, 5], "isFraud": [1, 0, 1, 0]})
    analyst = pd.DataFrame({"transaction_id": ["b", "d"], "label": [1, 1]})
    labels = known_labels(transactions, as_of_day=5, label_delay_days=1, analyst_labels=analyst)
    assert labels["label"].tolist()[:2] == [1.0, 1.0]  # a matured; b matured but an analyst said fraud
    assert math.isnan(labels["label"].iloc[2])  # day 5 has not matured and nobody labeled c
    assert (labels["label"].iloc[3] == 1.0
            and labels["label_source"].tolist() == ["ground_truth", "analyst", "", "analyst"])
    no_analyst = known_labels(transactions, 5, 1, analyst.iloc[0:0])
    assert no_analyst["label"].iloc[1] == 0.0


def test_training_window_ends_at_the_newest_matured_day():
    window = training_window(as_of_day=15, training_days=12, validation_days=3, label_delay_days=1)
    assert (window.first_train_day, window.last_train_day) == (0, 11)
    assert (window.first_validation_day, window.last_validation_day) == (12, 14)
    with pytest.raises(ValueError, match="days start at 0"):
        training_window(as_of_day=10, training_days=12, validation_days=3, label_delay_days=1)


@pytest.mark.parametrize(
    "challenger, champion, tolerance, promote",
    [(0.80, None, 0.01, True), (0.90, 0.905, 0.01, True), (0.90, 0.95, 0.01, False), (0.96, 0.95, 0.0, True),
     (float("nan"), 0.9, 0.01, False)],
)
def test_promotion_rule(challenger, champion, tolerance, promote):
    assert decide_promotion(challenger, champion, tolerance).promote is promote


def test_batch_scores_equal_one_by_one_scores_and_only_alerts_get_reasons():
    import xgboost as xgb

    from fraud_assets.ml.features import build_features

    rng = np.random.default_rng(0)
    n = 400
    balance = rng.uniform(1000, 100000, n).round(2)
    drains = rng.random(n) < 0.1
    transactions = pd.DataFrame({
        "transaction_id": [f"t{i}" for i in range(n)], "event_ts": pd.Timestamp("2025-01-01"), "day": 0,
        "step": 1 + np.arange(n) % 24,
        "type": np.where(drains, "TRANSFER", "PAYMENT"), "amount": np.where(drains, balance, (balance * 0.1).round(2)),
        "nameOrig": "C1", "oldbalanceOrg": balance, "newbalanceOrig": np.where(drains, 0.0, (balance * 0.9).round(2)),
        "nameDest": np.where(drains, "C2", "M3"), "oldbalanceDest": 0.0, "newbalanceDest": 0.0,
    })
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2},
                        xgb.DMatrix(build_features(transactions), label=drains), 5)
    now = datetime(2025, 1, 2, tzinfo=timezone.utc)
    batch = score_transactions(transactions, booster, 0.5, "7", now)
    single = pd.concat([score_transactions(transactions.iloc[[i]], booster, 0.5, "7", now) for i in range(0, n, 37)])
    assert np.array_equal(batch["score"].to_numpy()[::37], single["score"].to_numpy())
    assert batch["is_alert"].tolist() == drains.tolist()
    assert ((batch.loc[batch["is_alert"], "reasons"] != "").all()
            and (batch.loc[~batch["is_alert"], "reasons"] == "").all())
    assert set(batch["model_version"]) == {"7"}
