"""Decisions on validated transactions: scores, alerts and reasons, exactly as batch scoring computes them.

`decide` scores with the one feature function (`build_features`) and `predict_scores`, explains alerts with
`top_reasons`, and returns the decisions with the `DecisionBatch` that the decision log stores.
"""

from __future__ import annotations

import hashlib
import json
import math
import operator
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import xgboost as xgb

from bento.contract import Transaction
from fraud_assets.core.schema import AMOUNT_COLUMNS
from fraud_assets.core.served_models import ChampionModel
from fraud_assets.ml.explanations import top_reasons
from fraud_assets.ml.features import build_features
from fraud_assets.ml.training import predict_scores

REASONS_PER_ALERT = 3
# One XGBoost thread per worker: online batches are small, and OpenMP threads that wait for a busy core make a
# 1,000-row prediction 2-3x slower on a shared 2-core machine. Scale with FRAUD_SERVICE_WORKERS instead.
BOOSTER_THREADS = 1
FRAME_COLUMNS = ["step", "type", "amount", "nameOrig", "oldbalanceOrg", "newbalanceOrig", "nameDest",
                 "oldbalanceDest", "newbalanceDest"]
_FRAME_VALUES = operator.attrgetter(*FRAME_COLUMNS)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class DecisionBatch:
    """The decisions of one model call, as the decision log stores them."""

    request_id: str
    decided_at: str
    model_version: str
    threshold: float
    transactions: list[Transaction]
    transaction_ids: list[str]
    scores: np.ndarray
    is_alert: np.ndarray
    reasons: list[list[dict]]

    def rows(self) -> list[tuple]:
        """Tuples in fraud_assets.core.decision_log.DECISION_COLUMNS order."""
        to_json = Transaction.__pydantic_serializer__.to_json
        return [
            (self.request_id, index, transaction_id, self.decided_at, self.model_version, score, int(alert),
             self.threshold, to_json(transaction, exclude_none=True).decode(), json.dumps(reasons) if reasons else "[]")
            for index, (transaction, transaction_id, score, alert, reasons) in enumerate(zip(
                self.transactions, self.transaction_ids, self.scores.tolist(), self.is_alert.tolist(), self.reasons))
        ]


def transactions_frame(transactions: Sequence[Transaction]) -> pd.DataFrame:
    """Validated transactions as a PaySim-schema frame (`step` left out when no transaction has one)."""
    values = dict(zip(FRAME_COLUMNS, zip(*map(_FRAME_VALUES, transactions))))
    columns: dict[str, np.ndarray] = {}
    for name in FRAME_COLUMNS:
        if name == "step":
            if any(step is not None for step in values["step"]):  # a missing step becomes NaN: missing hour features
                columns["step"] = np.array([np.nan if step is None else step for step in values["step"]],
                                           dtype=np.float64)
        else:
            columns[name] = np.array(values[name], dtype=np.float64 if name in AMOUNT_COLUMNS else object)
    return pd.DataFrame(columns)


def derived_transaction_ids(frame: pd.DataFrame) -> list[str]:
    """Deterministic ids of transactions sent without one: "tx-" + 20 hex digits of a BLAKE2b hash of their fields.

    `frame` is `transactions_frame(...)`. The same transaction always gets the same id, whatever else is in its
    batch; it is an id for people and joins, not a key (the decision log's key is request_id + item_index).
    """
    step = frame["step"].to_numpy(dtype=np.float64) if "step" in frame else np.full(len(frame), np.nan)
    numbers = np.column_stack([step, *(frame[column].to_numpy(dtype=np.float64) for column in AMOUNT_COLUMNS)])
    raw = (numbers + 0.0).tobytes()  # + 0.0 turns -0.0 into 0.0; 6 float64 = 48 bytes per row
    width = 8 * numbers.shape[1]
    return [
        "tx-" + hashlib.blake2b(raw[row * width:(row + 1) * width] + f"{kind}|{origin}|{destination}".encode(),
                                digest_size=10).hexdigest()
        for row, (kind, origin, destination) in enumerate(zip(frame["type"], frame["nameOrig"], frame["nameDest"]))
    ]


def _reason(reason: dict) -> dict:
    value = reason["value"]
    return {**reason, "value": None if math.isnan(value) else value}


def decide(champion: ChampionModel, transactions: Sequence[Transaction],
           request_id: str | None = None) -> tuple[list[dict], DecisionBatch]:
    """Scores, alerts and reasons of validated transactions, exactly as batch scoring computes them.

    Returns the decisions (dicts in the `Decision` shape) and the batch to append to the decision log.
    """
    request_id = request_id or uuid.uuid4().hex
    frame = transactions_frame(transactions)
    features = build_features(frame)
    reasons: list[list[dict]] = [[] for _ in transactions]
    scores = predict_scores(champion.booster, features)
    is_alert = scores >= champion.threshold
    alerted = np.flatnonzero(is_alert)
    if alerted.size:
        with xgb.config_context(nthread=BOOSTER_THREADS):  # for the DMatrix that top_reasons builds
            explained = top_reasons(champion.booster, features.iloc[alerted], k=REASONS_PER_ALERT)
        for index, row in zip(alerted, explained):
            reasons[index] = [_reason(reason) for reason in row]
    transaction_ids = [transaction.transaction_id for transaction in transactions]
    if None in transaction_ids:
        derived = derived_transaction_ids(frame)
        transaction_ids = [given or derived[row] for row, given in enumerate(transaction_ids)]
    batch = DecisionBatch(
        request_id=request_id, decided_at=utc_now(), model_version=champion.version, threshold=champion.threshold,
        transactions=list(transactions), transaction_ids=transaction_ids, scores=scores, is_alert=is_alert,
        reasons=reasons,
    )
    decisions = [
        {"transaction_id": transaction_id, "request_id": request_id, "score": score, "is_alert": alert,
         "threshold": champion.threshold, "model_version": champion.version, "reasons": row_reasons}
        for transaction_id, score, alert, row_reasons in zip(transaction_ids, scores.tolist(), is_alert.tolist(),
                                                             reasons)
    ]
    return decisions, batch
