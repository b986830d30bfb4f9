"""The decision log's days past retention leave it a whole UTC day at a time: moved into the warehouse, where analysts
and monitoring still query them, or deleted, by policy (`RetentionPolicy.old_decisions`).

A day is moved in two steps, each safe to interrupt: `archive(day, chunks)` writes the day's rows to the warehouse in
one transaction that also records the day as archived, then the log deletes the day in batches of the oldest rows.
Killed before the archive commits, nothing was written and the day is moved again; killed after, the next move sees
the day recorded, skips the write and finishes the delete. The log never loses a row the archive does not hold.

Bounded by the days moved: the oldest decision is found by rowid (SQLite) or through the BRIN index on `decided_at`
(PostgreSQL), a day's rows are read in chunks of `batch_rows` over its rowid range or its `decided_at` range, and no
read touches the days inside the retention window. One night moves one day (more after nights the job missed).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.decision_log import (
    DECISION_COLUMNS,
    connect_any_decision_log,
    decision_cutoff,
    decision_log_exists,
)
from fraud_assets.core.online_db import ONLINE_SCHEMA
from fraud_assets.core.retention import (
    DECISION_BATCH_ROWS,
    DECISIONS_BY_TIME_BRIN,
    delete_postgres_decisions_before,
    delete_sqlite_decisions_before,
    last_rowid_before,
)

# (the UTC date "YYYY-MM-DD", the day's rows in chunks of DECISION_COLUMNS) -> rows written; 0 when the day was
# archived before (a move killed after its archive committed).
ArchiveDay = Callable[[str, Iterator[pd.DataFrame]], int]


@dataclass(frozen=True)
class MovedDay:
    """One UTC day that left the decision log."""

    day: str  # YYYY-MM-DD
    removed: int  # rows deleted from the log
    archived: int  # rows written to the archive by this move (0 when deleted by policy, or archived before)


def first_kept_decision_day(retention_days: int, now=None) -> str:
    """The UTC date from which the log keeps every decision: the days before it are older than `retention_days`
    (wall-clock days) in full, so a day leaves the log whole, never in part."""
    return decision_cutoff(retention_days, now)[:10]


def day_start(day: str) -> str:
    """Midnight UTC of `day` in the service's `decided_at` format (which compares as text)."""
    return f"{day}T00:00:00.000+00:00"


def next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def move_old_decisions(location: Path | DatabaseUrl, keep_from_day: str, archive: ArchiveDay | None,
                       batch_rows: int = DECISION_BATCH_ROWS,
                       on_day: Callable[[MovedDay], None] | None = None) -> list[MovedDay]:
    """Move (or, with `archive` None, delete) each UTC day of decisions before `keep_from_day`, oldest first."""
    if not decision_log_exists(location):
        return []
    days = _PostgresDays(location) if isinstance(location, DatabaseUrl) else _SqliteDays(Path(location))
    moved: list[MovedDay] = []
    with days:
        while (day := days.oldest_day_before(keep_from_day)) is not None:
            end = day_start(next_day(day))
            archived = archive(day, days.chunks_before(end, batch_rows)) if archive is not None else 0
            moved.append(MovedDay(day, days.delete_before(end, batch_rows), archived))
            if on_day is not None:
                on_day(moved[-1])
    return moved


class _SqliteDays:
    """The embedded log's days: rowids follow the order the service wrote decisions in, `decided_at` with them."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> _SqliteDays:
        self.connection: sqlite3.Connection = connect_any_decision_log(self.path)
        return self

    def __exit__(self, *exc) -> None:
        self.connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        self.connection.close()

    def oldest_day_before(self, keep_from_day: str) -> str | None:
        oldest = self.connection.execute("SELECT decided_at FROM decisions ORDER BY rowid LIMIT 1").fetchone()
        return oldest[0][:10] if oldest is not None and oldest[0][:10] < keep_from_day else None

    def chunks_before(self, end: str, batch_rows: int) -> Iterator[pd.DataFrame]:
        """The rows the delete of `end` removes (the leading run of rowids older than `end`), in rowid ranges."""
        boundary = last_rowid_before(self.connection, end)
        start = self.connection.execute("SELECT min(rowid) FROM decisions").fetchone()[0]
        while boundary is not None and start is not None and start <= boundary:
            stop = min(boundary, start + batch_rows - 1)
            yield pd.read_sql_query(f"SELECT {', '.join(DECISION_COLUMNS)} FROM decisions "
                                    "WHERE rowid BETWEEN ? AND ? ORDER BY rowid", self.connection,
                                    params=(start, stop))
            start = stop + 1

    def delete_before(self, end: str, batch_rows: int) -> int:
        return delete_sqlite_decisions_before(self.connection, end, batch_rows, None)


class _PostgresDays:
    """The team database's log: the BRIN index on `decided_at` leads each read to the oldest blocks."""

    def __init__(self, database: DatabaseUrl) -> None:
        self.database = database

    def __enter__(self) -> _PostgresDays:
        self.connection = connect_any_decision_log(self.database)
        with self.connection, self.connection.cursor() as cursor:
            cursor.execute(DECISIONS_BY_TIME_BRIN)
        return self

    def __exit__(self, *exc) -> None:
        self.connection.close()

    def oldest_day_before(self, keep_from_day: str) -> str | None:
        with self.connection, self.connection.cursor() as cursor:
            cursor.execute(f"SELECT min(decided_at) FROM {ONLINE_SCHEMA}.decisions WHERE decided_at < %s",
                           (day_start(keep_from_day),))
            oldest = cursor.fetchone()[0]
        return None if oldest is None else oldest[:10]

    def chunks_before(self, end: str, batch_rows: int) -> Iterator[pd.DataFrame]:
        """The rows older than `end` (one day: the days before it have left), through a server-side cursor."""
        with closing(connect_any_decision_log(self.database)) as connection, connection:
            with connection.cursor(name="archived_decisions") as cursor:
                cursor.itersize = batch_rows
                cursor.execute(f"SELECT {', '.join(DECISION_COLUMNS)} FROM {ONLINE_SCHEMA}.decisions "
                               "WHERE decided_at < %s", (end,))
                while rows := cursor.fetchmany(batch_rows):
                    yield pd.DataFrame(rows, columns=DECISION_COLUMNS)

    def delete_before(self, end: str, batch_rows: int) -> int:
        return delete_postgres_decisions_before(self.connection, end, batch_rows, None)
