"""Retention rules (fraud_assets/core/retention.py) on real stores: what is past retention goes, nothing newer is
touched, the champion and the one before it survive, and a prune killed midway leaves every store consistent and is
finished by the next one."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from fraud_assets.core.decision_log import append_decisions, connect_decision_log, decision_cutoff
from fraud_assets.core.model_card import ModelCard
from fraud_assets.core.retention import (
    ABANDONED_SECONDS,
    TRASH_DIR,
    RetentionPolicy,
    delete_sqlite_decisions_before,
    first_kept_day,
    last_rowid_before,
    prune_exports,
    prune_reports,
    prune_served_entries,
)
from fraud_assets.core.review_export import day_file
from fraud_assets.core.served_models import complete_served_entries, load_served_model, save_served_model

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)


def write_day_files(exports_dir: Path, reports_dir: Path, days: range) -> None:
    for day in days:
        for kind in ("review", "summary"):
            path = day_file(exports_dir, kind, day)
            path.parent.mkdir(parents=True, exist_ok=True)
            pd.DataFrame({"day": [day]}).to_parquet(path)
        reports_dir.mkdir(parents=True, exist_ok=True)
        (reports_dir / f"drift_report_day_{day:03d}.html").write_text(f"<html>{day}</html>")


def test_day_files_older_than_the_first_kept_day_go_and_newer_ones_are_untouched(tmp_path):
    exports, reports = tmp_path / "exports", tmp_path / "reports"
    write_day_files(exports, reports, range(0, 12))
    write_day_files(exports, reports, range(998, 1002))  # past day 999: the number is read, not the name's order
    kept_before = {path: path.stat().st_mtime_ns for path in (exports / "review").iterdir() if path.name >= "day=010"}

    freed = prune_exports(exports, keep_from_day=10)
    freed.append(prune_reports(reports, keep_from_day=10))

    assert [item.removed for item in freed] == [10, 10, 10]
    assert all(item.bytes > 0 for item in freed)
    remaining = sorted(int(path.stem.split("=")[1]) for path in (exports / "review").iterdir())
    assert remaining == [10, 11, 998, 999, 1000, 1001]
    assert sorted(path.name for path in (exports / "summary").iterdir()) == sorted(
        path.name for path in (exports / "review").iterdir())
    assert len(list(reports.iterdir())) == 6
    assert {path: path.stat().st_mtime_ns for path in kept_before} == kept_before
    assert prune_exports(exports, keep_from_day=10)[0].removed == 0  # a second prune finds nothing


def test_a_temporary_file_is_removed_only_once_its_writer_is_long_gone(tmp_path):
    folder = tmp_path / "exports" / "review"
    folder.mkdir(parents=True)
    abandoned, live = folder / ".day=003.parquet.41.tmp", folder / ".day=004.parquet.42.tmp"
    for path in (abandoned, live):
        path.write_bytes(b"x" * 100)
    old = time.time() - ABANDONED_SECONDS - 60
    os.utime(abandoned, (old, old))
    prune_exports(tmp_path / "exports", keep_from_day=0)
    assert not abandoned.exists() and live.exists()


def test_exports_inside_the_review_window_survive_a_shorter_retention():
    assert first_kept_day(today=100, days=7, floor_days=30) == 71  # the window's 30 days win
    assert first_kept_day(today=100, days=90, floor_days=30) == 11
    assert first_kept_day(today=100, days=1) == 100


def test_a_policy_that_would_remove_what_later_steps_need_is_refused():
    with pytest.raises(ValueError, match="at least 2 entries"):
        RetentionPolicy(served_models_kept=1)
    with pytest.raises(ValueError, match="decision log must be 1 day or more"):
        RetentionPolicy(decision_log_days=0)
    with pytest.raises(ValueError, match="old days are 'archive' or 'delete', got 'keep'"):
        RetentionPolicy(old_decisions="keep")


# ---------------------------------------------------------------------------------------------------------------
# The decision log
# ---------------------------------------------------------------------------------------------------------------
def decision_rows(first: datetime, count: int, step: timedelta, prefix: str) -> list[tuple]:
    rows = []
    for index in range(count):
        decided_at = (first + index * step).isoformat(timespec="milliseconds")
        rows.append((f"{prefix}-{index // 10}", index % 10, f"tx-{prefix}-{index}", decided_at, "3", 0.1,
                     int(index % 97 == 0), 0.5, json.dumps({"step": 1}), "[]"))
    return rows


def fill_decision_log(path: Path, days_back: int = 40, per_hour: int = 10) -> list[tuple]:
    """Decisions every 6 minutes over the last `days_back` days, written in time order as the service writes them."""
    rows = decision_rows(NOW - timedelta(days=days_back), days_back * 24 * per_hour, timedelta(hours=1) / per_hour,
                         "r")
    for start in range(0, len(rows), 2000):
        append_decisions(path, rows[start:start + 2000])
    return rows


def stored_decided_at(path: Path) -> list[str]:
    with closing(connect_decision_log(path)) as connection:
        return [row[0] for row in connection.execute("SELECT decided_at FROM decisions ORDER BY rowid")]


def test_decisions_past_retention_are_deleted_in_batches_and_newer_ones_all_stay(tmp_path):
    path = tmp_path / "decisions.sqlite"
    rows = fill_decision_log(path)
    cutoff = decision_cutoff(30, now=NOW)
    expected_kept = [row[3] for row in rows if row[3] >= cutoff]
    batches = []

    with closing(connect_decision_log(path)) as connection:
        removed = delete_sqlite_decisions_before(connection, cutoff, 500, batches.append)
        assert delete_sqlite_decisions_before(connection, cutoff, 500, None) == 0

    assert removed == len(rows) - len(expected_kept) == 2400
    assert len(batches) == 5 and max(batches) <= 500
    assert stored_decided_at(path) == expected_kept


def test_the_old_rows_are_found_without_reading_the_log(tmp_path):
    """The boundary is found by a binary search over rowids: a few dozen reads, whatever the log's size."""
    path = tmp_path / "decisions.sqlite"
    fill_decision_log(path, days_back=40, per_hour=30)  # 28,800 rows
    cutoff = decision_cutoff(30, now=NOW)
    reads = []
    with closing(connect_decision_log(path)) as connection:
        connection.set_trace_callback(reads.append)
        boundary = last_rowid_before(connection, cutoff)
        connection.set_trace_callback(None)
        decided_at = "SELECT decided_at FROM decisions WHERE rowid = ?"
        assert connection.execute(decided_at, (boundary,)).fetchone()[0] < cutoff
        assert connection.execute(decided_at, (boundary + 1,)).fetchone()[0] >= cutoff
    assert len(reads) <= 20


def test_an_empty_log_or_one_without_old_rows_loses_nothing(tmp_path):
    path = tmp_path / "decisions.sqlite"
    with closing(connect_decision_log(path)) as connection:
        assert delete_sqlite_decisions_before(connection, decision_cutoff(30, now=NOW), 500, None) == 0
    append_decisions(path, decision_rows(NOW - timedelta(days=1), 50, timedelta(minutes=1), "new"))
    with closing(connect_decision_log(path)) as connection:
        assert delete_sqlite_decisions_before(connection, decision_cutoff(30, now=NOW), 500, None) == 0
    assert len(stored_decided_at(path)) == 50


KILLED_PRUNE = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from fraud_assets.core.decision_log import connect_decision_log
    from fraud_assets.core.retention import delete_sqlite_decisions_before

    def killed_after_the_second_batch(rows, seen=[]):
        seen.append(rows)
        if len(seen) == 2:
            os.kill(os.getpid(), signal.SIGKILL)

    delete_sqlite_decisions_before(connect_decision_log(Path(sys.argv[1])), sys.argv[2], 300,
                                   killed_after_the_second_batch)
""")


def test_a_delete_killed_midway_leaves_the_log_consistent_and_the_next_one_finishes_it(tmp_path):
    path = tmp_path / "decisions.sqlite"
    rows = fill_decision_log(path)
    cutoff = decision_cutoff(30, now=NOW)
    expected_kept = [row[3] for row in rows if row[3] >= cutoff]

    killed = subprocess.run([sys.executable, "-c", KILLED_PRUNE, str(path), cutoff], timeout=120)
    assert killed.returncode == -signal.SIGKILL

    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    after_kill = stored_decided_at(path)
    assert len(after_kill) == len(rows) - 600  # two committed batches, no half batch
    assert after_kill[-len(expected_kept):] == expected_kept
    append_decisions(path, decision_rows(NOW, 20, timedelta(seconds=1), "after"))  # the service goes on writing

    with closing(connect_decision_log(path)) as connection:
        assert delete_sqlite_decisions_before(connection, cutoff, 300, None) == 2400 - 600
    assert stored_decided_at(path)[:len(expected_kept)] == expected_kept
    assert len(stored_decided_at(path)) == len(expected_kept) + 20


# ---------------------------------------------------------------------------------------------------------------
# The served-model store
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_model() -> tuple[xgb.Booster, pd.DataFrame]:
    generator = np.random.default_rng(0)
    features = pd.DataFrame({"amount": generator.random(200), "hour": generator.random(200)})
    booster = xgb.train({"objective": "binary:logistic", "nthread": 1},
                        xgb.DMatrix(features, label=(features["amount"] > 0.9).astype(int)), num_boost_round=2)
    return booster, features.head(20)


def promote(home: Path, model: tuple[xgb.Booster, pd.DataFrame], version: str) -> str:
    card = ModelCard(threshold=0.5, threshold_strategy="alert_budget", expected_precision=0.8, expected_recall=0.7,
                     expected_alerts_per_day=12.0, alert_budget_per_day=12.0, high_score_level=0.95,
                     alerts_per_1000_transactions=2.92, feature_columns=["amount", "hour"],
                     training_window={"as_of_day": 5}, label_delay_days=1, metrics={"auprc": 0.9},
                     n_analyst_labels=0, best_iteration=1, version=version,
                     promoted_at="2026-12-01T00:00:00+00:00", mlflow_run_id=f"run-{version}")
    return save_served_model(home, "fraud_model", model[0], card, model[1])


def test_the_store_keeps_its_newest_entries_and_the_champion_stays_served(tmp_path, tiny_model):
    home = tmp_path / "bentoml"
    tags = [promote(home, tiny_model, str(version)) for version in range(1, 8)]

    freed = prune_served_entries(home, "fraud_model", keep=3)

    assert freed.removed == 4 and freed.bytes > 0
    assert [str(entry.tag) for entry in complete_served_entries(home, "fraud_model")] == tags[-3:]
    assert load_served_model(home, "fraud_model").version == "7"
    assert prune_served_entries(home, "fraud_model", keep=1).removed == 1  # never fewer than two
    assert [str(entry.tag) for entry in complete_served_entries(home, "fraud_model")] == tags[-2:]


def test_a_half_deleted_or_half_written_entry_is_finished_by_the_next_prune(tmp_path, tiny_model):
    home = tmp_path / "bentoml"
    tags = [promote(home, tiny_model, str(version)) for version in range(1, 4)]
    entries_dir = home / "models" / "fraud_model"
    # A prune killed after it moved an entry out of the store, before it deleted all of it:
    leftover = home / "models" / TRASH_DIR / "fraud_model-killed"
    leftover.mkdir(parents=True)
    (leftover / "booster.json").write_text("{}")
    # A promotion killed while writing, long ago, and one being written now:
    abandoned, in_progress = entries_dir / "abandonedentry", entries_dir / "writingnow0000"
    for folder in (abandoned, in_progress):
        folder.mkdir()
        (folder / "booster.json").write_text("{}")
    old = time.time() - ABANDONED_SECONDS - 60
    os.utime(abandoned, (old, old))

    freed = prune_served_entries(home, "fraud_model", keep=5)

    assert freed.removed == 1  # the abandoned entry; the trash is emptied on the way
    assert not leftover.exists() and not abandoned.exists() and in_progress.exists()
    assert [str(entry.tag) for entry in complete_served_entries(home, "fraud_model")] == tags
    assert load_served_model(home, "fraud_model").version == "3"

