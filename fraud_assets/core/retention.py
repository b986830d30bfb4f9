"""Retention: what each growing store keeps, and the pruning that removes the rest.

Every rule keeps what a later step needs and says what it freed (a `Freed`), so the retention job's metadata shows
it. Every prune is safe to interrupt (a SIGKILL at any point) and finishes the next time it runs:
- day files (review exports, drift reports) are single files removed one at a time; a reader sees a day or none;
- the decision log is deleted in batches of the oldest rows, each batch its own transaction;
- a served-model entry is first renamed out of the store (atomic), then deleted; an entry half-deleted by a killed
  prune lies outside the store, where the next prune finds it and finishes the job.
Days of the simulation clock (exports, reports) are judged against "today" (the newest day); the decision log's
rows against the wall clock, as the service logged them.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.online_db import ONLINE_SCHEMA

DEFAULT_DECISION_LOG_RETENTION_DAYS = 30
DEFAULT_EXPORT_RETENTION_DAYS = 90
DEFAULT_REPORT_RETENTION_DAYS = 90
DEFAULT_SERVED_MODELS_KEPT = 5
DEFAULT_LAKE_SNAPSHOT_RETENTION_DAYS = 7
DEFAULT_REGISTRY_VERSIONS_KEPT = 10
OLD_DECISIONS_POLICIES = ("archive", "delete")  # the decision log's days past retention: into the warehouse, or gone
MIN_SERVED_MODELS_KEPT = 2  # the champion and the one before it (what a replica falls back to) always survive
DECISION_BATCH_ROWS = 50_000  # rows per delete transaction: the service's writer waits for one batch at most
ABANDONED_SECONDS = 3600  # a temporary file or a half-written store entry older than this lost its writer
TRASH_DIR = ".pruned"  # under the served-model store's models/ folder: entries being deleted

REPORT_DAY_FILE = re.compile(r"^drift_report_day_(\d+)\.html$")


@dataclass(frozen=True)
class Freed:
    """What a prune removed from one store, in that store's unit (rows, files, entries)."""

    store: str
    removed: int
    unit: str
    bytes: int | None  # None for a database: its freed pages are reused by the rows that follow
    kept: str  # the rule, in words: what survived

    def as_metadata(self) -> dict[str, object]:
        return {"removed": self.removed, "unit": self.unit, "bytes": self.bytes, "kept": self.kept}


@dataclass(frozen=True)
class RetentionPolicy:
    """One setting per store (fraud_assets.core.settings reads them), each with its documented default."""

    decision_log_days: int = DEFAULT_DECISION_LOG_RETENTION_DAYS  # wall-clock days of online decisions
    export_days: int = DEFAULT_EXPORT_RETENTION_DAYS  # simulation days of review exports (never below the window)
    report_days: int = DEFAULT_REPORT_RETENTION_DAYS  # simulation days of drift reports' HTML
    served_models_kept: int = DEFAULT_SERVED_MODELS_KEPT  # newest entries of the served-model store
    lake_snapshot_days: int = DEFAULT_LAKE_SNAPSHOT_RETENTION_DAYS  # DuckLake snapshots (time travel) kept
    registry_versions_kept: int = DEFAULT_REGISTRY_VERSIONS_KEPT  # MLflow versions not archived (plus the served)
    old_decisions: str = OLD_DECISIONS_POLICIES[0]  # the decision log's days past retention: "archive" or "delete"

    def __post_init__(self) -> None:
        for name in ("decision_log_days", "export_days", "report_days", "lake_snapshot_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"retention of {name.removesuffix('_days').replace('_', ' ')} must be 1 day or "
                                 f"more, got {getattr(self, name)}")
        if self.old_decisions not in OLD_DECISIONS_POLICIES:
            raise ValueError(f"the decision log's old days are {' or '.join(map(repr, OLD_DECISIONS_POLICIES))}, "
                             f"got {self.old_decisions!r}")
        if self.registry_versions_kept < 1:
            raise ValueError(f"the registry keeps at least 1 version unarchived, got {self.registry_versions_kept}")
        if self.served_models_kept < MIN_SERVED_MODELS_KEPT:
            raise ValueError(f"the served-model store keeps at least {MIN_SERVED_MODELS_KEPT} entries (the champion "
                             f"and the previous one), got {self.served_models_kept}")


def first_kept_day(today: int, days: int, floor_days: int = 1) -> int:
    """The oldest simulation day a rule of `days` keeps on `today`; never fewer than `floor_days` days."""
    return today - max(days, floor_days) + 1


# ---------------------------------------------------------------------------------------------------------------
# Day files: review exports and drift reports
# ---------------------------------------------------------------------------------------------------------------
def day_files(folder: Path, pattern: re.Pattern) -> dict[int, Path]:
    """The files of `folder` named by `pattern` (whose group 1 is the day), by day."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return {}
    return {int(match.group(1)): folder / name for name in names if (match := pattern.match(name))}


def prune_day_files(folder: Path, pattern: re.Pattern, keep_from_day: int, store: str) -> Freed:
    """Remove the day files of `folder` older than `keep_from_day`, and temporary files a killed writer left (older
    than ABANDONED_SECONDS). Reads one directory listing; touches no file of a kept day."""
    removed = freed = 0
    for day, path in sorted(day_files(folder, pattern).items()):
        if day >= keep_from_day:
            break
        freed += _remove_file(path)
        removed += 1
    freed += _remove_abandoned_temporaries(folder)
    return Freed(store, removed, "files", freed, f"days {keep_from_day} and later")


def _remove_file(path: Path) -> int:
    try:
        size = path.stat().st_size
        path.unlink()
    except FileNotFoundError:  # removed by another prune meanwhile
        return 0
    return size


def _remove_abandoned_temporaries(folder: Path) -> int:
    freed = 0
    cutoff = time.time() - ABANDONED_SECONDS
    for path in folder.glob(".*.tmp") if folder.is_dir() else ():
        try:
            if path.stat().st_mtime < cutoff:
                freed += _remove_file(path)
        except FileNotFoundError:
            continue
    return freed


def prune_exports(exports_dir: Path, keep_from_day: int) -> list[Freed]:
    """The review exports (both kinds) older than `keep_from_day`."""
    # Imported here: a service replica imports this module for its cache pruning and must not load the export code.
    from fraud_assets.core.review_export import DAY_FILE_NAME

    return [prune_day_files(exports_dir / kind, DAY_FILE_NAME, keep_from_day, f"exports/{kind}")
            for kind in ("review", "summary")]


def prune_reports(reports_dir: Path, keep_from_day: int) -> Freed:
    """The drift reports' HTML older than `keep_from_day` (the drift table in the warehouse keeps their figures)."""
    return prune_day_files(reports_dir, REPORT_DAY_FILE, keep_from_day, "drift reports")


# ---------------------------------------------------------------------------------------------------------------
# The decision log
# ---------------------------------------------------------------------------------------------------------------
# Deleted in batches of the oldest rows, each batch a transaction (fraud_assets/core/decision_archive.py moves or
# deletes whole days through these). SQLite: rows are found by rowid, which follows the order the service wrote them in
# (and `decided_at` with it, within one flush of its writer's buffer); a binary search over rowids finds the last old
# row in about 30 indexed reads, and each batch deletes a rowid range, so a delete reads the old rows only, never the
# whole log, and needs no index on every decision (which would slow the writer). The freed pages are reused by the
# rows that follow: the file stops growing instead of shrinking. PostgreSQL: a BRIN index on `decided_at` (a few
# pages, nearly free for the writer; created on first use) leads each batch to the oldest blocks.
def _decided_at_of_row_from(connection: sqlite3.Connection, rowid: int) -> tuple[int, str] | None:
    return connection.execute("SELECT rowid, decided_at FROM decisions WHERE rowid >= ? ORDER BY rowid LIMIT 1",
                              (rowid,)).fetchone()


def last_rowid_before(connection: sqlite3.Connection, cutoff: str) -> int | None:
    """The last rowid of the leading run of decisions older than `cutoff`; None when the oldest is not older."""
    low_high = connection.execute("SELECT min(rowid), max(rowid) FROM decisions").fetchone()
    if low_high[0] is None:
        return None
    low, high = low_high
    first = _decided_at_of_row_from(connection, low)
    if first is None or first[1] >= cutoff:
        return None
    boundary = first[0]  # the newest rowid known to be old
    while low <= high:
        middle = (low + high) // 2
        probe = _decided_at_of_row_from(connection, middle)
        if probe is None or probe[1] >= cutoff:
            high = middle - 1
        else:
            boundary = max(boundary, probe[0])
            low = probe[0] + 1
    return boundary


def delete_sqlite_decisions_before(connection: sqlite3.Connection, cutoff: str, batch_rows: int,
                                   on_batch: Callable[[int], None] | None) -> int:
    """Delete the leading run of decisions older than `cutoff` (`last_rowid_before`), oldest first, `batch_rows` per
    transaction; the rows deleted."""
    boundary = last_rowid_before(connection, cutoff)
    if boundary is None:
        return 0
    removed = 0
    while True:
        connection.execute("BEGIN IMMEDIATE")
        try:
            start = connection.execute("SELECT min(rowid) FROM decisions").fetchone()[0]
            if start is None or start > boundary:
                connection.execute("COMMIT")
                return removed
            deleted = connection.execute("DELETE FROM decisions WHERE rowid BETWEEN ? AND ?",
                                         (start, min(boundary, start + batch_rows - 1))).rowcount
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        removed += deleted
        if on_batch is not None:
            on_batch(deleted)


DECISIONS_BY_TIME_BRIN = (f"CREATE INDEX IF NOT EXISTS decisions_by_time_brin ON {ONLINE_SCHEMA}.decisions "
                          "USING brin (decided_at)")


def delete_postgres_decisions_before(connection, cutoff: str, batch_rows: int,
                                     on_batch: Callable[[int], None] | None) -> int:
    """Delete the decisions older than `cutoff` over an open connection (its caller created DECISIONS_BY_TIME_BRIN),
    `batch_rows` per transaction; the rows deleted."""
    removed = 0
    while True:
        with connection, connection.cursor() as cursor:  # one batch, one transaction
            cursor.execute(f"DELETE FROM {ONLINE_SCHEMA}.decisions WHERE ctid = ANY(ARRAY("
                           f"SELECT ctid FROM {ONLINE_SCHEMA}.decisions WHERE decided_at < %s LIMIT %s))",
                           (cutoff, batch_rows))
            deleted = cursor.rowcount
        if deleted <= 0:
            return removed
        removed += deleted
        if on_batch is not None:
            on_batch(deleted)


# ---------------------------------------------------------------------------------------------------------------
# The served-model store
# ---------------------------------------------------------------------------------------------------------------
def prune_served_entries(bentoml_home: str | Path, name: str, keep: int) -> Freed:
    """Keep the newest `keep` complete entries `name` of the BentoML store (the newest is the champion; a rollback
    writes its version again as the newest, so the registry, not this store, holds rollback targets); delete older
    complete entries and half-written ones older than ABANDONED_SECONDS (their writer was killed). An entry is
    renamed into models/.pruned/ first, so the store never lists a half-deleted entry."""
    from fraud_assets.core.served_models import complete_served_entries

    keep = max(keep, MIN_SERVED_MODELS_KEPT)
    models_dir = Path(bentoml_home) / "models"
    entries_dir = models_dir / name
    trash = models_dir / TRASH_DIR
    freed = _empty_trash(trash)
    removed = 0
    if entries_dir.is_dir():
        complete = [entry.tag.version for entry in complete_served_entries(bentoml_home, name)]
        doomed = set(complete[:-keep])
        cutoff = time.time() - ABANDONED_SECONDS
        for folder in entries_dir.iterdir():
            if not folder.is_dir():
                continue
            abandoned = folder.name not in complete and folder.stat().st_mtime < cutoff
            if folder.name in doomed or abandoned:
                trash.mkdir(parents=True, exist_ok=True)
                target = trash / f"{name}-{folder.name}"
                os.replace(folder, target)
                freed += tree_bytes(target)
                shutil.rmtree(target, ignore_errors=True)
                removed += 1
    return Freed("served models", removed, "entries", freed, f"the newest {keep} entries of {name}")


def tree_bytes(path: Path) -> int:
    """Bytes of a file, or of every file under a folder (0 for a missing path; a file removed meanwhile is skipped)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for folder, _, names in os.walk(path):
        for name in names:
            try:
                total += (Path(folder) / name).stat().st_size
            except FileNotFoundError:
                continue
    return total


def _empty_trash(trash: Path) -> int:
    """Finish the deletions a killed prune left."""
    if not trash.is_dir():
        return 0
    freed = 0
    for leftover in trash.iterdir():
        freed += tree_bytes(leftover)
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    return freed


def prune_champion_promotions(database: DatabaseUrl, name: str, keep: int) -> Freed:
    """Keep the newest `keep` promotions `name` of the team database's champion table (the newest is the champion,
    the one before what a replica falls back to); one statement, one transaction."""
    from fraud_assets.core.served_models import connect_champion_promotions

    keep = max(keep, MIN_SERVED_MODELS_KEPT)
    with closing(connect_champion_promotions(database)) as connection, connection, connection.cursor() as cursor:
        # The keep-th newest promotion's id, NULL (nothing deleted) while there are fewer.
        cursor.execute(f"DELETE FROM {ONLINE_SCHEMA}.champion_promotions WHERE model_name = %s AND promotion_id < ("
                       f"SELECT promotion_id FROM {ONLINE_SCHEMA}.champion_promotions WHERE model_name = %s "
                       "ORDER BY promotion_id DESC OFFSET %s LIMIT 1)", (name, name, keep - 1))
        removed = max(cursor.rowcount, 0)
    return Freed("champion promotions", removed, "rows", None, f"the newest {keep} promotions of {name}")


# ---------------------------------------------------------------------------------------------------------------
# The lake
# ---------------------------------------------------------------------------------------------------------------
def maintain_lake(connection, catalog: str, snapshot_days: int, data_path: Path) -> list[Freed]:
    """On a connection that attached the DuckLake as `catalog`: merge each table's small adjacent files, expire the
    snapshots older than `snapshot_days` (time travel stops there), then delete the files no snapshot needs any more
    that were scheduled for deletion before that (a reader older than the retention is the only one that could
    still read them). Each call is one DuckLake transaction of its own; an interrupted maintenance leaves the lake as
    a committed snapshot, and the next run continues."""
    before = tree_bytes(data_path)
    merged = connection.execute(f"CALL ducklake_merge_adjacent_files('{catalog}')").fetchall()
    interval = f"now() - INTERVAL {int(snapshot_days)} DAY"
    expired = connection.execute(f"CALL ducklake_expire_snapshots('{catalog}', older_than => {interval})").fetchall()
    deleted = connection.execute(f"CALL ducklake_cleanup_old_files('{catalog}', older_than => {interval})").fetchall()
    freed = max(before - tree_bytes(data_path), 0)
    kept = f"snapshots of the last {snapshot_days} days"
    return [Freed("lake: merged files", len(merged), "merges", None, "every table's rows"),
            Freed("lake: snapshots", len(expired), "snapshots", None, kept),
            Freed("lake: files", len(deleted), "files", freed, f"files of {kept}")]

