"""The decision log's days past retention move into the warehouse whole (fraud_assets/core/decision_archive.py and
the warehouse's archive tables): every old decision ends in the archive exactly once, the window stays in the log,
and a move killed at any point leaves both stores consistent and is finished by the next one."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from functools import partial
from pathlib import Path

import duckdb
import pytest

from fraud_assets.core.decision_archive import day_start, first_kept_decision_day, move_old_decisions
from fraud_assets.defs.resources.warehouse import archive_decision_day, archived_decision_days
from fraud_assets_tests.core.test_retention import NOW, fill_decision_log, stored_decided_at

KEEP_FROM_DAY = first_kept_decision_day(30, now=NOW)  # 2026-11-07: the days before it are 30 days old in full


def archived_rows(warehouse: Path) -> list[tuple]:
    with closing(duckdb.connect(str(warehouse))) as connection:
        return connection.execute("SELECT request_id, item_index, decided_at, strftime(decided_on, '%Y-%m-%d') "
                                  "FROM fraud.archived_decisions ORDER BY decided_at, request_id, item_index"
                                  ).fetchall()


def old_and_kept(rows: list[tuple]) -> tuple[list[tuple], list[str]]:
    """The (request_id, item_index, decided_at, day) of the decisions before KEEP_FROM_DAY; the kept decided_at."""
    old = sorted((row[0], row[1], row[3], row[3][:10]) for row in rows if row[3] < day_start(KEEP_FROM_DAY))
    return sorted(old, key=lambda row: (row[2], row[0], row[1])), [row[3] for row in rows
                                                                    if row[3] >= day_start(KEEP_FROM_DAY)]


def test_old_days_move_whole_into_the_warehouse_and_the_window_stays_in_the_log(tmp_path):
    log, warehouse = tmp_path / "decisions.sqlite", tmp_path / "warehouse.duckdb"
    rows = fill_decision_log(log)  # every 6 minutes over the 40 days before NOW (12:00 UTC)
    old, kept = old_and_kept(rows)
    chunks_read = []

    def archive(connection, day, chunks):
        return archive_decision_day(connection, day, (chunks_read.append(chunk) or chunk for chunk in chunks))

    with closing(duckdb.connect(str(warehouse))) as connection:
        moved = move_old_decisions(log, KEEP_FROM_DAY, partial(archive, connection), batch_rows=100)
        days = archived_decision_days(connection)

    assert [day.day for day in moved] == [f"2026-10-{day}" for day in range(28, 32)] + [
        f"2026-11-0{day}" for day in range(1, 7)]
    assert sum(day.removed for day in moved) == sum(day.archived for day in moved) == len(old) == 2280
    assert archived_rows(warehouse) == old  # each old decision once, filed under its own day
    assert stored_decided_at(log) == kept
    # The reads touched the old days only, a chunk of at most 100 rows at a time.
    assert max(len(chunk) for chunk in chunks_read) == 100
    assert max(chunk["decided_at"].max() for chunk in chunks_read) < day_start(KEEP_FROM_DAY)
    assert days["decisions"].tolist() == [120] + [240] * 9  # the first day starts at noon
    with closing(duckdb.connect(str(warehouse))) as connection:
        assert move_old_decisions(log, KEEP_FROM_DAY, partial(archive_decision_day, connection)) == []


def test_with_the_delete_policy_old_days_leave_the_log_and_nothing_is_written(tmp_path):
    log = tmp_path / "decisions.sqlite"
    rows = fill_decision_log(log)
    _, kept = old_and_kept(rows)
    moved = move_old_decisions(log, KEEP_FROM_DAY, archive=None)
    assert sum(day.removed for day in moved) == 2280 and all(day.archived == 0 for day in moved)
    assert stored_decided_at(log) == kept
    assert move_old_decisions(tmp_path / "absent.sqlite", KEEP_FROM_DAY, archive=None) == []


KILLED_MOVE = textwrap.dedent("""
    import os, signal, sys
    from functools import partial
    from pathlib import Path
    import duckdb
    from fraud_assets.core import decision_archive
    from fraud_assets.defs.resources.warehouse import archive_decision_day

    log, warehouse, keep_from_day, kill_point = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    kill = partial(os.kill, os.getpid(), signal.SIGKILL)

    def chunks_then_killed(chunks):  # killed inside the archive's transaction, after two chunks
        for index, chunk in enumerate(chunks):
            if index == 2:
                kill()
            yield chunk

    def archive(connection, day, chunks):
        if kill_point == "archiving" and day == "2026-10-30":
            chunks = chunks_then_killed(chunks)
        return archive_decision_day(connection, day, chunks)

    delete = decision_archive.delete_sqlite_decisions_before

    def delete_then_killed(connection, cutoff, batch_rows, on_batch):  # killed after the first committed batch
        if cutoff.startswith("2026-10-31"):  # the delete of 2026-10-30 (the rows before its next midnight)
            return delete(connection, cutoff, batch_rows, lambda rows: kill())
        return delete(connection, cutoff, batch_rows, on_batch)

    if kill_point == "deleting":
        decision_archive.delete_sqlite_decisions_before = delete_then_killed
    connection = duckdb.connect(warehouse)
    decision_archive.move_old_decisions(log, keep_from_day, partial(archive, connection), batch_rows=50)
""")


@pytest.mark.parametrize("kill_point", ["archiving", "deleting"])
def test_a_move_killed_midway_leaves_both_stores_consistent_and_the_next_one_finishes_it(tmp_path, kill_point):
    log, warehouse = tmp_path / "decisions.sqlite", tmp_path / "warehouse.duckdb"
    rows = fill_decision_log(log)
    old, kept = old_and_kept(rows)

    killed = subprocess.run([sys.executable, "-c", KILLED_MOVE, str(log), str(warehouse), KEEP_FROM_DAY, kill_point],
                            timeout=300)
    assert killed.returncode == -signal.SIGKILL

    with closing(sqlite3.connect(log)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    in_log = stored_decided_at(log)
    in_archive = archived_rows(warehouse)
    assert len(in_archive) == len(set(in_archive))
    # Nothing is lost at the kill: every old decision is in the log or in the archive.
    assert {row[2] for row in old} <= set(in_log) | {row[2] for row in in_archive}
    if kill_point == "archiving":  # the day in flight was rolled back: the archive holds the two days before it
        assert {row[3] for row in in_archive} == {"2026-10-28", "2026-10-29"}
    else:  # the day in flight is archived and half deleted from the log
        assert {row[3] for row in in_archive} == {"2026-10-28", "2026-10-29", "2026-10-30"}
        assert 0 < sum(decided_at.startswith("2026-10-30") for decided_at in in_log) < 240

    with closing(duckdb.connect(str(warehouse))) as connection:
        move_old_decisions(log, KEEP_FROM_DAY, partial(archive_decision_day, connection), batch_rows=50)
    assert archived_rows(warehouse) == old
    assert stored_decided_at(log) == kept
