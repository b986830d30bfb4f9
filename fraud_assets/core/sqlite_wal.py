"""SQLite in WAL mode, the embedded store of the label events and of the service's decisions: readers never block
the one writer, and a busy writer makes others wait instead of failing."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def connect_wal(path: str | Path, schema_sql: str, timeout_seconds: float = 30.0) -> sqlite3.Connection:
    """An autocommit connection to the database at `path`, created in WAL mode with `schema_sql` on first use."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=timeout_seconds, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA busy_timeout={int(timeout_seconds * 1000)}")
    connection.executescript(schema_sql)
    return connection
