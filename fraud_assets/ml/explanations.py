"""Alert reasons from XGBoost's own per-feature contributions (TreeSHAP in log-odds; no shap package).

The booster is used with all its trees: boosters from `train_xgboost` are already sliced to their
best iteration, so the contributions explain exactly the scores of `predict_scores`.
Building the reason dicts is a Python loop over rows: call `top_reasons` on alerted rows, not on a whole day.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import xgboost as xgb

from fraud_assets.ml.features import FEATURE_DESCRIPTIONS

BIAS_COLUMN = "bias"


def feature_contributions(booster: xgb.Booster, features: pd.DataFrame) -> pd.DataFrame:
    """Per-row contribution of every feature to the log-odds, plus a `bias` column; each row sums to the margin."""
    names = booster.feature_names or list(features.columns)
    contributions = contributions_of_matrix(booster, features[names].to_numpy(dtype=np.float32), names)
    return pd.DataFrame(contributions, index=features.index, columns=[*names, BIAS_COLUMN])


def contributions_of_matrix(booster: xgb.Booster, matrix: np.ndarray, names: list[str]) -> np.ndarray:
    """`feature_contributions` of a float32 matrix whose columns are `names`: rows x (features + bias), log-odds."""
    return booster.predict(xgb.DMatrix(matrix, feature_names=names), pred_contribs=True)


def top_reasons(booster: xgb.Booster, features: pd.DataFrame, k: int = 3) -> list[list[dict]]:
    """For each row, up to `k` features with the largest positive contribution, largest first.

    Each reason is {"feature", "value", "contribution" (log-odds), "description"}. Features that
    push towards genuine (contribution <= 0) are never reasons, so a row can have fewer than k.
    """
    names = booster.feature_names or list(features.columns)
    return top_reasons_of_matrix(booster, features[names].to_numpy(dtype=np.float32), names, k)


def top_reasons_of_matrix(booster: xgb.Booster, matrix: np.ndarray, names: list[str], k: int = 3) -> list[list[dict]]:
    """`top_reasons` of a float32 feature matrix whose columns are `names` (the booster's features, in its order).

    The online service's path: no DataFrame around a request's few rows.
    """
    contributions = contributions_of_matrix(booster, matrix, names)[:, :-1]  # without the bias column
    values = np.asarray(matrix, dtype=np.float64)
    order = np.argsort(-contributions, axis=1, kind="stable")[:, :k]
    top_contributions = np.take_along_axis(contributions, order, axis=1)
    top_values = np.take_along_axis(values, order, axis=1)
    return [
        [
            {
                "feature": names[column],
                "value": float(value),
                "contribution": float(contribution),
                "description": FEATURE_DESCRIPTIONS.get(names[column], names[column]),
            }
            for column, value, contribution in zip(row_order.tolist(), row_values.tolist(),
                                                   row_contributions.tolist())
            if contribution > 0
        ]
        for row_order, row_values, row_contributions in zip(order, top_values, top_contributions)
    ]


def format_reasons(reasons: list[dict]) -> str:
    """One row's reasons as a short string, e.g. "drains_origin=1 (+3.2); errorBalanceOrig=0 (+1.1)"."""
    return "; ".join(
        f"{reason['feature']}={_format_value(reason['value'])} ({reason['contribution']:+.1f})" for reason in reasons
    )


def _format_value(value: float) -> str:
    """A feature value for people: whole numbers without decimals, others with at most 2; "missing" for NaN."""
    if math.isnan(value):
        return "missing"
    if value.is_integer():
        return f"{value:.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".")
