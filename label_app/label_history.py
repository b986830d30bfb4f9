"""The label history: every label event, newest first, with the case it labeled for context."""

from __future__ import annotations

import pandas as pd

from label_app.snapshot import Snapshot
from label_app.values import label_name

HISTORY_COLUMNS = ["event_id", "labeled_at", "reviewer", "transaction_id", "label", "previous_label", "note", "day",
                   "type", "amount", "score"]


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
