"""Batch scoring with the champion: scores, alerts and the top reasons of alerted rows (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import xgboost as xgb

from fraud_assets.ml.explanations import top_reasons
from fraud_assets.ml.features import build_features
from fraud_assets.ml.training import predict_scores

PREDICTION_COLUMNS = ["transaction_id", "event_ts", "day", "step", "type", "amount", "nameOrig", "nameDest",
                      "score", "is_alert", "threshold", "model_version", "scored_at", "reasons"]


# The dtypes of a prediction row (what creates the scored_predictions table).
PREDICTION_DTYPES = {"transaction_id": "object", "event_ts": "datetime64[ns]", "day": "int32", "step": "int64",
                     "type": "object", "amount": "float64", "nameOrig": "object", "nameDest": "object",
                     "score": "float64", "is_alert": "bool", "threshold": "float64", "model_version": "object",
                     "scored_at": "datetime64[ns]", "reasons": "object"}


@dataclass(frozen=True)
class ScoredRows:
    """What the model adds to each transaction: its score and alert, and the reasons of the alerted ones."""

    scores: np.ndarray
    is_alert: np.ndarray
    alert_reasons: list[str]  # a JSON list of the top three reasons per alerted row, in row order


def score_rows(transactions: pd.DataFrame, booster: xgb.Booster, threshold: float) -> ScoredRows:
    """Scores, alerts (`score >= threshold`) and reasons for the alerted rows only (reasons cost a `pred_contribs`
    pass)."""
    features = build_features(transactions)
    scores = predict_scores(booster, features)
    is_alert = scores >= threshold
    reasons = ([json.dumps(row) for row in top_reasons(booster, features[is_alert], k=3)] if is_alert.any()
               else [])
    return ScoredRows(scores, is_alert, reasons)


def score_transactions(
    transactions: pd.DataFrame, booster: xgb.Booster, threshold: float, model_version: str, scored_at: datetime
) -> pd.DataFrame:
    """One prediction row per transaction (`PREDICTION_COLUMNS`); `reasons` is a JSON list of the top three reasons
    for alerted rows and '' for the others."""
    scored = score_rows(transactions, booster, threshold)
    reasons = np.full(len(transactions), "", dtype=object)
    reasons[scored.is_alert] = scored.alert_reasons
    # one frame built from column arrays: copying a million-row frame column by column costs more than predicting
    columns = {name: transactions[name].to_numpy() for name in PREDICTION_COLUMNS[:8]}
    return pd.DataFrame({
        **columns,
        "score": scored.scores,
        "is_alert": scored.is_alert,
        "threshold": np.full(len(transactions), threshold),
        "model_version": np.full(len(transactions), model_version, dtype=object),
        "scored_at": np.full(len(transactions),
                             pd.Timestamp(scored_at).tz_localize(None).to_datetime64()).astype("datetime64[ns]"),
        "reasons": reasons,
    })


def empty_predictions_frame() -> pd.DataFrame:
    """No rows, with the prediction columns and dtypes."""
    return pd.DataFrame({column: pd.Series(dtype=dtype) for column, dtype in PREDICTION_DTYPES.items()})


def score_histogram(scores: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Counts of scores in equal-width bins over [0, 1]."""
    counts, edges = np.histogram(scores, bins=bins, range=(0.0, 1.0))
    return pd.DataFrame({"score_from": edges[:-1].round(2), "score_to": edges[1:].round(2), "rows": counts})
