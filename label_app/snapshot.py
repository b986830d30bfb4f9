"""What the app shows, read once per request: the cases with what is known of their label, the daily summaries and
the label events. Nothing here imports Gradio, so every rule is testable with small hand-made frames. The rules:

- "Today" is the newest exported day: the simulation clock, not the wall clock.
- The app shows the review window only: the exported days today - review_window_days + 1 .. today, the online alerts
  decided in the last review_window_days (wall clock, UTC) and the label events of those cases. However long the
  deployment has run, a request reads that many days, never every day so far.
- A case is an exported transaction (an alert, or a fraud the model missed) or an online alert of the BentoML
  service (source 'online'); a transaction in both keeps its exported row, which carries ground truth.
- Ground truth (`isFraud`) is visible only from `label_matures_on_day` on; before that only analysts' labels count.
  `cases` never holds the raw `isFraud`: its `ground_truth` column is NaN until the label matures.
- An analyst's latest label overrides ground truth. Label events are append-only; the latest one per transaction
  is the current label.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from fraud_assets.core.decision_log import (
    decision_cutoff,
    decision_log_exists,
    is_alerted_online,
    read_online_alerts,
    read_online_alerts_of,
)
from fraud_assets.core.label_store import LABEL_EVENT_COLUMNS, read_label_events_of
from fraud_assets.core.review_export import REVIEW_COLUMNS, ExportFileCache, exported_days, read_export_days
from fraud_assets.core.schema import day_of_step
from fraud_assets.core.settings import DEFAULT_REVIEW_WINDOW_DAYS, StoreLocation
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
_export_cache = ExportFileCache()  # the window's day files, each read once while unchanged


def window_days(exports_dir: Path, review_window_days: int) -> tuple[int | None, list[int]]:
    """Today (the newest exported day of either kind, from the file names: no file is opened) and the days of the
    review window, today - review_window_days + 1 .. today; (None, []) before anything is exported."""
    if int(review_window_days) < 1:
        raise ValueError(f"the review window is at least 1 day (today included), got {review_window_days}")
    newest = [days[-1] for days in (exported_days(exports_dir, "review"), exported_days(exports_dir, "summary"))
              if days]
    if not newest:
        return None, []
    today = max(newest)
    return today, list(range(max(0, today - int(review_window_days) + 1), today + 1))


def read_window_exports(exports_dir: Path, kind: str, days: list[int]) -> pd.DataFrame:
    """The exports of `kind` of the window's `days`: reads the export files of those days only, each once while it
    is unchanged (a replaced day file is read again)."""
    return read_export_days(Path(exports_dir), kind, days, cache=_export_cache)


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


def load_snapshot(exports_dir: Path, label_store: StoreLocation, decision_log: StoreLocation | None = None,
                  review_window_days: int = DEFAULT_REVIEW_WINDOW_DAYS, now: datetime | None = None) -> Snapshot:
    """The review window's cases, summaries and label events; never the warehouse, never an older day.

    Reads the export files of the window's days (today - review_window_days + 1 .. today, today the newest exported
    day), the label events of those cases only (indexed by transaction id) and at most ONLINE_ALERTS_LIMIT online
    alerts decided since `now` (UTC) minus the window. The stores are SQLite files or the team database;
    with the database unreachable the driver's error (a DatabaseUnreachable or psycopg2.OperationalError) goes to the
    caller.
    """
    today, days = window_days(exports_dir, review_window_days)
    review = read_window_exports(exports_dir, "review", days)
    summary = read_window_exports(exports_dir, "summary", days)
    online = None
    if decision_log is not None and decision_log_exists(decision_log):
        alerts = read_online_alerts(decision_log, decision_cutoff(review_window_days, now))
        online = online_alert_cases(alerts, today)
    case_ids = review["transaction_id"].astype(str).tolist()
    if online is not None:
        case_ids += online["transaction_id"].tolist()
    events = read_label_events_of(label_store, case_ids)
    return Snapshot(cases=build_cases(review, events, today, online), summary=summary, events=events, today=today)


def load_cases_of(exports_dir: Path, decision_log: StoreLocation | None, transaction_ids,
                  review_window_days: int = DEFAULT_REVIEW_WINDOW_DAYS, now: datetime | None = None) -> pd.DataFrame:
    """The review window's cases among `transaction_ids` (CASE_COLUMNS, without analyst labels): a history page's
    context. Reads the window's export files (cached) and the online alerts of those transactions only, through the
    index by transaction, never the whole window's alerts."""
    ids = {str(transaction_id) for transaction_id in transaction_ids}
    today, days = window_days(exports_dir, review_window_days)
    review = read_window_exports(exports_dir, "review", days)
    review = review[review["transaction_id"].astype(str).isin(ids)]
    online = None
    if decision_log is not None and decision_log_exists(decision_log):
        alerts = read_online_alerts_of(decision_log, ids, decision_cutoff(review_window_days, now))
        online = online_alert_cases(alerts, today)
    return build_cases(review, pd.DataFrame(columns=LABEL_EVENT_COLUMNS), today, online)


def is_case(exports_dir: Path, decision_log: StoreLocation | None, transaction_id: str,
            review_window_days: int = DEFAULT_REVIEW_WINDOW_DAYS, now: datetime | None = None) -> bool:
    """Whether a transaction is a case of the review window, what may be labeled: exported on one of the window's
    days (reads the export files of those days, cached) or alerted online since the window's cutoff (at most one
    row, through an index)."""
    _, days = window_days(exports_dir, review_window_days)
    review = read_window_exports(exports_dir, "review", days)
    if (review["transaction_id"].astype(str) == transaction_id).any():
        return True
    return decision_log is not None and is_alerted_online(decision_log, transaction_id,
                                                          since=decision_cutoff(review_window_days, now))


def exported_alert_budget(served: pd.DataFrame) -> int | None:
    """The alert budget the pipeline exported for a day (`served`: the day's summary rows, one per serving model
    version, each with the day's budget); None for a day exported before the budget was."""
    budgets = served["alert_budget"].dropna()
    return int(budgets.iloc[0]) if len(budgets) else None


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
