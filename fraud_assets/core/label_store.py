"""The label store: analysts' label events, appended by the label app, read by the pipeline.

SQLite in WAL mode under the data folder by default, so readers never block the writer and several reviewers can
label at once; with FRAUD_DATABASE_URL, table `fraud_online.label_events` of the team database, which every replica of
the label app shares. Events are append-only: relabeling adds an event that records the previous label; the latest event
per transaction is the analyst's current label. Before the label app has written anything the store is empty.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.online_db import ONLINE_SCHEMA, connect_online, fetch_frame
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
CREATE INDEX IF NOT EXISTS label_events_by_reviewer ON label_events (reviewer, event_id);
"""

POSTGRES_LABEL_EVENTS_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {ONLINE_SCHEMA}.label_events (
    event_id        BIGSERIAL PRIMARY KEY,
    transaction_id  TEXT      NOT NULL,
    label           SMALLINT  NOT NULL CHECK (label IN (0, 1)),
    previous_label  SMALLINT  CHECK (previous_label IN (0, 1)),
    reviewer        TEXT      NOT NULL CHECK (length(reviewer) > 0),
    note            TEXT      NOT NULL DEFAULT '',
    labeled_at      TEXT      NOT NULL
);
CREATE INDEX IF NOT EXISTS label_events_by_transaction ON {ONLINE_SCHEMA}.label_events (transaction_id, event_id);
CREATE INDEX IF NOT EXISTS label_events_by_reviewer ON {ONLINE_SCHEMA}.label_events (reviewer, event_id);
"""
LABEL_EVENT_COLUMNS = ["event_id", "transaction_id", "label", "previous_label", "reviewer", "note", "labeled_at"]
TRANSACTION_CHUNK = 500  # ids per `transaction_id IN (...)`: well under SQLite's 999 bound variables of old builds
MAX_PAGE_ROWS = 10_000  # the most events one history page returns

LATEST_LABELS_SQL = """
    SELECT transaction_id, label, reviewer, labeled_at, event_count FROM (
        SELECT transaction_id, label, reviewer, labeled_at,
               count(*) OVER (PARTITION BY transaction_id) AS event_count,
               row_number() OVER (PARTITION BY transaction_id ORDER BY event_id DESC) AS newest_first
        FROM {table}
    ) AS numbered WHERE newest_first = 1 ORDER BY transaction_id
"""
REVIEWED_LABEL_COLUMNS = ["transaction_id", "label", "reviewer", "labeled_at", "event_count"]


def connect_label_store(path: str | Path, timeout_seconds: float = 30.0) -> sqlite3.Connection:
    """A connection to the embedded label store, creating it (in WAL mode) on first use."""
    return connect_wal(path, LABEL_EVENTS_SCHEMA, timeout_seconds)


def connect_postgres_label_store(database: DatabaseUrl, timeout_seconds: int = 10):
    """A psycopg2 connection to the team database's label events, the table created on first use."""
    return connect_online(database, "label_events", POSTGRES_LABEL_EVENTS_SCHEMA, timeout_seconds)


def label_store_exists(location: Path | DatabaseUrl) -> bool:
    """Whether there may be labels to read: the team database always; the SQLite file once created."""
    return isinstance(location, DatabaseUrl) or Path(location).exists()


def append_label_event(location: str | Path | DatabaseUrl, transaction_id: str, label: int, reviewer: str,
                       note: str = "") -> dict:
    """Append one label event; returns it, with the label it replaces (None for a first label).

    The read of the previous label and the insert are one transaction, serialized per store (SQLite) or per
    transaction id (PostgreSQL, an advisory lock): two reviewers labeling the same transaction at once each see the
    other's label as the previous one, in one order. A failure stores nothing.
    """
    if label not in (0, 1):
        raise ValueError(f"label must be 0 (legit) or 1 (fraud), got {label!r}")
    if not reviewer.strip():
        raise ValueError("a label needs the reviewer who gave it")
    labeled_at = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    if isinstance(location, DatabaseUrl):
        event_id, previous = _append_postgres(location, transaction_id, label, reviewer, note, labeled_at)
    else:
        event_id, previous = _append_sqlite(location, transaction_id, label, reviewer, note, labeled_at)
    return {"event_id": event_id, "transaction_id": transaction_id, "label": label, "previous_label": previous,
            "reviewer": reviewer, "note": note, "labeled_at": labeled_at}


def _append_sqlite(path: str | Path, transaction_id: str, label: int, reviewer: str, note: str,
                   labeled_at: str) -> tuple[int, int | None]:
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
    return cursor.lastrowid, previous


def _append_postgres(database: DatabaseUrl, transaction_id: str, label: int, reviewer: str, note: str,
                     labeled_at: str) -> tuple[int, int | None]:
    with closing(connect_postgres_label_store(database)) as connection:
        with connection, connection.cursor() as cursor:  # one transaction: committed whole, or rolled back
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"label_events:{transaction_id}",))
            cursor.execute(f"SELECT label FROM {ONLINE_SCHEMA}.label_events WHERE transaction_id = %s "
                           "ORDER BY event_id DESC LIMIT 1", (transaction_id,))
            row = cursor.fetchone()
            previous = int(row[0]) if row else None
            cursor.execute(
                f"INSERT INTO {ONLINE_SCHEMA}.label_events "
                "(transaction_id, label, previous_label, reviewer, note, labeled_at) "
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING event_id",
                (transaction_id, label, previous, reviewer, note, labeled_at))
            event_id = int(cursor.fetchone()[0])
    return event_id, previous


def query_label_store(location: Path | DatabaseUrl, sql: str, parameters: list | tuple = ()) -> pd.DataFrame:
    """The rows of `sql`, in which `{table}` stands for the label events' table and `?` for each of `parameters`,
    read from `location`."""
    if isinstance(location, DatabaseUrl):
        with closing(connect_postgres_label_store(location)) as connection:
            return fetch_frame(connection, sql.format(table=f"{ONLINE_SCHEMA}.label_events").replace("?", "%s"),
                               list(parameters))
    with closing(connect_label_store(location)) as connection:
        return pd.read_sql_query(sql.format(table="label_events"), connection, params=list(parameters))


def _event_frame(frame: pd.DataFrame | None) -> pd.DataFrame:
    """Label events with LABEL_EVENT_COLUMNS and integer ids and labels; an empty frame of them for None."""
    if frame is not None and len(frame):
        return frame[LABEL_EVENT_COLUMNS].astype({"event_id": "int64", "label": "int64"}).reset_index(drop=True)
    return pd.DataFrame({column: pd.Series(dtype="int64" if column == "event_id" else object)
                         for column in LABEL_EVENT_COLUMNS})


def read_label_events(location: Path | DatabaseUrl) -> pd.DataFrame:
    """Every label event (LABEL_EVENT_COLUMNS), oldest first; empty before the first label.

    Unbounded: every event the store holds (about a million a year). Not for a request path: the label app reads
    `read_label_events_of` (the events of its window's cases) and `read_label_events_page` (one history page)."""
    if label_store_exists(location):
        return _event_frame(query_label_store(
            location, f"SELECT {', '.join(LABEL_EVENT_COLUMNS)} FROM {{table}} ORDER BY event_id"))
    return _event_frame(None)


def read_label_events_of(location: Path | DatabaseUrl, transaction_ids) -> pd.DataFrame:
    """The label events of the given transactions (LABEL_EVENT_COLUMNS), oldest first; empty before the first label.

    Reads only those transactions' events, through the index `label_events_by_transaction`: one
    `WHERE transaction_id IN (...)` query per TRANSACTION_CHUNK ids, over one connection."""
    ids = sorted({str(transaction_id) for transaction_id in transaction_ids})
    if not ids or not label_store_exists(location):
        return _event_frame(None)
    chunks = [ids[start:start + TRANSACTION_CHUNK] for start in range(0, len(ids), TRANSACTION_CHUNK)]
    select = f"SELECT {', '.join(LABEL_EVENT_COLUMNS)} FROM {{table}} WHERE transaction_id IN "
    frames = []
    if isinstance(location, DatabaseUrl):
        with closing(connect_postgres_label_store(location)) as connection:
            for chunk in chunks:
                frames.append(fetch_frame(connection, select.format(table=f"{ONLINE_SCHEMA}.label_events")
                                          + f"({', '.join(['%s'] * len(chunk))})", chunk))
    else:
        with closing(connect_label_store(location)) as connection:
            for chunk in chunks:
                frames.append(pd.read_sql_query(select.format(table="label_events")
                                                + f"({', '.join('?' * len(chunk))})", connection, params=chunk))
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return _event_frame(None)
    return _event_frame(pd.concat(frames, ignore_index=True).sort_values("event_id", kind="stable"))


def read_label_events_page(location: Path | DatabaseUrl, transaction_id: str | None = None,
                           reviewer: str | None = None, page: int = 1, page_size: int = 100) -> pd.DataFrame:
    """One page of label events, newest first (LABEL_EVENT_COLUMNS): page 1 the newest `page_size`, page 2 the
    next ones; optionally only one transaction's and/or one reviewer's (None or '' for any). Empty past the last.

    At most `page_size` rows (at most MAX_PAGE_ROWS), found in SQL (`ORDER BY event_id DESC LIMIT ? OFFSET ?`): the
    store walks at most page * page_size entries of the primary key, or of the index by transaction or by reviewer
    when filtered."""
    page, page_size = int(page), int(page_size)
    if page < 1:
        raise ValueError(f"a history page is numbered from 1, got {page}")
    if not 1 <= page_size <= MAX_PAGE_ROWS:
        raise ValueError(f"a history page holds 1 to {MAX_PAGE_ROWS} events, got {page_size}")
    if not label_store_exists(location):
        return _event_frame(None)
    conditions, parameters = [], []
    if transaction_id:
        conditions.append("transaction_id = ?")
        parameters.append(str(transaction_id))
    if reviewer:
        conditions.append("reviewer = ?")
        parameters.append(str(reviewer))
    where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
    sql = (f"SELECT {', '.join(LABEL_EVENT_COLUMNS)} FROM {{table}} {where}"
           "ORDER BY event_id DESC LIMIT ? OFFSET ?")
    return _event_frame(query_label_store(location, sql, [*parameters, page_size, (page - 1) * page_size]))


def read_latest_labels(location: str | Path | DatabaseUrl) -> pd.DataFrame:
    """Per labeled transaction: its current analyst label (0 or 1), who gave it and when, and how many label
    events it has (REVIEWED_LABEL_COLUMNS); empty before any label exists."""
    if not isinstance(location, DatabaseUrl):
        location = Path(location)
    if not label_store_exists(location):
        return pd.DataFrame({column: pd.Series(dtype=object) for column in REVIEWED_LABEL_COLUMNS}).astype(
            {"label": "int8", "event_count": "int64"})
    frame = query_label_store(location, LATEST_LABELS_SQL)
    if not len(frame):
        frame = pd.DataFrame({column: pd.Series(dtype=object) for column in REVIEWED_LABEL_COLUMNS})
    return frame.astype({"label": "int8", "event_count": "int64"})[REVIEWED_LABEL_COLUMNS]
