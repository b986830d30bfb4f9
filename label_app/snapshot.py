"""What the app shows, read once per request: the cases with what is known of their label, the daily summaries and
the label events. Nothing here imports Gradio, so every rule is testable with small hand-made frames. The rules:

- "Today" is the newest exported day: the simulation clock, not the wall clock.
- A case is an exported transaction (an alert, or a fraud the model missed) or an online alert of the BentoML
  service (source 'online'); a transaction in both keeps its exported row, which carries ground truth.
- Ground truth (`isFraud`) is visible only from `label_matures_on_day` on; before that only analysts' labels count.
  `cases` never holds the raw `isFraud`: its `ground_truth` column is NaN until the label matures.
- An analyst's latest label overrides ground truth. Label events are append-only; the latest one per transaction
  is the current label.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fraud_assets.core.decision_log import decision_log_exists, is_alerted_online, read_decisions
from fraud_assets.core.label_store import read_label_events
from fraud_assets.core.review_export import REVIEW_COLUMNS, read_exports
from fraud_assets.core.schema import day_of_step
from fraud_assets.core.settings import StoreLocation
from label_app.values import is_number

TRANSACTION_FIELDS = ["step", "event_ts", "type", "amount", "nameOrig", "oldbalanceOrg", "newbalanceOrig", "nameDest",
                      "oldbalanceDest", "newbalanceDest"]
CASE_COLUMNS = [*[column for column in REVIEW_COLUMNS if column != "isFraud"], "ground_truth", "source",
                "analyst_label", "labeled_by", "labeled_at", "label", "label_source"]


@dataclass(frozen=True)
class Snapshot:
    """Everything the app shows, read once per request."""

    cases: pd.DataFrame  # CASE_COLUMNS, one row per transaction
    summary: pd.DataFrame  # fraud_assets.core.review_export.SUMMARY_COLUMNS
    events: pd.DataFrame  # fraud_assets.core.label_store.LABEL_EVENT_COLUMNS, oldest first
    today: int | None  # the newest exported day; None before anything is exported


# ---------------------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------------------
_export_cache: dict[tuple[str, str], tuple[tuple, pd.DataFrame]] = {}
_export_cache_lock = threading.Lock()


def read_exports_cached(exports_dir: Path, kind: str) -> pd.DataFrame:
    """`read_exports`, re-read only when a day file was added, replaced or removed since the last call."""
    files = sorted((Path(exports_dir) / kind).glob("day=*.parquet"))
    signature = []
    for file in files:
        try:
            stat = file.stat()
        except FileNotFoundError:  # replaced between the listing and the stat: read again next time
            continue
        signature.append((file.name, stat.st_mtime_ns, stat.st_size))
    key = (str(Path(exports_dir).resolve()), kind)
    with _export_cache_lock:
        cached = _export_cache.get(key)
        if cached is not None and cached[0] == tuple(signature):
            return cached[1]
    frame = read_exports(Path(exports_dir), kind)
    with _export_cache_lock:
        _export_cache[key] = (tuple(signature), frame)
    return frame


def online_alert_cases(decisions: pd.DataFrame, today: int | None) -> pd.DataFrame:
    """Alerted online decisions as review rows (REVIEW_COLUMNS; newest decision per transaction).

    The transaction's fields come from `transaction_json`; its day from its PaySim `step` when the service logged
    one, else today. Online decisions carry no ground truth.
    """
    alerts = decisions[decisions["is_alert"].astype(bool)].drop_duplicates("transaction_id", keep="first")
    rows = []
    for decision in alerts.itertuples(index=False):
        try:
            transaction = json.loads(decision.transaction_json) or {}
        except (TypeError, ValueError):
            transaction = {}
        step = transaction.get("step")
        day = int(day_of_step(int(step))) if is_number(step) else today
        rows.append({
            **{field: transaction.get(field) for field in TRANSACTION_FIELDS},
            "transaction_id": str(decision.transaction_id),
            "day": day,
            "event_ts": transaction.get("event_ts") or decision.decided_at,
            "score": float(decision.score),
            "is_alert": True,
            "threshold": float(decision.threshold),
            "model_version": str(decision.model_version),
            "scored_at": decision.decided_at,
            "reasons": decision.reasons_json or "",
            "isFraud": np.nan,
            "label_matures_on_day": np.nan,
        })
    return pd.DataFrame(rows, columns=REVIEW_COLUMNS)


def load_snapshot(exports_dir: Path, label_store: StoreLocation, decision_log: StoreLocation | None = None) -> Snapshot:
    """Read the exports, the label events and (when it exists) the decision log; never the warehouse.

    The stores are SQLite files or the team database; with the database unreachable the driver's error (a
    DatabaseUnreachable or psycopg2.OperationalError) goes to the caller.
    """
    review = read_exports_cached(exports_dir, "review")
    summary = read_exports_cached(exports_dir, "summary")
    events = read_label_events(label_store)
    today = newest_day(review, summary)
    online = None
    if decision_log is not None and decision_log_exists(decision_log):
        online = online_alert_cases(read_decisions(decision_log, alerts_only=True), today)
    return Snapshot(cases=build_cases(review, events, today, online), summary=summary, events=events, today=today)


def is_case(exports_dir: Path, decision_log: StoreLocation | None, transaction_id: str) -> bool:
    """Whether a transaction is exported or was alerted online: what may be labeled (cheaper than a snapshot)."""
    review = read_exports_cached(exports_dir, "review")
    if (review["transaction_id"].astype(str) == transaction_id).any():
        return True
    return decision_log is not None and is_alerted_online(decision_log, transaction_id)


def exported_alert_budget(served: pd.DataFrame) -> int | None:
    """The alert budget the pipeline exported for a day (`served`: the day's summary rows, one per serving model
    version, each with the day's budget); None for a day exported before the budget was."""
    budgets = served["alert_budget"].dropna()
    return int(budgets.iloc[0]) if len(budgets) else None


def newest_day(review: pd.DataFrame, summary: pd.DataFrame) -> int | None:
    """Today on the simulation clock: the newest day of any export; None when nothing is exported."""
    days = pd.concat([review["day"], summary["day"]], ignore_index=True).dropna()
    return int(days.max()) if len(days) else None


# ---------------------------------------------------------------------------------------------------------------
# Cases and their known labels
# ---------------------------------------------------------------------------------------------------------------
def latest_events(events: pd.DataFrame) -> pd.DataFrame:
    """The newest event per transaction, indexed by transaction_id (columns label, reviewer, labeled_at)."""
    newest = events.sort_values("event_id").drop_duplicates("transaction_id", keep="last")
    return newest.set_index("transaction_id")[["label", "reviewer", "labeled_at"]]


def build_cases(review: pd.DataFrame, events: pd.DataFrame, today: int | None,
                online: pd.DataFrame | None = None) -> pd.DataFrame:
    """Exported (and online) cases with what is known of their label on `today` (CASE_COLUMNS).

    `ground_truth` is `isFraud` once `today >= label_matures_on_day`, else NaN; `label` is the latest analyst label,
    else the visible ground truth, else NaN; `label_source` says which ('analyst', 'ground_truth' or '').
    """
    frames = [review.assign(source="batch")]
    if online is not None and len(online):
        fresh = online[~online["transaction_id"].isin(review["transaction_id"])]
        frames.append(fresh.dropna(axis=1, how="all").assign(source="online"))  # no all-NaN columns in a concat
    cases = pd.concat([frame for frame in frames if len(frame)] or frames[:1], ignore_index=True)
    cases = cases.reindex(columns=[*REVIEW_COLUMNS, "source"])
    cases["transaction_id"] = cases["transaction_id"].astype(str)
    cases["day"] = pd.to_numeric(cases["day"], errors="coerce").astype("Int64")
    cases["is_alert"] = cases["is_alert"].astype(bool)
    for column in ["score", "threshold", "amount", "isFraud", "label_matures_on_day"]:
        cases[column] = pd.to_numeric(cases[column], errors="coerce").astype("float64")
    cases["model_version"] = cases["model_version"].astype(str)
    cases["reasons"] = cases["reasons"].fillna("").astype(str)

    matures = cases["label_matures_on_day"].to_numpy()
    matured = (today is not None) & ~np.isnan(matures) & (matures <= (today if today is not None else -1))
    ground_truth = np.where(matured, cases["isFraud"].to_numpy(), np.nan)

    latest = latest_events(events)
    analyst = cases["transaction_id"].map(latest["label"]).astype("float64").to_numpy()
    has_analyst = ~np.isnan(analyst)
    cases["ground_truth"] = ground_truth
    cases["analyst_label"] = analyst
    cases["labeled_by"] = cases["transaction_id"].map(latest["reviewer"]).fillna("")
    cases["labeled_at"] = cases["transaction_id"].map(latest["labeled_at"]).fillna("")
    cases["label"] = np.where(has_analyst, analyst, ground_truth)
    cases["label_source"] = np.where(has_analyst, "analyst", np.where(np.isnan(ground_truth), "", "ground_truth"))
    return cases[CASE_COLUMNS]


def filter_cases(cases: pd.DataFrame, day: int | None = None, transaction_type: str | None = None,
                 model_version: str | None = None, min_score: float | None = None) -> pd.DataFrame:
    """Cases of one day, type and model version with at least `min_score`; None or '' means any."""
    keep = pd.Series(True, index=cases.index)
    if day is not None:
        keep &= (cases["day"] == int(day)).fillna(False).astype(bool)
    if transaction_type:
        keep &= cases["type"] == transaction_type
    if model_version:
        keep &= cases["model_version"] == model_version
    if min_score:
        keep &= cases["score"] >= float(min_score)
    return cases[keep]


def filter_choices(snapshot: Snapshot) -> dict[str, list]:
    """The values the filters offer: days (newest first), transaction types and model versions."""
    days = pd.concat([snapshot.cases["day"].dropna().astype(int), snapshot.summary["day"].astype(int)]).unique()
    versions = pd.concat([snapshot.cases["model_version"], snapshot.summary["model_version"].astype(str)]).unique()
    return {"days": sorted((int(day) for day in days), reverse=True),
            "types": sorted(str(value) for value in snapshot.cases["type"].dropna().unique()),
            "model_versions": sorted(str(value) for value in versions)}
