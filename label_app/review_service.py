"""What the UI and the named API endpoints do over one set of stores: plain inputs, plain outputs.

The reviewer of a label comes from the login session only, never from a field a client sends. In the team deployment
a lost or refused connection to the database becomes a gr.Error the reviewer reads (the password masked); a label
whose submission failed was not stored, since the append is one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr
import pandas as pd

from fraud_assets.core.database import DatabaseUnreachable, DatabaseUrl
from fraud_assets.core.label_store import append_label_event, read_label_events_page
from fraud_assets.core.online_db import is_connection_error
from fraud_assets.core.review_export import SCORE_BIN_EDGES
from label_app import case_lists, model_stats
from label_app.case_detail import case_detail, describe_reasons
from label_app.label_history import with_case_context
from label_app.review_queue import left_today, review_queue, today_alerts_and_budget
from label_app.settings import LabelAppSettings
from label_app.snapshot import CASE_COLUMNS, Snapshot, is_case, load_cases_of, load_snapshot
from label_app.values import parse_label, to_records

API_ENDPOINTS = ["queue", "case", "submit_label", "history", "daily_stats", "list_cases"]  # ReviewService methods
DEFAULT_HISTORY_PAGE = 100  # label events a history page shows unless asked otherwise
READ_FAILED = "the label events and online alerts could not be read"


class ReviewService:
    """What both the UI and the named API endpoints do, over one set of stores."""

    def __init__(self, settings: LabelAppSettings):
        self.settings = settings

    def snapshot(self) -> Snapshot:
        """The review window's exports, label events and online alerts as they are now (see load_snapshot for what
        it reads)."""
        with self.database_errors(READ_FAILED):
            return load_snapshot(self.settings.exports_dir, self.settings.label_store, self.settings.decision_log,
                                 self.settings.review_window_days)

    @contextmanager
    def database_errors(self, consequence: str) -> Iterator[None]:
        """Turn a lost or refused connection to the team database into a gr.Error: `consequence`, the reason with
        the password masked, and 'try again'. Any other error, and every error of the embedded stores, passes."""
        try:
            yield
        except Exception as error:
            database = self.settings.database
            if database is None or not is_connection_error(error):
                raise
            raise gr.Error(f"{consequence}: {database_error_reason(database, error)}; try again",
                           print_exception=False) from None

    def queue(self, day: int | None = None, transaction_type: str = "", model_version: str = "",
              min_score: float = 0.0, limit: int = 50) -> dict:
        """Alerts no analyst has labeled yet, highest score first, filtered by day, transaction type, model version
        and minimum score (None or '' for any). Returns {today, left_today, today_alerts, today_alert_budget (the
        analysts' budget for today's volume, as the pipeline exported it), matching, alerts: [up to `limit` alerts
        with their transaction fields, score, threshold, model_version, source and reasons]}."""
        snapshot = self.snapshot()
        waiting = review_queue(snapshot, day, transaction_type or None, model_version or None, min_score)
        shown = waiting.head(max(0, int(limit))).drop(columns=["reasons"])
        alerts = to_records(shown)
        for alert, reasons in zip(alerts, waiting["reasons"].head(len(alerts))):
            alert["reasons"] = describe_reasons(reasons)
        today_alerts, today_budget = today_alerts_and_budget(snapshot)
        return {"today": snapshot.today, "left_today": left_today(snapshot), "today_alerts": today_alerts,
                "today_alert_budget": today_budget, "matching": len(waiting), "alerts": alerts}

    def case(self, transaction_id: str) -> dict:
        """One transaction: its fields, score, threshold, model version, reasons (raw and as sentences), known label
        (analyst label, or ground truth once matured) and its label history."""
        detail = case_detail(self.snapshot(), transaction_id)
        if detail is None:
            raise gr.Error(f"no exported or online alert of the last {self.settings.review_window_days} days has "
                           f"transaction_id {transaction_id!r}", print_exception=False)
        return detail

    def submit_label(self, transaction_id: str, label: str, note: str = "", request: gr.Request = None) -> dict:
        """Record a label ('fraud' or 'legit', also 1 or 0) for a transaction, by the logged-in user, with an optional
        note. Relabeling adds an event; nothing is overwritten. Returns the event: {event_id, transaction_id, label,
        previous_label, reviewer, note, labeled_at}."""
        reviewer = getattr(request, "username", None)
        if not reviewer:
            raise gr.Error("labels need a logged-in reviewer; log in first", print_exception=False)
        try:
            value = parse_label(label)
        except ValueError as error:
            raise gr.Error(str(error), print_exception=False) from None
        transaction_id = str(transaction_id).strip()
        with self.database_errors("the label was not recorded"):
            if not is_case(self.settings.exports_dir, self.settings.decision_log, transaction_id,
                           self.settings.review_window_days):
                raise gr.Error(f"no exported or online alert of the last {self.settings.review_window_days} days has "
                               f"transaction_id {transaction_id!r}; nothing recorded", print_exception=False)
            return append_label_event(self.settings.label_store, transaction_id, value, reviewer,
                                      (note or "").strip())

    def history(self, transaction_id: str = "", reviewer: str = "", limit: int = 100, page: int = 1) -> list[dict]:
        """One page of label events, newest first: {event_id, labeled_at, reviewer, transaction_id, label,
        previous_label, note, day, type, amount, score}, optionally of one transaction and/or one reviewer. `limit`
        events a page (at most 10,000); page 1 is the newest, page 2 the next ones; [] past the last page. Any event
        may be paged to, however old; day, type, amount and score are filled for the review window's cases."""
        return to_records(self.history_page(transaction_id, reviewer, limit, page))

    def history_page(self, transaction_id: str = "", reviewer: str = "", limit: int = 100,
                     page: int = 1) -> pd.DataFrame:
        """`history` as a frame (HISTORY_COLUMNS): at most `limit` events, paged in SQL, and for their context the
        window's cases among the page's transactions (looked up by id, not the whole window)."""
        try:
            page_size, page = int(limit or DEFAULT_HISTORY_PAGE), int(page or 1)
        except (TypeError, ValueError):
            raise gr.Error(f"the history's limit and page are whole numbers, got {limit!r} and {page!r}",
                           print_exception=False) from None
        with self.database_errors(READ_FAILED):
            try:
                events = read_label_events_page(self.settings.label_store, (transaction_id or "").strip() or None,
                                                (reviewer or "").strip() or None, page, page_size)
            except ValueError as error:
                raise gr.Error(str(error), print_exception=False) from None
        if not len(events):
            return with_case_context(events, pd.DataFrame(columns=CASE_COLUMNS))
        with self.database_errors(READ_FAILED):
            cases = load_cases_of(self.settings.exports_dir, self.settings.decision_log, events["transaction_id"],
                                  self.settings.review_window_days)
        return with_case_context(events, cases)

    def daily_stats(self) -> dict:
        """Per day: model version, threshold, rows, alerts, the confusion matrix against the labels known so far,
        precision, recall and F1 (recall and F1 once the day's ground truth matured). Returns {today, days, overall,
        model_versions, score_histograms: [{day, model_version, bins: [20 counts]}]}."""
        snapshot = self.snapshot()
        stats = model_stats.daily_stats(snapshot)
        return {"today": snapshot.today, "days": to_records(stats),
                "overall": to_records(pd.DataFrame([model_stats.overall_stats(stats)]))[0],
                "model_versions": to_records(model_stats.model_timeline(snapshot.summary)),
                "score_bin_edges": [float(edge) for edge in SCORE_BIN_EDGES],
                "score_histograms": model_stats.score_histograms(snapshot.summary)}

    def list_cases(self, kind: str = "false_cases", day: int | None = None, transaction_type: str = "",
                   model_version: str = "", min_score: float = 0.0, page: int = 1, page_size: int = 25) -> dict:
        """One page of a list of labeled cases. kind: frauds, non_frauds, false_positives, false_negatives or
        false_cases. Returns {kind, total, page, pages, page_size, rows}."""
        try:
            listed = case_lists.list_cases(self.snapshot(), kind, day, transaction_type or None,
                                           model_version or None, min_score, page, page_size)
        except ValueError as error:
            raise gr.Error(str(error), print_exception=False) from None
        return {"kind": kind, "total": listed["total"], "page": listed["page"], "pages": listed["pages"],
                "page_size": page_size, "rows": to_records(listed["rows"])}


def database_error_reason(database: DatabaseUrl, error: BaseException) -> str:
    """Why the team database failed, for people: the server and the driver's reason, never the password."""
    if isinstance(error, DatabaseUnreachable):  # its message names the server, the password already masked
        return str(error)
    return (f"the connection to PostgreSQL ({database.masked_url}) failed: "
            f"{database.masked_reason(originating_error(error))}")


def originating_error(error: BaseException) -> BaseException:
    """The connection error a chain of them began with. When the server cuts a connection in the middle of a
    transaction, psycopg2's rollback on leaving the transaction raises 'connection already closed'; the error it
    happened during says why."""
    while (not error.__suppress_context__ and error.__context__ is not None
           and is_connection_error(error.__context__)):
        error = error.__context__
    return error
