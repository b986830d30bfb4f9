"""What the label app shows, as pure functions of the exports, the label events and the decision log.

Nothing here imports Gradio, so every rule is testable with small hand-made frames. The rules:

- "Today" is the newest exported day: the simulation clock, not the wall clock.
- A case is an exported transaction (an alert, or a fraud the model missed) or an online alert of the BentoML
  service (source 'online'); a transaction in both keeps its exported row, which carries ground truth.
- Ground truth (`isFraud`) is visible only from `label_matures_on_day` on; before that only analysts' labels count.
  `cases` never holds the raw `isFraud`: its `ground_truth` column is NaN until the label matures.
- An analyst's latest label overrides ground truth. Label events are append-only; the latest one per transaction
  is the current label.
- The queue holds alerts nobody has labeled yet, highest score first: no analyst label, and no matured ground truth
  (once a day's chargebacks are in, reviewing its alerts teaches nothing new).
- Daily precision uses the alerts whose label is known so far; recall (and so F1 and true negatives) needs every
  missed fraud of the day, which is known only once the day's ground truth has matured.
"""

from __future__ import annotations

import json
import math
import threading
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fraud_assets.core.decision_log import connect_decision_log, read_decisions
from fraud_assets.core.review_export import REVIEW_COLUMNS, SCORE_BIN_EDGES, read_exports
from fraud_assets.core.label_store import connect_label_store
from fraud_assets.core.schema import day_of_step

LABEL_NAMES = {0: "legit", 1: "fraud"}
EVENT_COLUMNS = ["event_id", "transaction_id", "label", "previous_label", "reviewer", "note", "labeled_at"]
TRANSACTION_FIELDS = ["step", "event_ts", "type", "amount", "nameOrig", "oldbalanceOrg", "newbalanceOrig", "nameDest",
                      "oldbalanceDest", "newbalanceDest"]
CASE_COLUMNS = [*[column for column in REVIEW_COLUMNS if column != "isFraud"], "ground_truth", "source",
                "analyst_label", "labeled_by", "labeled_at", "label", "label_source"]
# Columns of the queue and the lists, in display order (the API returns the same fields).
QUEUE_COLUMNS = ["transaction_id", "day", "type", "amount", "score", "threshold", "model_version", "source"]
LIST_COLUMNS = ["transaction_id", "day", "type", "amount", "score", "threshold", "is_alert", "model_version", "label",
                "label_source", "labeled_by", "labeled_at", "source"]
HISTORY_COLUMNS = ["event_id", "labeled_at", "reviewer", "transaction_id", "label", "previous_label", "note", "day",
                   "type", "amount", "score"]
STATS_COLUMNS = ["day", "model_version", "threshold", "n_rows", "n_alerts", "labeled_alerts", "unlabeled_alerts",
                 "true_positives", "false_positives", "false_negatives", "true_negatives", "precision", "recall", "f1",
                 "ground_truth_matured"]
LIST_KINDS = {
    "frauds": "transactions known to be fraud (alerted or missed)",
    "non_frauds": "transactions known to be legit",
    "false_positives": "alerts known to be legit",
    "false_negatives": "frauds the model did not alert",
    "false_cases": "false positives and false negatives",
}


@dataclass(frozen=True)
class Snapshot:
    """Everything the app shows, read once per request."""

    cases: pd.DataFrame  # CASE_COLUMNS, one row per transaction
    summary: pd.DataFrame  # fraud_assets.core.review_export.SUMMARY_COLUMNS
    events: pd.DataFrame  # EVENT_COLUMNS, oldest first
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


def read_label_events(label_store_path: Path) -> pd.DataFrame:
    """Every label event, oldest first; empty before the first label."""
    if not Path(label_store_path).exists():
        return _empty_events()
    with closing(connect_label_store(label_store_path)) as connection:
        frame = pd.read_sql_query(f"SELECT {', '.join(EVENT_COLUMNS)} FROM label_events ORDER BY event_id", connection)
    return frame if len(frame) else _empty_events()


def _empty_events() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype="int64" if column == "event_id" else object) for column in EVENT_COLUMNS})


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
        day = int(day_of_step(int(step))) if _is_number(step) else today
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


def load_snapshot(exports_dir: Path, label_store_path: Path, decision_log_path: Path | None = None) -> Snapshot:
    """Read the exports, the label events and (when it exists) the decision log; never the warehouse."""
    review = read_exports_cached(exports_dir, "review")
    summary = read_exports_cached(exports_dir, "summary")
    events = read_label_events(label_store_path)
    today = newest_day(review, summary)
    online = None
    if decision_log_path is not None and Path(decision_log_path).exists():
        online = online_alert_cases(read_decisions(decision_log_path, alerts_only=True), today)
    return Snapshot(cases=build_cases(review, events, today, online), summary=summary, events=events, today=today)


def is_case(exports_dir: Path, decision_log_path: Path | None, transaction_id: str) -> bool:
    """Whether a transaction is exported or was alerted online: what may be labeled (cheaper than a snapshot)."""
    review = read_exports_cached(exports_dir, "review")
    if (review["transaction_id"].astype(str) == transaction_id).any():
        return True
    if decision_log_path is None or not Path(decision_log_path).exists():
        return False
    with closing(connect_decision_log(decision_log_path)) as connection:
        return connection.execute("SELECT 1 FROM decisions WHERE transaction_id = ? AND is_alert = 1 LIMIT 1",
                                  (transaction_id,)).fetchone() is not None


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


# ---------------------------------------------------------------------------------------------------------------
# The review queue
# ---------------------------------------------------------------------------------------------------------------
def review_queue(snapshot: Snapshot, day: int | None = None, transaction_type: str | None = None,
                 model_version: str | None = None, min_score: float | None = None) -> pd.DataFrame:
    """Alerts whose label nobody knows yet (no analyst label, ground truth not matured) that pass the filters,
    highest score first."""
    cases = snapshot.cases
    waiting = cases[cases["is_alert"] & np.isnan(cases["label"].to_numpy())]
    waiting = filter_cases(waiting, day, transaction_type, model_version, min_score)
    return waiting.sort_values(["score", "day", "transaction_id"], ascending=[False, False, True], kind="stable")


def left_today(snapshot: Snapshot) -> int:
    """Alerts of today (the newest exported day) still in the queue."""
    if snapshot.today is None:
        return 0
    return len(review_queue(snapshot, day=snapshot.today))


def next_alert(queue: pd.DataFrame, skipped: list[str] | None = None) -> str | None:
    """The first queued transaction not skipped in this session; when every one was skipped, the first one."""
    if not len(queue):
        return None
    ids = queue["transaction_id"].tolist()
    fresh = [transaction_id for transaction_id in ids if transaction_id not in set(skipped or [])]
    return (fresh or ids)[0]


def case_row(snapshot: Snapshot, transaction_id: str) -> pd.Series | None:
    match = snapshot.cases[snapshot.cases["transaction_id"] == str(transaction_id)]
    return match.iloc[0] if len(match) else None


def describe_reasons(reasons_json: str) -> list[str]:
    """The reasons JSON of an alert as sentences, strongest first; [] when there are none."""
    if not reasons_json or not reasons_json.strip():
        return []
    try:
        reasons = json.loads(reasons_json)
    except ValueError:
        return [f"(reasons not readable: {reasons_json[:80]!r})"]
    lines = []
    for reason in reasons if isinstance(reasons, list) else []:
        feature = str(reason.get("feature", "?"))
        description = str(reason.get("description") or feature).rstrip(".")
        contribution = reason.get("contribution")
        push = f", {contribution:+.2f} log-odds" if _is_number(contribution) else ""
        lines.append(f"{description} ({feature} = {format_number(reason.get('value'))}{push})")
    return lines


def case_detail(snapshot: Snapshot, transaction_id: str) -> dict | None:
    """One case as plain values: transaction fields, score, threshold, reasons, known label and its history."""
    row = case_row(snapshot, transaction_id)
    if row is None:
        return None
    detail = to_records(row.drop(labels=["reasons"]).to_frame().T)[0]
    detail["reasons"] = _parse_reasons(row["reasons"])
    detail["reason_text"] = describe_reasons(row["reasons"])
    detail["label_name"] = label_name(row["label"])
    detail["history"] = to_records(label_history(snapshot, transaction_id=str(transaction_id)))
    return detail


def _parse_reasons(reasons_json: str) -> list[dict]:
    try:
        parsed = json.loads(reasons_json) if reasons_json.strip() else []
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else []


def parse_label(value: object) -> int:
    """1 for fraud, 0 for legit, from 1/0, True/False or the words 'fraud'/'legit'; ValueError otherwise."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, np.integer)) and int(value) in (0, 1):
        return int(value)
    if isinstance(value, float) and value in (0.0, 1.0):
        return int(value)
    text = str(value).strip().lower()
    words = {"fraud": 1, "1": 1, "true": 1, "legit": 0, "legitimate": 0, "genuine": 0, "0": 0, "false": 0}
    if text in words:
        return words[text]
    raise ValueError(f"label must be 'fraud' (1) or 'legit' (0), got {value!r}")


# ---------------------------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------------------------
def daily_stats(snapshot: Snapshot) -> pd.DataFrame:
    """Per exported day: volume, the confusion matrix against the labels known so far, precision, recall and F1.

    True positives and false positives count alerts whose label is known (analyst or matured ground truth);
    false negatives count missed frauds whose label is known. Recall, F1 and true negatives are NaN until the
    day's ground truth has matured, because before that the missed frauds are unknown.
    """
    batch = snapshot.cases[snapshot.cases["source"] == "batch"]
    summary = snapshot.summary
    days = sorted(set(batch["day"].dropna().astype(int)) | set(summary["day"].astype(int)))
    rows = []
    for day in days:
        served = summary[summary["day"] == day]
        of_day = batch[batch["day"] == day]
        alerts, missed = of_day[of_day["is_alert"]], of_day[~of_day["is_alert"]]
        n_rows = int(served["n_rows"].sum()) if len(served) else math.nan
        n_alerts = int(served["n_alerts"].sum()) if len(served) else len(alerts)
        tp, fp = int((alerts["label"] == 1).sum()), int((alerts["label"] == 0).sum())
        fn = int((missed["label"] == 1).sum())
        matures = of_day["label_matures_on_day"].min()
        matured = bool(snapshot.today is not None and not math.isnan(matures) and matures <= snapshot.today)
        precision = _ratio(tp, tp + fp)
        recall = _ratio(tp, tp + fn) if matured else math.nan
        f1 = (2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0) \
            if not (math.isnan(precision) or math.isnan(recall)) else math.nan
        versions = served["model_version"].astype(str).tolist() or sorted(of_day["model_version"].unique().tolist())
        thresholds = served["threshold"] if len(served) else alerts["threshold"]
        rows.append({
            "day": day,
            "model_version": ", ".join(dict.fromkeys(versions)),
            "threshold": float(thresholds.iloc[0]) if len(thresholds) else math.nan,
            "n_rows": n_rows,
            "n_alerts": n_alerts,
            "labeled_alerts": tp + fp,
            "unlabeled_alerts": n_alerts - tp - fp,
            "true_positives": tp,
            "false_positives": fp,
            "false_negatives": fn,
            "true_negatives": n_rows - n_alerts - fn if matured and not math.isnan(n_rows) else math.nan,
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "ground_truth_matured": matured,
        })
    return pd.DataFrame(rows, columns=STATS_COLUMNS)


def overall_stats(stats: pd.DataFrame) -> dict:
    """Totals over the days of `daily_stats`: precision over every labeled alert, recall over matured days."""
    matured = stats[stats["ground_truth_matured"]]
    tp, fp = int(stats["true_positives"].sum()), int(stats["false_positives"].sum())
    precision = _ratio(tp, tp + fp)
    matured_tp, matured_fn = int(matured["true_positives"].sum()), int(matured["false_negatives"].sum())
    recall = _ratio(matured_tp, matured_tp + matured_fn)
    return {
        "days": len(stats),
        "matured_days": len(matured),
        "alerts": int(stats["n_alerts"].sum()),
        "unlabeled_alerts": int(stats["unlabeled_alerts"].sum()),
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": int(stats["false_negatives"].sum()),
        "true_negatives": int(matured["true_negatives"].sum()),
        "precision": precision,
        "recall_matured_days": recall,
    }


def metric_series(stats: pd.DataFrame) -> pd.DataFrame:
    """Precision, recall and F1 per day in long form (day, metric, value) for a line chart; NaNs left out."""
    long = stats.melt(id_vars="day", value_vars=["precision", "recall", "f1"], var_name="metric", value_name="value")
    return long.dropna(subset=["value"]).astype({"day": int, "value": float}).reset_index(drop=True)


def confusion_series(stats: pd.DataFrame) -> pd.DataFrame:
    """Per day the alert outcomes and missed frauds (day, outcome, count) for a stacked bar chart.

    True negatives are left out: they are the day's whole genuine volume and would flatten every other bar.
    """
    names = {"true_positives": "true positive", "false_positives": "false positive",
             "unlabeled_alerts": "alert not labeled yet", "false_negatives": "false negative (missed fraud)"}
    long = stats.melt(id_vars="day", value_vars=list(names), var_name="outcome", value_name="count")
    long["outcome"] = long["outcome"].map(names)
    return long.astype({"day": int, "count": int}).reset_index(drop=True)


def alert_volume(summary: pd.DataFrame) -> pd.DataFrame:
    """Alerts per day and serving model version (day, model_version, n_alerts, n_rows, threshold)."""
    columns = ["day", "model_version", "n_alerts", "n_rows", "threshold"]
    if not len(summary):
        return pd.DataFrame(columns=columns)
    volume = summary.groupby(["day", "model_version"], as_index=False).agg(
        n_alerts=("n_alerts", "sum"), n_rows=("n_rows", "sum"), threshold=("threshold", "first"))
    return volume.astype({"day": int, "model_version": str, "n_alerts": int, "n_rows": int})[columns]


def model_timeline(summary: pd.DataFrame) -> pd.DataFrame:
    """Which model version served when: one row per version with its first and last day, days served and threshold."""
    columns = ["model_version", "first_day", "last_day", "days_served", "threshold", "rows_scored", "alerts"]
    if not len(summary):
        return pd.DataFrame(columns=columns)
    timeline = summary.groupby("model_version", as_index=False).agg(
        first_day=("day", "min"), last_day=("day", "max"), days_served=("day", "nunique"),
        threshold=("threshold", "last"), rows_scored=("n_rows", "sum"), alerts=("n_alerts", "sum"))
    return timeline.sort_values(["first_day", "model_version"]).astype({"model_version": str})[columns].reset_index(drop=True)


def score_histogram(summary: pd.DataFrame, day: int | None = None) -> pd.DataFrame:
    """Rows per score bin (bin_from, bin_to, rows) of one day, or of every day when `day` is None."""
    bins = [f"score_bin_{index:02d}" for index in range(len(SCORE_BIN_EDGES) - 1)]
    chosen = summary if day is None else summary[summary["day"] == day]
    counts = chosen[bins].sum().astype(int).to_numpy() if len(chosen) else np.zeros(len(bins), dtype=int)
    return pd.DataFrame({"bin_from": SCORE_BIN_EDGES[:-1], "bin_to": SCORE_BIN_EDGES[1:], "rows": counts})


def score_matrix(summary: pd.DataFrame) -> tuple[list[int], np.ndarray]:
    """Days (ascending) and a (20 bins x days) matrix of row counts, for a heat map of the score distribution."""
    bins = [f"score_bin_{index:02d}" for index in range(len(SCORE_BIN_EDGES) - 1)]
    if not len(summary):
        return [], np.zeros((len(bins), 0), dtype=int)
    per_day = summary.groupby("day")[bins].sum().sort_index()
    return [int(day) for day in per_day.index], per_day.to_numpy(dtype=int).T


# ---------------------------------------------------------------------------------------------------------------
# Lists and history
# ---------------------------------------------------------------------------------------------------------------
def cases_of_kind(cases: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The cases of one list (see LIST_KINDS) by their known label."""
    label, alerted = cases["label"], cases["is_alert"]
    masks = {
        "frauds": label == 1,
        "non_frauds": label == 0,
        "false_positives": alerted & (label == 0),
        "false_negatives": ~alerted & (label == 1),
        "false_cases": (alerted & (label == 0)) | (~alerted & (label == 1)),
    }
    if kind not in masks:
        raise ValueError(f"unknown list {kind!r}; choose one of {', '.join(LIST_KINDS)}")
    return cases[masks[kind]]


def list_cases(snapshot: Snapshot, kind: str, day: int | None = None, transaction_type: str | None = None,
               model_version: str | None = None, min_score: float | None = None, page: int = 1,
               page_size: int = 25) -> dict:
    """One page of a list, newest day first then highest score: {rows (DataFrame, LIST_COLUMNS), total, page, pages}."""
    if page_size < 1:
        raise ValueError(f"page_size must be at least 1, got {page_size}")
    chosen = filter_cases(cases_of_kind(snapshot.cases, kind), day, transaction_type, model_version, min_score)
    chosen = chosen.sort_values(["day", "score", "transaction_id"], ascending=[False, False, True], kind="stable")
    total = len(chosen)
    pages = max(1, math.ceil(total / page_size))
    page = min(max(1, int(page)), pages)
    rows = chosen.iloc[(page - 1) * page_size: page * page_size].assign(
        label=lambda frame: frame["label"].map(label_name))
    return {"rows": rows[LIST_COLUMNS].reset_index(drop=True), "total": total, "page": page, "pages": pages}


def label_history(snapshot: Snapshot, transaction_id: str | None = None, reviewer: str | None = None,
                  limit: int | None = None) -> pd.DataFrame:
    """Label events newest first (HISTORY_COLUMNS), with the case's day, type, amount and score for context."""
    events = snapshot.events
    if transaction_id:
        events = events[events["transaction_id"] == str(transaction_id).strip()]
    if reviewer:
        events = events[events["reviewer"] == str(reviewer).strip()]
    events = events.sort_values("event_id", ascending=False)
    if limit:
        events = events.head(int(limit))
    context = snapshot.cases[["transaction_id", "day", "type", "amount", "score"]]
    history = events.merge(context, on="transaction_id", how="left")
    history["label"] = history["label"].map(label_name)
    history["previous_label"] = history["previous_label"].map(label_name)
    history["note"] = history["note"].fillna("")
    return history[HISTORY_COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------------------------
def label_name(value: object) -> str:
    """'fraud', 'legit', or '' for an unknown label."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return LABEL_NAMES.get(int(value), "")


def format_number(value: object) -> str:
    """A number for people: whole numbers without decimals, others with up to 2; 'missing' for NaN."""
    if not _is_number(value):
        return "missing" if value is None or isinstance(value, float) else str(value)
    number = float(value)
    if number.is_integer():
        return f"{number:,.0f}"
    return f"{number:,.2f}".rstrip("0").rstrip(".")


def to_records(frame: pd.DataFrame) -> list[dict]:
    """A frame as JSON-ready records: NaN and NA become None, timestamps ISO strings."""
    return json.loads(frame.to_json(orient="records", date_format="iso", date_unit="ms"))


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
        and not math.isnan(float(value))
