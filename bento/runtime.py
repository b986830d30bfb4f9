"""What the service does besides HTTP: its settings, the champion it serves (hot-swapped), scoring, the decision log.

- `service_settings_from_env` reads the service's few settings (on top of `fraud_assets.settings.Settings`).
- `ModelHolder` keeps the champion loaded from the BentoML model store and swaps in a newer one without a restart:
  a background thread checks the store every `poll_seconds` (and at once when another worker was asked to reload);
  a new entry is loaded and warmed up fully, then the reference is swapped, so a request in flight keeps the model
  it started with and no request ever sees a half-loaded one.
- `decide` scores transactions with the one feature function (`build_features`) and `predict_scores`, like batch
  scoring, and explains alerts with `top_reasons`.
- `DecisionLogWriter` appends every decision to the decision log (SQLite) from a background thread, in batches,
  off the request path; `close()` writes what is still queued.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import operator
import queue
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

from bento.contract import EXAMPLE_TRANSACTION, Transaction
from fraud_assets.decision_log import append_decisions
from fraud_assets.ml.explanations import top_reasons
from fraud_assets.ml.features import build_features
from fraud_assets.ml.training import predict_scores
from fraud_assets.served_models import (
    ChampionModel,
    load_served_model,
    newest_served_tag,
)
from fraud_assets.schema import AMOUNT_COLUMNS
from fraud_assets.settings import Settings, env_number, env_str

logger = logging.getLogger("bentoml.fraud_scoring")  # under "bentoml" so that BentoML's log setup shows it

MODEL_NAME = "fraud_model"  # the served-model entry the promotion writes (ModelRegistry.registered_model_name)
NO_MODEL_MESSAGE = (
    "No champion model in the BentoML model store at {store}: run `make run` (the main job) to train and "
    "promote the first model; the service picks it up within {poll:g} s, without a restart."
)
REASONS_PER_ALERT = 3
# One XGBoost thread per worker: online batches are small, and OpenMP threads that wait for a busy core make a
# 1,000-row prediction 2-3x slower on a shared 2-core machine. Scale with FRAUD_SERVICE_WORKERS instead.
BOOSTER_THREADS = 1
FRAME_COLUMNS = ["step", "type", "amount", "nameOrig", "oldbalanceOrg", "newbalanceOrig", "nameDest",
                 "oldbalanceDest", "newbalanceDest"]


@dataclass(frozen=True)
class ServiceSettings:
    """The service's configuration. Environment variables (defaults in brackets):

    FRAUD_DATA_DIR [data] and BENTOML_HOME [$FRAUD_DATA_DIR/bentoml], as for the whole system (fraud_assets.settings);
    FRAUD_SERVICE_API_KEY [unset]: key of POST /reload (header X-API-Key); unset, the endpoint is disabled (403);
    FRAUD_SERVICE_POLL_SECONDS [5]: how often each worker checks the model store for a new champion;
    FRAUD_SERVICE_MAX_BATCH [10000]: most transactions in one POST /predict;
    FRAUD_SERVICE_WORKERS [1]: worker processes of `bentoml serve`.
    """

    model_store_home: Path
    decision_log_path: Path
    reload_marker_path: Path
    api_key: str = ""
    poll_seconds: float = 5.0
    max_batch_size: int = 10_000
    workers: int = 1


def service_settings_from_env() -> ServiceSettings:
    """The service's settings from the environment (see ServiceSettings for the variables and defaults)."""
    base = Settings.from_env()
    settings = ServiceSettings(
        model_store_home=base.model_store_home,
        decision_log_path=base.decision_log_path,
        reload_marker_path=base.data_dir / "fraud_service.reload",
        api_key=env_str("FRAUD_SERVICE_API_KEY", ""),
        poll_seconds=env_number("FRAUD_SERVICE_POLL_SECONDS", 5.0, float),
        max_batch_size=env_number("FRAUD_SERVICE_MAX_BATCH", 10_000, int),
        workers=env_number("FRAUD_SERVICE_WORKERS", 1, int),
    )
    for name, value, low in [("FRAUD_SERVICE_POLL_SECONDS", settings.poll_seconds, 0.1),
                             ("FRAUD_SERVICE_MAX_BATCH", settings.max_batch_size, 1),
                             ("FRAUD_SERVICE_WORKERS", settings.workers, 1)]:
        if not value >= low:  # also catches NaN
            raise ValueError(f"environment variable {name}={value!r} must be at least {low}; unset it for the default")
    return settings


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


# --------------------------------------------------------------------------------------------- the served model


@dataclass(frozen=True)
class ServedModel:
    """A loaded champion and where it came from."""

    champion: ChampionModel
    tag: str
    home: Path
    loaded_at: str

    @property
    def version(self) -> str:
        return self.champion.version


@dataclass(frozen=True)
class RefreshOutcome:
    changed: bool
    previous: ServedModel | None
    current: ServedModel | None


class ModelHolder:
    """The champion of one worker, kept up to date with the newest `name` entry of the model store.

    `homes` are BentoML homes searched in order: the first that holds an entry is used (the service passes the
    configured store, then the store packed in the Bento when it runs from one).
    """

    def __init__(self, homes: Sequence[Path], name: str = MODEL_NAME, poll_seconds: float = 5.0,
                 reload_marker: Path | None = None, booster_threads: int = BOOSTER_THREADS) -> None:
        self.homes = [Path(home) for home in homes]
        self.name = name
        self.poll_seconds = poll_seconds
        self.reload_marker = reload_marker
        self.booster_threads = booster_threads
        self._current: ServedModel | None = None
        self._load_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def current(self) -> ServedModel | None:
        """The model to use; read it once per request (a swap replaces the reference, never mutates it)."""
        return self._current

    def no_model_message(self) -> str:
        return NO_MODEL_MESSAGE.format(store=self.homes[0] / "models", poll=self.poll_seconds)

    def newest(self) -> tuple[Path, str] | None:
        for home in self.homes:
            tag = newest_served_tag(home, self.name)
            if tag is not None:
                return home, tag
        return None

    def refresh(self) -> RefreshOutcome:
        """Load the newest entry if it is not the one served; swap only once it is fully loaded and warmed up."""
        with self._load_lock:
            previous = self._current
            found = self.newest()
            if found is None or (previous is not None and (previous.home, previous.tag) == found):
                return RefreshOutcome(changed=False, previous=previous, current=previous)
            home, tag = found
            champion = load_served_model(home, self.name, tag)  # that entry, not whatever is newest by now
            if self.booster_threads:
                champion.booster.set_param({"nthread": self.booster_threads})
            loaded = ServedModel(champion=champion, tag=tag, home=home, loaded_at=utc_now())
            decide(loaded, [Transaction.model_validate(EXAMPLE_TRANSACTION)], request_id="warm-up")
            self._current = loaded
        logger.info("Serving %s version %s (%s from %s)%s", self.name, loaded.version, tag, home,
                    f"; was version {previous.version} ({previous.tag})" if previous else "")
        return RefreshOutcome(changed=True, previous=previous, current=loaded)

    def refresh_quietly(self) -> bool:
        """`refresh`, logging instead of raising: a half-written or broken entry must not stop the service.

        Returns False when the store could not be read or the newest entry not loaded.
        """
        try:
            self.refresh()
            return True
        except Exception:
            served = self._current
            logger.exception("Could not load the newest %s from %s; still serving %s; retrying in %g s",
                             self.name, [str(home) for home in self.homes],
                             f"version {served.version}" if served else "no model", self._retry_seconds)
            return False

    def request_reload_everywhere(self) -> None:
        """Tell every worker sharing the data folder to check the store now (they watch the marker's mtime)."""
        if self.reload_marker is None:
            return
        try:
            self.reload_marker.parent.mkdir(parents=True, exist_ok=True)
            self.reload_marker.write_text(f"{utc_now()} {uuid.uuid4().hex}\n")
        except OSError:
            logger.exception("Could not write the reload marker %s; other workers reload at their next poll",
                             self.reload_marker)

    def _marker_mtime(self) -> int | None:
        if self.reload_marker is None:
            return None
        try:
            return self.reload_marker.stat().st_mtime_ns
        except OSError:
            return None

    def start(self) -> None:
        """Start the background poller (idempotent)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, name="fraud-model-poller", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def _retry_seconds(self) -> float:
        """After a failed check, the next comes sooner: an entry being written is usually complete within a second."""
        return min(1.0, self.poll_seconds)

    def _poll(self) -> None:
        tick = min(0.5, self.poll_seconds)
        marker_seen = self._marker_mtime()
        next_check = time.monotonic() + self.poll_seconds
        while not self._stop.wait(tick):
            marker = self._marker_mtime()
            if marker != marker_seen or time.monotonic() >= next_check:
                marker_seen = marker
                succeeded = self.refresh_quietly()
                next_check = time.monotonic() + (self.poll_seconds if succeeded else self._retry_seconds)


# ------------------------------------------------------------------------------------------------------ scoring


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
        """Tuples in fraud_assets.decision_log.DECISION_COLUMNS order."""
        to_json = Transaction.__pydantic_serializer__.to_json
        return [
            (self.request_id, index, transaction_id, self.decided_at, self.model_version, score, int(alert),
             self.threshold, to_json(transaction, exclude_none=True).decode(), json.dumps(reasons) if reasons else "[]")
            for index, (transaction, transaction_id, score, alert, reasons) in enumerate(zip(
                self.transactions, self.transaction_ids, self.scores.tolist(), self.is_alert.tolist(), self.reasons))
        ]


_FRAME_VALUES = operator.attrgetter(*FRAME_COLUMNS)


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


def decide(served: ServedModel, transactions: Sequence[Transaction],
           request_id: str | None = None) -> tuple[list[dict], DecisionBatch]:
    """Scores, alerts and reasons of validated transactions, exactly as batch scoring computes them.

    Returns the decisions (dicts in the `Decision` shape) and the batch to append to the decision log.
    """
    champion = served.champion
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


# ------------------------------------------------------------------------------------------------- decision log


class DecisionLogWriter:
    """Appends decision batches to the decision log from one background thread.

    `submit` only queues (no I/O on the request path, and no wake-up of the writer per request). The thread writes
    whatever is queued every `flush_seconds`, or as soon as about `flush_rows` rows are waiting, in one SQLite
    transaction; a failed write (e.g. the file locked for longer than SQLite's busy timeout) is kept and retried.
    `close` writes everything submitted before it, then stops the thread.
    """

    def __init__(self, path: Path, flush_seconds: float = 0.5, flush_rows: int = 5_000) -> None:
        self.path = Path(path)
        self.flush_seconds = flush_seconds
        self.flush_rows = flush_rows
        self.rows_written = 0
        self._queue: queue.SimpleQueue[DecisionBatch] = queue.SimpleQueue()
        self._queued_rows = 0  # approximate (updated without a lock): only decides when to flush early
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="decision-log-writer", daemon=True)
            self._thread.start()

    def submit(self, batch: DecisionBatch) -> None:
        self._queue.put(batch)
        self._queued_rows += len(batch.transactions)
        if self._queued_rows >= self.flush_rows:
            self._wake.set()

    def close(self, timeout: float = 60.0) -> None:
        """Write everything submitted so far and stop; returns once written (or after `timeout` seconds)."""
        if self._thread is not None:
            self._stopping = True
            self._wake.set()
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.error("The decision log writer did not finish within %g s; decisions may be missing from %s",
                             timeout, self.path)
                return
            self._thread = None
        leftover = self._drain()  # submitted after the thread's last look, or never started
        if leftover and not self._write(leftover, attempts=3):
            logger.error("%d decisions could not be written to %s at shutdown", len(leftover), self.path)

    def _drain(self) -> list[tuple]:
        self._queued_rows = 0
        rows: list[tuple] = []
        while True:
            try:
                rows.extend(self._queue.get_nowait().rows())
            except queue.Empty:
                return rows

    def _write(self, rows: list[tuple], attempts: int = 1) -> bool:
        for attempt in range(attempts):
            try:
                append_decisions(self.path, rows)
                self.rows_written += len(rows)
                return True
            except Exception:
                logger.exception("Could not append %d decisions to %s (attempt %d of %d)", len(rows), self.path,
                                 attempt + 1, attempts)
                if attempt + 1 < attempts:
                    time.sleep(self.flush_seconds)
        return False

    def _run(self) -> None:
        pending: list[tuple] = []
        while True:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            stopping = self._stopping
            pending.extend(self._drain())
            if pending and self._write(pending, attempts=3 if stopping else 1):
                pending = []
            if stopping:
                if pending:
                    logger.error("%d decisions could not be written to %s at shutdown", len(pending), self.path)
                return
