"""Benchmark: the decision log's retention at the service's volume (embedded SQLite log).

At 200 requests/s the service logs about 17 million decisions a day. This fills a decision log with `--days` days
of `--rows-per-day` decisions (in the service's row format, written in time order as its writer does), then deletes
the whole UTC days past retention (FRAUD_OLD_DECISIONS=delete, through the product's `move_old_decisions`) while a
writer thread keeps appending batches the way the service's writer does, and reports:
- the reads the search for the last old row takes, and the delete's time and rows deleted per second;
- the writer's commit time during the delete (median, p99, max): how long the service's writer waits for a batch;
- the file's size before the delete, after it, and after as many new rows as were deleted (the freed pages reused).

With `--move` the old days are moved into a DuckDB warehouse file instead (`archived_decisions`, the default
policy, FRAUD_OLD_DECISIONS=archive): whole UTC days, each written to the archive in one transaction and then
deleted from the log; it reports the move's rate and the archive's size per decision.

    .venv/bin/python bench/bench_retention.py --rows-per-day 2000000 --days 4 --prune-days 2
    .venv/bin/python bench/bench_retention.py --rows-per-day 2000000 --days 4 --prune-days 2 --move
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from contextlib import closing
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import duckdb

from fraud_assets.core.decision_archive import day_start, first_kept_decision_day, move_old_decisions
from fraud_assets.core.decision_log import append_decisions, connect_decision_log, insert_decisions
from fraud_assets.core.retention import last_rowid_before
from fraud_assets.defs.resources.warehouse import archive_decision_day

WRITER_BATCH_ROWS = 1_000  # the service's writer flushes about this many decisions at a time at 200 requests/s
TRANSACTION_JSON = json.dumps({"step": 400, "type": "TRANSFER", "amount": 181.0, "nameOrig": "C1305486145",
                               "oldbalanceOrg": 181.0, "newbalanceOrig": 0.0, "nameDest": "C553264065",
                               "oldbalanceDest": 0.0, "newbalanceDest": 0.0})


def rows_between(start: datetime, count: int, spacing: timedelta, prefix: str) -> list[tuple]:
    return [(f"{prefix}{index // 10}", index % 10, f"t{prefix}{index}",
             (start + index * spacing).isoformat(timespec="milliseconds"), "7", 0.0123, int(index % 300 == 0), 0.5,
             TRANSACTION_JSON, "[]") for index in range(count)]


def fill(path: Path, days: int, rows_per_day: int, now: datetime) -> float:
    started = time.perf_counter()
    spacing = timedelta(days=1) / rows_per_day
    with closing(connect_decision_log(path)) as connection:
        for day in range(days):
            first = now - timedelta(days=days - day)
            for chunk in range(0, rows_per_day, 200_000):
                count = min(200_000, rows_per_day - chunk)
                insert_decisions(connection, rows_between(first + chunk * spacing, count, spacing, f"d{day}c{chunk}-"))
    return time.perf_counter() - started


def file_bytes(path: Path) -> int:
    return sum(candidate.stat().st_size for candidate in (path, Path(f"{path}-wal")) if candidate.exists())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows-per-day", type=int, default=2_000_000)
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--prune-days", type=int, default=2, help="days past retention at the prune")
    parser.add_argument("--move", action="store_true", help="move the old days into a DuckDB archive, then delete")
    args = parser.parse_args()
    now = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "decisions.sqlite"
        fill_seconds = fill(path, args.days, args.rows_per_day, now)
        before = file_bytes(path)
        keep_from_day = first_kept_decision_day(args.days - args.prune_days, now=now)
        cutoff = day_start(keep_from_day)  # the delete's boundary: whole UTC days leave the log
        with closing(connect_decision_log(path)) as connection:  # the statements the prune's boundary search runs
            statements: list[str] = []
            connection.set_trace_callback(statements.append)
            last_rowid_before(connection, cutoff)

        commit_seconds: list[float] = []
        stop = threading.Event()

        def writer() -> None:
            batch = 0
            while not stop.is_set():
                rows = rows_between(datetime.now(timezone.utc), WRITER_BATCH_ROWS, timedelta(milliseconds=1),
                                    f"live{batch}-")
                started = time.perf_counter()
                append_decisions(path, rows)
                commit_seconds.append(time.perf_counter() - started)
                batch += 1
                time.sleep(0.2)

        thread = threading.Thread(target=writer)
        thread.start()
        started = time.perf_counter()
        archive_bytes = None
        if args.move:
            warehouse = Path(scratch) / "warehouse.duckdb"
            with closing(duckdb.connect(str(warehouse))) as archive:
                moved = move_old_decisions(path, keep_from_day, partial(archive_decision_day, archive))
            assert sum(day.removed for day in moved) == sum(day.archived for day in moved), "rows not archived"
            archive_bytes = file_bytes(warehouse)
        else:  # FRAUD_OLD_DECISIONS=delete
            moved = move_old_decisions(path, keep_from_day, archive=None)
        removed = sum(day.removed for day in moved)
        prune_seconds = time.perf_counter() - started
        stop.set()
        thread.join()
        after_prune = file_bytes(path)
        refill = rows_between(now, removed, timedelta(days=1) / args.rows_per_day, "refill-")
        for start in range(0, len(refill), 200_000):
            append_decisions(path, refill[start:start + 200_000])
        after_refill = file_bytes(path)

    commits = sorted(commit_seconds)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"filled {args.days} days x {args.rows_per_day:,} decisions in {fill_seconds:.1f} s")
    print(f"the last old row found in {len(statements)} reads of the {args.days * args.rows_per_day:,}-row log")
    print(f"{'moved' if args.move else 'pruned'} {removed:,} rows in {prune_seconds:.1f} s "
          f"({removed / prune_seconds:,.0f} rows/s)")
    if archive_bytes is not None:
        print(f"archive: {archive_bytes / 1e6:.0f} MB, {archive_bytes / removed:.0f} bytes per decision")
    print(f"writer commits of {WRITER_BATCH_ROWS} rows during the prune: {len(commits)}, median "
          f"{statistics.median(commits) * 1000:.1f} ms, p99 {commits[int(0.99 * (len(commits) - 1))] * 1000:.1f} ms, "
          f"max {commits[-1] * 1000:.1f} ms")
    print(f"file: {before / 1e9:.2f} GB before, {after_prune / 1e9:.2f} GB after the prune, "
          f"{after_refill / 1e9:.2f} GB after {removed:,} new rows ({after_refill / before:.2f}x)")


if __name__ == "__main__":
    main()
