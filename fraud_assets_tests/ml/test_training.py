"""Tests of the time split, XGBoost training and scoring on a small synthetic PaySim-like set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.metrics import average_precision_score

from fraud_assets.ml.features import FEATURE_COLUMNS, build_features
from fraud_assets.ml.training import XGBoostParams, predict_scores, time_split, train_xgboost

FAST_PARAMS = XGBoostParams(n_estimators=60, max_depth=4, early_stopping_rounds=10, nthread=2)


def synthetic_transactions(n_days: int, rows_per_day: int, seed: int) -> pd.DataFrame:
    """PaySim-like rows: fraud drains the origin into an empty account at any hour; some genuine rows look alike."""
    rng = np.random.default_rng(seed)
    n = n_days * rows_per_day
    day = np.repeat(np.arange(n_days), rows_per_day)
    fraud = rng.random(n) < 0.05
    genuine_hours = rng.choice([9, 12, 15, 18, 19, 20, 21], n)
    hour = np.where(fraud, rng.integers(0, 24, n), genuine_hours)
    old_orig = np.round(rng.lognormal(10, 1.5, n), 2)
    genuine_amount = np.round(old_orig * rng.uniform(0.05, 0.9, n), 2)
    look_alike = ~fraud & (rng.random(n) < 0.02)  # customers who empty their own account
    amount = np.where(fraud | look_alike, old_orig, genuine_amount)
    old_dest = np.where(fraud & (rng.random(n) < 0.5), 0.0, np.round(rng.lognormal(11, 1.5, n), 2))
    types = np.where(fraud, rng.choice(["TRANSFER", "CASH_OUT"], n), rng.choice(["CASH_OUT", "PAYMENT", "CASH_IN"], n))
    return pd.DataFrame(
        {
            "step": day * 24 + hour + 1,
            "type": types,
            "amount": amount,
            "oldbalanceOrg": old_orig,
            "newbalanceOrig": old_orig - amount,
            "nameDest": np.where(types == "PAYMENT", "M1", "C1"),
            "oldbalanceDest": old_dest,
            "newbalanceDest": np.where(old_dest == 0, 0.0, old_dest + amount),
            "isFraud": fraud.astype(np.int8),
            "day": day,
        }
    )


@pytest.fixture(scope="module")
def synthetic_split():
    """Features and labels of days 0-3 (train), 4 (validation) and 5 (test)."""
    transactions = synthetic_transactions(n_days=6, rows_per_day=800, seed=7)
    features = build_features(transactions)
    labels = transactions["isFraud"].to_numpy()
    before_test = (transactions["day"] < 5).to_numpy()
    train, valid = time_split(transactions["day"][before_test], validation_days=1)
    return {
        "train_X": features[before_test][train],
        "train_y": labels[before_test][train],
        "valid_X": features[before_test][valid],
        "valid_y": labels[before_test][valid],
        "test_X": features[~before_test],
        "test_y": labels[~before_test],
    }


@pytest.fixture(scope="module")
def trained(synthetic_split):
    split = synthetic_split
    return train_xgboost(split["train_X"], split["train_y"], split["valid_X"], split["valid_y"], FAST_PARAMS, seed=11)


def test_time_split_puts_only_the_newest_days_in_validation():
    days = np.random.default_rng(0).permutation(np.repeat([3, 0, 7, 5, 1], 10))
    train, valid = time_split(pd.Series(days), validation_days=2)
    assert set(days[valid]) == {5, 7}
    assert days[train].max() < days[valid].min()
    assert (train ^ valid).all()


def test_time_split_needs_one_training_day_more_than_validation_days():
    with pytest.raises(ValueError, match="needs at least 3 distinct days, but the data holds 2"):
        time_split(np.array([4, 4, 5]), validation_days=2)
    with pytest.raises(ValueError, match="at least 1"):
        time_split(np.array([1, 2]), validation_days=0)


def test_trained_model_ranks_a_later_day_well(trained, synthetic_split):
    scores = predict_scores(trained.booster, synthetic_split["test_X"])
    assert scores.dtype == np.float64
    assert average_precision_score(synthetic_split["test_y"], scores) > 0.9


def test_trained_model_records_its_data_and_best_iteration(trained, synthetic_split):
    train_y = synthetic_split["train_y"]
    assert trained.feature_columns == FEATURE_COLUMNS
    assert trained.n_train == len(train_y) and trained.n_train_fraud == train_y.sum()
    assert trained.n_valid == len(synthetic_split["valid_y"])
    assert trained.n_valid_fraud == synthetic_split["valid_y"].sum()
    assert trained.scale_pos_weight == pytest.approx((train_y == 0).sum() / train_y.sum())
    assert trained.booster.num_boosted_rounds() == trained.best_iteration + 1


def test_training_is_deterministic_for_a_seed(trained, synthetic_split):
    split = synthetic_split
    again = train_xgboost(split["train_X"], split["train_y"], split["valid_X"], split["valid_y"], FAST_PARAMS, seed=11)
    assert again.best_iteration == trained.best_iteration
    np.testing.assert_array_equal(
        predict_scores(again.booster, split["test_X"]), predict_scores(trained.booster, split["test_X"])
    )


def test_saved_and_loaded_booster_predicts_the_same(trained, synthetic_split, tmp_path):
    path = tmp_path / "model.json"
    trained.booster.save_model(path)
    loaded = xgb.Booster(model_file=path)
    test_X = synthetic_split["test_X"]
    np.testing.assert_array_equal(predict_scores(loaded, test_X), predict_scores(trained.booster, test_X))


def test_predict_scores_reorders_columns_by_name(trained, synthetic_split):
    test_X = synthetic_split["test_X"]
    reversed_columns = test_X[test_X.columns[::-1]]
    np.testing.assert_array_equal(
        predict_scores(trained.booster, reversed_columns), predict_scores(trained.booster, test_X)
    )


@pytest.mark.parametrize("role", ["train", "valid"])
def test_labels_without_fraud_are_a_clear_error(synthetic_split, role):
    split = dict(synthetic_split)
    split[f"{role}_y"] = np.zeros_like(split[f"{role}_y"])
    name = "training" if role == "train" else "validation"
    rows = len(split[f"{role}_y"])
    with pytest.raises(ValueError, match=f"The {name} set has {rows} rows of which 0 are fraud"):
        train_xgboost(split["train_X"], split["train_y"], split["valid_X"], split["valid_y"], FAST_PARAMS, seed=1)
