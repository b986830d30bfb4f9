"""Parquet exports for the apps: written by Dagster to a temporary name and renamed, so a reader never sees a
half-written file, and read by the label app without ever opening the DuckDB warehouse.

Layout under the exports folder (default `data/exports/`):
    review/day=NNN.parquet   per day: every alerted transaction, plus every fraud transaction the model missed
                             (so the app can count false negatives once labels mature); REVIEW_COLUMNS
    summary/day=NNN.parquet  per day and model version: rows, alerts, the day's alert budget, threshold and a
                             score histogram; SUMMARY_COLUMNS
Ground truth (`isFraud`) is exported with `label_matures_on_day`; the app shows it only from that day on.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

REVIEW_COLUMNS = ["transaction_id", "day", "step", "event_ts", "type", "amount", "nameOrig", "oldbalanceOrg",
                  "newbalanceOrig", "nameDest", "oldbalanceDest", "newbalanceDest", "score", "is_alert", "threshold",
                  "model_version", "scored_at", "reasons", "isFraud", "label_matures_on_day"]
SCORE_BIN_EDGES = np.round(np.linspace(0.0, 1.0, 21), 2)
SUMMARY_COLUMNS = ["day", "model_version", "threshold", "n_rows", "n_alerts", "alert_budget",
                   *[f"score_bin_{i:02d}" for i in range(20)]]


def review_rows(predictions: pd.DataFrame, transactions: pd.DataFrame, label_delay_days: int) -> pd.DataFrame:
    """Alerted and fraud rows of scored predictions joined with their transactions (REVIEW_COLUMNS).

    The few rows kept (about 0.1-1%) are chosen before the join, so a month at full scale joins thousands of rows,
    not millions."""
    fraud_ids = transactions.loc[transactions["isFraud"] == 1, "transaction_id"]
    candidates = predictions[predictions["is_alert"].to_numpy()
                             | predictions["transaction_id"].isin(fraud_ids).to_numpy()]
    balances = transactions.loc[transactions["transaction_id"].isin(candidates["transaction_id"]),
                                ["transaction_id", "oldbalanceOrg", "newbalanceOrig", "oldbalanceDest",
                                 "newbalanceDest", "isFraud"]]
    kept = candidates.merge(balances, on="transaction_id", how="inner", validate="one_to_one")
    return kept.assign(label_matures_on_day=kept["day"] + label_delay_days)[REVIEW_COLUMNS].reset_index(drop=True)


def daily_summary(predictions: pd.DataFrame, alert_budget_of_day: Callable[[int], int]) -> pd.DataFrame:
    """Per day and model version: row and alert counts, the day's alert budget (`alert_budget_of_day(rows of the
    day)`), threshold and a 20-bin score histogram (SUMMARY_COLUMNS)."""
    rows = []
    rows_per_day = predictions.groupby("day").size()
    for (day, version), group in predictions.groupby(["day", "model_version"], sort=True):
        counts, _ = np.histogram(group["score"].to_numpy(), bins=SCORE_BIN_EDGES)
        rows.append([int(day), str(version), float(group["threshold"].iloc[0]), len(group),
                     int(group["is_alert"].sum()), alert_budget_of_day(int(rows_per_day[day])), *counts.tolist()])
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def write_parquet_atomically(frame: pd.DataFrame, path: Path) -> Path:
    """Write `frame` to `path` through a temporary file in the same folder and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_parquet(temporary, index=False)
    os.replace(temporary, path)
    return path


def day_file(exports_dir: Path, kind: str, day: int) -> Path:
    return exports_dir / kind / f"day={day:03d}.parquet"


def read_exports(exports_dir: Path, kind: str) -> pd.DataFrame:
    """Every day's export of `kind` ('review' or 'summary'), concatenated, with the contract's columns (a column an
    older export lacks, such as the summary's `alert_budget`, is NaN on its days); empty when nothing is exported."""
    files = sorted((exports_dir / kind).glob("day=*.parquet"))
    columns = REVIEW_COLUMNS if kind == "review" else SUMMARY_COLUMNS
    if not files:
        return pd.DataFrame(columns=columns)
    return pd.concat([pd.read_parquet(file) for file in files], ignore_index=True).reindex(columns=columns)
