"""Tests of alert reasons from XGBoost feature contributions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from fraud_assets.ml.explanations import (
    BIAS_COLUMN,
    feature_contributions,
    format_reasons,
    top_reasons,
    top_reasons_of_matrix,
)
from fraud_assets.ml.features import FEATURE_COLUMNS, FEATURE_DESCRIPTIONS
from fraud_assets.ml.training import XGBoostParams, train_xgboost


def train_toy_model(label_of):
    """Train on noise features labelled by `label_of(features)`; returns booster, held-out rows and labels."""
    rng = np.random.default_rng(3)
    n = 2000
    features = pd.DataFrame(rng.random((n, len(FEATURE_COLUMNS))), columns=FEATURE_COLUMNS).astype(np.float32)
    features["drains_origin"] = (rng.random(n) < 0.2).astype(np.float32)
    labels = label_of(features).to_numpy().astype(int)
    params = XGBoostParams(n_estimators=30, max_depth=3, early_stopping_rounds=5)
    model = train_xgboost(features[:1500], labels[:1500], features[1500:], labels[1500:], params, seed=0)
    return model.booster, features[1500:], labels[1500:]


@pytest.fixture(scope="module")
def toy_model():
    """Only drains_origin decides the label."""
    return train_toy_model(lambda features: features["drains_origin"] == 1)


@pytest.fixture(scope="module")
def two_feature_model():
    """drains_origin or a large amount decides the label."""
    return train_toy_model(lambda features: (features["drains_origin"] == 1) | (features["amount"] > 0.8))


def test_top_reason_of_fraud_rows_is_the_only_feature_that_matters(toy_model):
    booster, features, labels = toy_model
    reasons = top_reasons(booster, features[labels == 1], k=3)
    assert len(reasons) == (labels == 1).sum()
    assert all(row[0]["feature"] == "drains_origin" for row in reasons)
    assert all(row[0]["value"] == 1.0 for row in reasons)
    assert reasons[0][0]["description"] == FEATURE_DESCRIPTIONS["drains_origin"]


def test_reasons_are_positive_contributions_largest_first_and_at_most_k(two_feature_model):
    booster, features, _ = two_feature_model
    assert max(len(row) for row in top_reasons(booster, features, k=1)) == 1
    reasons = top_reasons(booster, features, k=2)
    assert max(len(row) for row in reasons) == 2
    contributions = feature_contributions(booster, features)
    for (index, row_features), row in zip(features.iterrows(), reasons):
        found = [reason["contribution"] for reason in row]
        assert found == sorted(found, reverse=True) and all(value > 0 for value in found)
        for reason in row:
            assert reason["contribution"] == pytest.approx(contributions.loc[index, reason["feature"]])
            assert reason["value"] == row_features[reason["feature"]]


def test_reasons_of_a_matrix_equal_those_of_the_frame(two_feature_model):
    """The service explains alerts from the feature matrix; the reasons are those of batch scoring's top_reasons."""
    booster, features, _ = two_feature_model
    rows = features.iloc[:40]
    expected = top_reasons(booster, rows, k=3)
    assert top_reasons_of_matrix(booster, rows.to_numpy(dtype=np.float32), list(FEATURE_COLUMNS), k=3) == expected
    assert any(reasons for reasons in expected)


def test_contributions_sum_to_the_margin(toy_model):
    booster, features, _ = toy_model
    contributions = feature_contributions(booster, features)
    assert list(contributions.columns) == [*FEATURE_COLUMNS, BIAS_COLUMN]
    margin = booster.predict(xgb.DMatrix(features), output_margin=True)
    np.testing.assert_allclose(contributions.sum(axis=1).to_numpy(), margin, rtol=1e-4, atol=1e-4)


def test_format_reasons():
    reasons = [
        {"feature": "drains_origin", "value": 1.0, "contribution": 3.21, "description": ""},
        {"feature": "amount", "value": 181000.5, "contribution": 1.06, "description": ""},
        {"feature": "hour_of_day", "value": float("nan"), "contribution": 0.04, "description": ""},
    ]
    assert format_reasons(reasons) == "drains_origin=1 (+3.2); amount=181000.5 (+1.1); hour_of_day=missing (+0.0)"
    assert format_reasons([]) == ""
