"""The hand-made data of the label app tests: review and summary exports the way Dagster writes them, and label
events. No tests here: the label app tests and fraud_assets_tests/tools/test_screenshots.py import it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from fraud_assets.core.label_store import append_label_event
from fraud_assets.core.review_export import (
    REVIEW_COLUMNS,
    SCORE_BIN_EDGES,
    SUMMARY_COLUMNS,
    day_file,
    write_parquet_atomically,
)
from fraud_assets.ml.thresholds import daily_alert_budget

LABEL_DELAY_DAYS = 2
ALERTS_PER_1000 = 2.92  # 3 alerts a day of 1,000 transactions
REASONS = [{"feature": "drains_origin", "value": 1.0, "contribution": 2.5,
            "description": "The amount is exactly the paying account's whole balance: the account is emptied."},
           {"feature": "amount", "value": 181000.0, "contribution": 0.75, "description": "Amount of the transaction."}]


def case(transaction_id: str, day: int, score: float, is_alert: bool, is_fraud: int, *, type: str = "TRANSFER",
         model_version: str = "v1", threshold: float = 0.5, amount: float = 1000.0) -> dict:
    """One review-export row (REVIEW_COLUMNS) with plausible PaySim fields."""
    step = day * 24 + 5
    return {
        "transaction_id": transaction_id, "day": day, "step": step,
        "event_ts": pd.Timestamp("2025-01-01") + pd.Timedelta(hours=step - 1), "type": type, "amount": amount,
        "nameOrig": "C100", "oldbalanceOrg": amount, "newbalanceOrig": 0.0, "nameDest": "C200",
        "oldbalanceDest": 0.0, "newbalanceDest": 0.0, "score": score, "is_alert": is_alert, "threshold": threshold,
        "model_version": model_version, "scored_at": pd.Timestamp("2025-02-01"),
        "reasons": json.dumps(REASONS) if is_alert else "", "isFraud": is_fraud,
        "label_matures_on_day": day + LABEL_DELAY_DAYS,
    }


def write_day(exports_dir: Path, day: int, rows: list[dict], n_rows: int, model_version: str, threshold: float) -> None:
    """The day's review and summary files, as the Dagster export writes them; genuine non-alerts score ~0.01."""
    review = pd.DataFrame(rows, columns=REVIEW_COLUMNS).astype(
        {"day": "int32", "step": "int64", "is_alert": bool, "isFraud": "int8", "label_matures_on_day": "int32"})
    scores = np.concatenate([review["score"].to_numpy(), np.full(n_rows - len(review), 0.01)])
    counts, _ = np.histogram(scores, bins=SCORE_BIN_EDGES)
    budget = daily_alert_budget(n_rows, ALERTS_PER_1000)
    summary = pd.DataFrame([[day, model_version, threshold, n_rows, int(review["is_alert"].sum()), budget,
                             *counts.tolist()]], columns=SUMMARY_COLUMNS)
    write_parquet_atomically(review, day_file(exports_dir, "review", day))
    write_parquet_atomically(summary, day_file(exports_dir, "summary", day))


def write_scenario(tmp_path: Path) -> tuple[Path, Path]:
    """Four days, label delay 2, so today is day 3 and ground truth is known for days 0 and 1 only.

    day 0 (v1, matured): alerts a0 fraud, a1 legit, a2 fraud; missed fraud m0
    day 1 (v1, matured): alerts b0 fraud, b1 legit (an analyst says fraud)
    day 2 (v2): alerts c0 fraud (analyst: fraud), c1 legit (bob: fraud, then alice: legit), c2 fraud; missed c3
    day 3 (v2, today): alerts d0, d1, d2, no label yet
    """
    exports, labels = tmp_path / "exports", tmp_path / "labels.sqlite"
    write_day(exports, 0, [case("a0", 0, 0.9, True, 1), case("a1", 0, 0.8, True, 0, type="CASH_OUT"),
                           case("a2", 0, 0.6, True, 1), case("m0", 0, 0.1, False, 1)], 1000, "v1", 0.5)
    write_day(exports, 1, [case("b0", 1, 0.95, True, 1), case("b1", 1, 0.7, True, 0)], 1000, "v1", 0.5)
    write_day(exports, 2, [case("c0", 2, 0.99, True, 1, model_version="v2", threshold=0.4),
                           case("c1", 2, 0.5, True, 0, type="CASH_OUT", model_version="v2", threshold=0.4),
                           case("c2", 2, 0.45, True, 1, type="CASH_OUT", model_version="v2", threshold=0.4),
                           case("c3", 2, 0.2, False, 1, model_version="v2", threshold=0.4)], 1000, "v2", 0.4)
    write_day(exports, 3, [case("d0", 3, 0.97, True, 1, model_version="v2", threshold=0.4),
                           case("d1", 3, 0.6, True, 0, type="CASH_OUT", model_version="v2", threshold=0.4),
                           case("d2", 3, 0.42, True, 0, model_version="v2", threshold=0.4)], 1000, "v2", 0.4)
    append_label_event(labels, "b1", 1, "carol", "mule")
    append_label_event(labels, "c0", 1, "alice")
    append_label_event(labels, "c1", 1, "bob", "looked odd")
    append_label_event(labels, "c1", 0, "alice", "customer confirmed")
    return exports, labels
