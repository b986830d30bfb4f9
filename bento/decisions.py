"""Decisions on validated transactions: scores, alerts and reasons, exactly as batch scoring computes them.

`decide` scores with the one feature code (`feature_matrix`, the core of `build_features`) and the booster's
`inplace_predict` on numpy columns built straight from the validated request (no DataFrame: its fixed cost is larger
than a transaction's features and prediction), explains alerts with the same TreeSHAP reasons as batch scoring, and
returns the decisions with the `DecisionBatch` that the decision log stores.
"""

from __future__ import annotations

import hashlib
import json
import math
import operator
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np
import xgboost as xgb

from bento.contract import Transaction
from fraud_assets.core.schema import AMOUNT_COLUMNS
from fraud_assets.core.served_models import ChampionModel
from fraud_assets.ml.explanations import top_reasons_of_matrix
from fraud_assets.ml.features import FEATURE_COLUMNS, feature_matrix
from fraud_assets.ml.training import predict_matrix

REASONS_PER_ALERT = 3
# One XGBoost thread per worker: online batches are small, and OpenMP threads that wait for a busy core make a
# 1,000-row prediction 2-3x slower on a shared 2-core machine. Scale with FRAUD_SERVICE_WORKERS instead.
BOOSTER_THREADS = 1
REQUEST_COLUMNS = ["step", "type", "amount", "nameOrig", "oldbalanceOrg", "newbalanceOrig", "nameDest",
                   "oldbalanceDest", "newbalanceDest"]
_REQUEST_VALUES = operator.attrgetter(*REQUEST_COLUMNS)


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


def transaction_columns(transactions: Sequence[Transaction]) -> dict[str, np.ndarray]:
    """Validated transactions as numpy columns for `feature_matrix` (`step` left out when no transaction has one)."""
    values = dict(zip(REQUEST_COLUMNS, zip(*map(_REQUEST_VALUES, transactions))))
    columns: dict[str, np.ndarray] = {}
    for name in REQUEST_COLUMNS:
        if name == "step":
            if any(step is not None for step in values["step"]):  # a missing step becomes NaN: missing hour features
                columns["step"] = np.array([np.nan if step is None else step for step in values["step"]],
                                           dtype=np.float64)
        else:
            columns[name] = np.array(values[name], dtype=np.float64 if name in AMOUNT_COLUMNS else object)
    return columns


def derived_transaction_ids(columns: Mapping[str, np.ndarray]) -> list[str]:
    """Deterministic ids of transactions sent without one: "tx-" + 20 hex digits of a BLAKE2b hash of their fields.

    `columns` is `transaction_columns(...)`. The same transaction always gets the same id, whatever else is in its
    batch; it is an id for people and joins, not a key (the decision log's key is request_id + item_index).
    """
    rows = len(columns["amount"])
    step = columns["step"] if "step" in columns else np.full(rows, np.nan)
    numbers = np.column_stack([step, *(columns[column] for column in AMOUNT_COLUMNS)])
    raw = (numbers + 0.0).tobytes()  # + 0.0 turns -0.0 into 0.0; 6 float64 = 48 bytes per row
    width = 8 * numbers.shape[1]
    return [
        "tx-" + hashlib.blake2b(raw[row * width:(row + 1) * width] + f"{kind}|{origin}|{destination}".encode(),
                                digest_size=10).hexdigest()
        for row, (kind, origin, destination) in enumerate(zip(columns["type"], columns["nameOrig"],
                                                              columns["nameDest"]))
    ]


@lru_cache(maxsize=4)
def _booster_features(booster: xgb.Booster) -> tuple[list[str], np.ndarray | None]:
    """The booster's feature names, and the positions of its features among `FEATURE_COLUMNS` (None when they are
    `FEATURE_COLUMNS` in order, as for every model the pipeline trains). Read once per loaded model."""
    names = booster.feature_names or list(FEATURE_COLUMNS)
    if names == FEATURE_COLUMNS:
        return names, None
    unknown = sorted(set(names) - set(FEATURE_COLUMNS))
    if unknown:
        raise ValueError(f"The model uses features this service does not compute: {unknown}")
    return names, np.array([FEATURE_COLUMNS.index(name) for name in names])


def _reason(reason: dict) -> dict:
    value = reason["value"]
    return {**reason, "value": None if math.isnan(value) else value}


def decide(champion: ChampionModel, transactions: Sequence[Transaction],
           request_id: str | None = None) -> tuple[list[dict], DecisionBatch]:
    """Scores, alerts and reasons of validated transactions, exactly as batch scoring computes them.

    Returns the decisions (dicts in the `Decision` shape) and the batch to append to the decision log.
    """
    request_id = request_id or uuid.uuid4().hex
    columns = transaction_columns(transactions)
    names, positions = _booster_features(champion.booster)
    features = feature_matrix(columns)
    if positions is not None:
        features = features[:, positions]
    reasons: list[list[dict]] = [[] for _ in transactions]
    scores = predict_matrix(champion.booster, features)
    is_alert = scores >= champion.threshold
    alerted = np.flatnonzero(is_alert)
    if alerted.size:
        with xgb.config_context(nthread=BOOSTER_THREADS):  # for the DMatrix that the explanations build
            explained = top_reasons_of_matrix(champion.booster, features[alerted], names, k=REASONS_PER_ALERT)
        for index, row in zip(alerted, explained):
            reasons[index] = [_reason(reason) for reason in row]
    transaction_ids = [transaction.transaction_id for transaction in transactions]
    if None in transaction_ids:
        derived = derived_transaction_ids(columns)
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
