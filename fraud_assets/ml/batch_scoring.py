"""Batch scoring with the champion: scores, alerts and the top reasons of alerted rows (pure)."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pandas as pd
import xgboost as xgb

from fraud_assets.ml.explanations import top_reasons
from fraud_assets.ml.features import build_features
from fraud_assets.ml.training import predict_scores

PREDICTION_COLUMNS = ["transaction_id", "event_ts", "day", "step", "type", "amount", "nameOrig", "nameDest",
                      "score", "is_alert", "threshold", "model_version", "scored_at", "reasons"]


def score_transactions(
    transactions: pd.DataFrame, booster: xgb.Booster, threshold: float, model_version: str, scored_at: datetime
) -> pd.DataFrame:
    """One prediction row per transaction; `reasons` is a JSON list of the top three reasons for alerted rows
    and '' for the others (reasons cost a `pred_contribs` pass, so only alerts get them)."""
    features = build_features(transactions)
    scores = predict_scores(booster, features)
    is_alert = scores >= threshold
    reasons = np.full(len(transactions), "", dtype=object)
    if is_alert.any():
        reasons[is_alert] = [json.dumps(row) for row in top_reasons(booster, features[is_alert], k=3)]
    # one frame built from column arrays: copying a million-row frame column by column costs more than predicting
    columns = {name: transactions[name].to_numpy() for name in PREDICTION_COLUMNS[:8]}
    return pd.DataFrame({
        **columns,
        "score": scores,
        "is_alert": is_alert,
        "threshold": np.full(len(scores), threshold),
        "model_version": np.full(len(scores), model_version, dtype=object),
        "scored_at": np.full(len(scores),
                             pd.Timestamp(scored_at).tz_localize(None).to_datetime64()).astype("datetime64[ns]"),
        "reasons": reasons,
    })


def score_histogram(scores: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Counts of scores in equal-width bins over [0, 1]."""
    counts, edges = np.histogram(scores, bins=bins, range=(0.0, 1.0))
    return pd.DataFrame({"score_from": edges[:-1].round(2), "score_to": edges[1:].round(2), "rows": counts})
