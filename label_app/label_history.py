"""The label history: label events, newest first, with the case each one labeled for context."""

from __future__ import annotations

import pandas as pd

from label_app.snapshot import Snapshot
from label_app.values import label_name

HISTORY_COLUMNS = ["event_id", "labeled_at", "reviewer", "transaction_id", "label", "previous_label", "note", "day",
                   "type", "amount", "score"]


def with_case_context(events: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """`events` (LABEL_EVENT_COLUMNS) in their order, as HISTORY_COLUMNS: labels as words and the case's day, type,
    amount and score from `cases` (empty for a transaction outside them, such as a case older than the window)."""
    context = cases[["transaction_id", "day", "type", "amount", "score"]].drop_duplicates("transaction_id")
    history = events.merge(context, on="transaction_id", how="left")
    history["label"] = history["label"].map(label_name)
    history["previous_label"] = history["previous_label"].map(label_name)
    history["note"] = history["note"].fillna("")
    return history[HISTORY_COLUMNS].reset_index(drop=True)


def label_history(snapshot: Snapshot, transaction_id: str | None = None, reviewer: str | None = None,
                  limit: int | None = None) -> pd.DataFrame:
    """The snapshot's label events newest first (HISTORY_COLUMNS), optionally of one transaction and/or reviewer:
    only the events the snapshot read, those of the review window's cases (a case view's history). The history tab
    pages through every event in SQL instead (ReviewService.history)."""
    events = snapshot.events
    if transaction_id:
        events = events[events["transaction_id"] == str(transaction_id).strip()]
    if reviewer:
        events = events[events["reviewer"] == str(reviewer).strip()]
    events = events.sort_values("event_id", ascending=False)
    if limit:
        events = events.head(int(limit))
    return with_case_context(events, snapshot.cases)
