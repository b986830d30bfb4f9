"""The decision log: every online decision of the BentoML service, for audit and for the label app.

SQLite in WAL mode under the data folder by default (`data/decisions.sqlite`). The service appends in batches,
off the request path; readers (the label app) never block it.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pandas as pd

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

DECISION_COLUMNS = ["request_id", "item_index", "transaction_id", "decided_at", "model_version", "score", "is_alert",
                    "threshold", "transaction_json", "reasons_json"]


def connect_decision_log(path: str | Path, timeout_seconds: float = 30.0) -> sqlite3.Connection:
    """A connection to the decision log, creating it (in WAL mode) on first use."""
    return connect_wal(path, DECISIONS_SCHEMA, timeout_seconds)


INSERT_DECISION_SQL = (f"INSERT OR IGNORE INTO decisions ({', '.join(DECISION_COLUMNS)}) "
                       f"VALUES ({', '.join('?' * len(DECISION_COLUMNS))})")


def insert_decisions(connection: sqlite3.Connection, rows: list[tuple]) -> None:
    """Append decisions (tuples in DECISION_COLUMNS order) in one transaction of an open decision-log connection."""
    if not rows:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.executemany(INSERT_DECISION_SQL, rows)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def append_decisions(path: str | Path, rows: list[tuple]) -> None:
    """Append decisions (tuples in DECISION_COLUMNS order) in one transaction, through a connection of its own."""
    if not rows:
        return
    with closing(connect_decision_log(path)) as connection:
        insert_decisions(connection, rows)


def read_decisions(path: str | Path, alerts_only: bool = False, limit: int | None = None) -> pd.DataFrame:
    """Logged decisions, newest first; an empty frame when the service has logged nothing yet."""
    if not Path(path).exists():
        return pd.DataFrame(columns=DECISION_COLUMNS)
    where = "WHERE is_alert = 1" if alerts_only else ""
    limit_sql = f"LIMIT {int(limit)}" if limit else ""
    with closing(connect_decision_log(path)) as connection:
        return pd.read_sql_query(
            f"SELECT * FROM decisions {where} ORDER BY decided_at DESC, request_id, item_index {limit_sql}", connection)
