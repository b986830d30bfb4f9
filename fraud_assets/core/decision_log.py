"""The decision log: every online decision of the BentoML service, for audit and for the label app.

SQLite in WAL mode under the data folder by default (`data/decisions.sqlite`); with FRAUD_DATABASE_URL, table
`fraud_online.decisions` of the team database, which every replica of the service appends to. The service appends
in batches, off the request path; readers (the label app) never block it. A decision is keyed by its request id and
its position in the request, so writing a batch again (after a commit whose answer was lost) stores nothing twice.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd

from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.online_db import ONLINE_SCHEMA, connect_online, fetch_frame
from fraud_assets.core.sqlite_wal import connect_wal

DECISIONS_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    request_id        TEXT    NOT NULL,
    item_index        INTEGER NOT NULL,
    transaction_id    TEXT    NOT NULL,
    decided_at        TEXT    NOT NULL,
    model_version     TEXT    NOT NULL,
    score             REAL    NOT NULL,
    is_alert          INTEGER NOT NULL,
    threshold         REAL    NOT NULL,
    transaction_json  TEXT    NOT NULL,
    reasons_json      TEXT    NOT NULL DEFAULT '[]',
    PRIMARY KEY (request_id, item_index)
);
-- Alerts are about 1% of decisions: partial indexes cost the writer nothing for the rest. (Earlier versions indexed
-- every decision by (is_alert, decided_at), a third of the cost of each insert.)
DROP INDEX IF EXISTS decisions_alerts;
CREATE INDEX IF NOT EXISTS decision_alerts_by_time ON decisions (decided_at) WHERE is_alert = 1;
CREATE INDEX IF NOT EXISTS decision_alerts_by_transaction ON decisions (transaction_id) WHERE is_alert = 1;
"""

POSTGRES_DECISIONS_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {ONLINE_SCHEMA}.decisions (
    request_id        TEXT             NOT NULL,
    item_index        INTEGER          NOT NULL,
    transaction_id    TEXT             NOT NULL,
    decided_at        TEXT             NOT NULL,
    model_version     TEXT             NOT NULL,
    score             DOUBLE PRECISION NOT NULL,
    is_alert          SMALLINT         NOT NULL,
    threshold         DOUBLE PRECISION NOT NULL,
    transaction_json  TEXT             NOT NULL,
    reasons_json      TEXT             NOT NULL DEFAULT '[]',
    PRIMARY KEY (request_id, item_index)
);
CREATE INDEX IF NOT EXISTS decision_alerts_by_time ON {ONLINE_SCHEMA}.decisions (decided_at) WHERE is_alert = 1;
CREATE INDEX IF NOT EXISTS decision_alerts_by_transaction ON {ONLINE_SCHEMA}.decisions (transaction_id)
    WHERE is_alert = 1;
"""

DECISION_COLUMNS = ["request_id", "item_index", "transaction_id", "decided_at", "model_version", "score", "is_alert",
                    "threshold", "transaction_json", "reasons_json"]


def connect_decision_log(path: str | Path, timeout_seconds: float = 30.0) -> sqlite3.Connection:
    """A connection to the embedded decision log, creating it (in WAL mode) on first use."""
    return connect_wal(path, DECISIONS_SCHEMA, timeout_seconds)


def connect_postgres_decision_log(database: DatabaseUrl, timeout_seconds: int = 10):
    """A psycopg2 connection to the team database's decision log, its table created on first use."""
    return connect_online(database, "decisions", POSTGRES_DECISIONS_SCHEMA, timeout_seconds)


def connect_any_decision_log(location: Path | DatabaseUrl):
    """A connection to the decision log at `location`: the SQLite file or the team database."""
    if isinstance(location, DatabaseUrl):
        return connect_postgres_decision_log(location)
    return connect_decision_log(location)


INSERT_DECISION_SQL = (f"INSERT OR IGNORE INTO decisions ({', '.join(DECISION_COLUMNS)}) "
                       f"VALUES ({', '.join('?' * len(DECISION_COLUMNS))})")
INSERT_POSTGRES_DECISION_SQL = (f"INSERT INTO {ONLINE_SCHEMA}.decisions ({', '.join(DECISION_COLUMNS)}) VALUES %s "
                                "ON CONFLICT (request_id, item_index) DO NOTHING")
POSTGRES_PAGE_ROWS = 1_000  # rows per INSERT statement


def insert_decisions(connection, rows: list[tuple]) -> None:
    """Append decisions (tuples in DECISION_COLUMNS order) in one transaction of an open decision-log connection
    (SQLite's or PostgreSQL's); a decision already stored is skipped."""
    if not rows:
        return
    if isinstance(connection, sqlite3.Connection):
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(INSERT_DECISION_SQL, rows)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return
    from psycopg2.extras import execute_values

    with connection, connection.cursor() as cursor:  # commits, or rolls back on an error
        execute_values(cursor, INSERT_POSTGRES_DECISION_SQL, rows, page_size=POSTGRES_PAGE_ROWS)


def append_decisions(location: Path | DatabaseUrl, rows: list[tuple]) -> None:
    """Append decisions (tuples in DECISION_COLUMNS order) in one transaction, through a connection of its own."""
    if not rows:
        return
    with closing(connect_any_decision_log(location)) as connection:
        insert_decisions(connection, rows)


def decision_cutoff(days: float, now: datetime | None = None) -> str:
    """The `decided_at` of `days` ago (from `now`, UTC by default) in the service's format (ISO 8601, UTC, ms), which
    compares as text: what the label app's window and the log's retention cut at."""
    moment = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def decision_log_exists(location: Path | DatabaseUrl) -> bool:
    """Whether there may be decisions to read: the team database always; the SQLite file once created."""
    return isinstance(location, DatabaseUrl) or Path(location).exists()


def read_decisions(location: Path | DatabaseUrl) -> pd.DataFrame:
    """Every logged decision, newest first; an empty frame when the service has logged nothing yet.

    Unbounded (tens of millions a year): for audits and tests, never a request path; the label app reads
    `read_online_alerts`."""
    if not decision_log_exists(location):
        return pd.DataFrame(columns=DECISION_COLUMNS)
    table = f"{ONLINE_SCHEMA}.decisions" if isinstance(location, DatabaseUrl) else "decisions"
    sql = f"SELECT * FROM {table} ORDER BY decided_at DESC, request_id, item_index"
    with closing(connect_any_decision_log(location)) as connection:
        if isinstance(connection, sqlite3.Connection):
            return pd.read_sql_query(sql, connection)
        return fetch_frame(connection, sql)


# The most online alerts the label app reads at once: a review window of 30 days at the service's ~0.3% alert rate
# of 2,000 decisions a second is far more than analysts can review; 50,000 is a few days of that, newest first.
ONLINE_ALERTS_LIMIT = 50_000


def read_online_alerts(location: Path | DatabaseUrl, since: str, limit: int = ONLINE_ALERTS_LIMIT) -> pd.DataFrame:
    """The alerted decisions decided at or after `since` (ISO 8601 UTC, the service's `decided_at` format), newest
    first (DECISION_COLUMNS); an empty frame when the service has logged nothing yet.

    At most `limit` rows, found through the partial index `decision_alerts_by_time`
    (`WHERE is_alert = 1 AND decided_at >= ?`): never a decision older than `since`, nor any non-alert."""
    if int(limit) < 1:
        raise ValueError(f"the online alerts' limit must be at least 1, got {limit}")
    if not decision_log_exists(location):
        return pd.DataFrame(columns=DECISION_COLUMNS)
    columns = ", ".join(DECISION_COLUMNS)
    with closing(connect_any_decision_log(location)) as connection:
        if isinstance(connection, sqlite3.Connection):
            return pd.read_sql_query(
                f"SELECT {columns} FROM decisions INDEXED BY decision_alerts_by_time "
                "WHERE is_alert = 1 AND decided_at >= ? ORDER BY decided_at DESC LIMIT ?",
                connection, params=[since, int(limit)])
        return fetch_frame(connection, f"SELECT {columns} FROM {ONLINE_SCHEMA}.decisions "
                           "WHERE is_alert = 1 AND decided_at >= %s ORDER BY decided_at DESC LIMIT %s",
                           (since, int(limit)))


ALERT_LOOKUP_CHUNK = 500  # ids per `transaction_id IN (...)`: well under SQLite's 999 bound variables of old builds


def read_online_alerts_of(location: Path | DatabaseUrl, transaction_ids, since: str) -> pd.DataFrame:
    """The alerted decisions of the given transactions decided at or after `since` (DECISION_COLUMNS), newest first;
    what a page of the label app's history needs for context. Reads only those transactions' alerts, through the
    partial index `decision_alerts_by_transaction`: one `WHERE transaction_id IN (...)` query per ALERT_LOOKUP_CHUNK
    ids, over one connection."""
    ids = sorted({str(transaction_id) for transaction_id in transaction_ids})
    if not ids or not decision_log_exists(location):
        return pd.DataFrame(columns=DECISION_COLUMNS)
    frames = []
    with closing(connect_any_decision_log(location)) as connection:
        sqlite = isinstance(connection, sqlite3.Connection)
        table, mark = ("decisions", "?") if sqlite else (f"{ONLINE_SCHEMA}.decisions", "%s")
        for start in range(0, len(ids), ALERT_LOOKUP_CHUNK):
            chunk = ids[start:start + ALERT_LOOKUP_CHUNK]
            sql = (f"SELECT {', '.join(DECISION_COLUMNS)} FROM {table} WHERE is_alert = 1 AND transaction_id IN "
                   f"({', '.join([mark] * len(chunk))}) AND decided_at >= {mark}")
            frames.append(pd.read_sql_query(sql, connection, params=[*chunk, since]) if sqlite
                          else fetch_frame(connection, sql, [*chunk, since]))
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return pd.DataFrame(columns=DECISION_COLUMNS)
    return pd.concat(frames, ignore_index=True).sort_values("decided_at", ascending=False, kind="stable")


def is_alerted_online(location: Path | DatabaseUrl, transaction_id: str, since: str | None = None) -> bool:
    """Whether the service alerted on `transaction_id` (so that an analyst may label it), at or after `since` (ISO
    8601 UTC) when given. Reads at most one row, through the partial index `decision_alerts_by_transaction`."""
    if not decision_log_exists(location):
        return False
    after = "" if since is None else " AND decided_at >= ?"
    parameters = (transaction_id,) if since is None else (transaction_id, since)
    with closing(connect_any_decision_log(location)) as connection:
        if isinstance(connection, sqlite3.Connection):
            return connection.execute(f"SELECT 1 FROM decisions WHERE transaction_id = ? AND is_alert = 1{after} "
                                      "LIMIT 1", parameters).fetchone() is not None
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {ONLINE_SCHEMA}.decisions WHERE transaction_id = %s AND is_alert = 1"
                           f"{after.replace('?', '%s')} LIMIT 1", parameters)
            found = cursor.fetchone() is not None
        connection.rollback()
        return found
