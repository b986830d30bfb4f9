"""The label store: analysts' label events, appended by the label app, read by the pipeline.

SQLite in WAL mode under the data folder by default, so readers never block the writer and several reviewers can
label at once. Events are append-only: relabeling adds an event that records the previous label; the latest event
per transaction is the analyst's current label. Before the label app has written anything the store is empty.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from fraud_assets.core.sqlite_wal import connect_wal

LABEL_EVENTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS label_events (
    event_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    transaction_id  TEXT    NOT NULL,
    label           INTEGER NOT NULL CHECK (label IN (0, 1)),
    previous_label  INTEGER CHECK (previous_label IN (0, 1)),
    reviewer        TEXT    NOT NULL CHECK (length(reviewer) > 0),
    note            TEXT    NOT NULL DEFAULT '',
    labeled_at      TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS label_events_by_transaction ON label_events (transaction_id, event_id);
"""

LATEST_LABELS_SQL = """
    SELECT transaction_id, label, reviewer, labeled_at, event_count FROM (
        SELECT transaction_id, label, reviewer, labeled_at,
               count(*) OVER (PARTITION BY transaction_id) AS event_count,
               row_number() OVER (PARTITION BY transaction_id ORDER BY event_id DESC) AS newest_first
        FROM label_events
    ) WHERE newest_first = 1 ORDER BY transaction_id
"""
REVIEWED_LABEL_COLUMNS = ["transaction_id", "label", "reviewer", "labeled_at", "event_count"]


def connect_label_store(path: str | Path, timeout_seconds: float = 30.0) -> sqlite3.Connection:
    """A connection to the label store, creating it (in WAL mode) on first use."""
    return connect_wal(path, LABEL_EVENTS_SCHEMA, timeout_seconds)


def append_label_event(path: str | Path, transaction_id: str, label: int, reviewer: str, note: str = "") -> dict:
    """Append one label event; returns it, with the label it replaces (None for a first label)."""
    if label not in (0, 1):
        raise ValueError(f"label must be 0 (legit) or 1 (fraud), got {label!r}")
    if not reviewer.strip():
        raise ValueError("a label needs the reviewer who gave it")
    labeled_at = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    with closing(connect_label_store(path)) as connection:
        connection.execute("BEGIN IMMEDIATE")  # the read of the previous label and the insert are one step
        row = connection.execute(
            "SELECT label FROM label_events WHERE transaction_id = ? ORDER BY event_id DESC LIMIT 1", (transaction_id,)
        ).fetchone()
        previous = row[0] if row else None
        cursor = connection.execute(
            "INSERT INTO label_events (transaction_id, label, previous_label, reviewer, note, labeled_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (transaction_id, label, previous, reviewer, note, labeled_at),
        )
        connection.execute("COMMIT")
    return {"event_id": cursor.lastrowid, "transaction_id": transaction_id, "label": label, "previous_label": previous,
            "reviewer": reviewer, "note": note, "labeled_at": labeled_at}


def read_latest_labels(path: str | Path) -> pd.DataFrame:
    """Per labeled transaction: its current analyst label (0 or 1), who gave it and when, and how many label
    events it has (REVIEWED_LABEL_COLUMNS); empty before any label exists."""
    if not Path(path).exists():
        return pd.DataFrame({column: pd.Series(dtype=object) for column in REVIEWED_LABEL_COLUMNS}).astype(
            {"label": "int8", "event_count": "int64"})
    with closing(connect_label_store(path)) as connection:
        frame = pd.read_sql_query(LATEST_LABELS_SQL, connection)
    return frame.astype({"label": "int8", "event_count": "int64"})[REVIEWED_LABEL_COLUMNS]

