"""The decision log's read for the label app, on a real SQLite log: the alerts decided since a cutoff, newest first,
at most a limit, through the partial index by time."""

from __future__ import annotations

import json
from contextlib import closing
from datetime import datetime, timedelta, timezone

from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.decision_log import (
    append_decisions,
    connect_decision_log,
    is_alerted_online,
    read_online_alerts,
    read_online_alerts_of,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)


def decision(request_id: str, transaction_id: str, days_ago: float, is_alert: bool) -> tuple:
    decided_at = (NOW - timedelta(days=days_ago)).isoformat(timespec="milliseconds")
    return (request_id, 0, transaction_id, decided_at, "v1", 0.9 if is_alert else 0.1, int(is_alert), 0.5,
            json.dumps({"step": 5}), "[]")


def test_only_the_alerts_since_the_cutoff_are_read(tmp_path):
    log = tmp_path / "decisions.sqlite"
    append_decisions(log, [decision("r1", "old-alert", 40, True), decision("r2", "new-alert", 1, True),
                           decision("r3", "new-legit", 1, False), decision("r4", "newest-alert", 0.5, True),
                           decision("r5", "edge-alert", 30, True)])
    cutoff = (NOW - timedelta(days=30)).isoformat(timespec="milliseconds")
    alerts = read_online_alerts(log, cutoff)
    assert alerts["transaction_id"].tolist() == ["newest-alert", "new-alert", "edge-alert"]  # newest first
    assert read_online_alerts(log, cutoff, limit=1)["transaction_id"].tolist() == ["newest-alert"]
    assert is_alerted_online(log, "old-alert") and not is_alerted_online(log, "old-alert", since=cutoff)
    assert is_alerted_online(log, "new-alert", since=cutoff) and not is_alerted_online(log, "new-legit", since=cutoff)
    assert read_online_alerts(tmp_path / "none.sqlite", cutoff).empty and not (tmp_path / "none.sqlite").exists()
    with closing(connect_decision_log(log)) as connection:
        plan = " ".join(str(row) for row in connection.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM decisions INDEXED BY decision_alerts_by_time "
            "WHERE is_alert = 1 AND decided_at >= ? ORDER BY decided_at DESC LIMIT 5", (cutoff,)))
    assert "decision_alerts_by_time" in plan and "SCAN decisions" not in plan


def test_the_alerts_of_given_transactions_are_read_through_the_index_by_transaction(tmp_path):
    log = tmp_path / "decisions.sqlite"
    rows = [decision(f"r{index}", f"t{index}", index / 1000, index % 3 != 0) for index in range(1200)]
    append_decisions(log, rows + [decision("again", "t1", 0.0001, True), decision("old", "t2", 40, True)])
    cutoff = (NOW - timedelta(days=30)).isoformat(timespec="milliseconds")
    wanted = [f"t{index}" for index in range(0, 1200, 2)] + ["absent"]  # 600 ids: two chunks
    alerts = read_online_alerts_of(log, wanted, cutoff)
    expected = {f"t{index}" for index in range(0, 1200, 2) if index % 3 != 0}
    assert set(alerts["transaction_id"]) == expected and len(alerts) == len(expected)
    assert read_online_alerts_of(log, ["t1"], cutoff)["request_id"].tolist() == ["again", "r1"]  # newest first
    assert read_online_alerts_of(log, ["t2"], cutoff)["request_id"].tolist() == ["r2"]  # not the one before cutoff
    assert read_online_alerts_of(log, [], cutoff).empty and read_online_alerts_of(tmp_path / "no", ["t1"], cutoff).empty
    with closing(connect_decision_log(log)) as connection:
        plan = " ".join(str(row) for row in connection.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM decisions WHERE is_alert = 1 AND transaction_id IN (?, ?) "
            "AND decided_at >= ?", ("t1", "t2", cutoff)))
    assert "decision_alerts_by_transaction" in plan and "SCAN decisions" not in plan


def test_the_same_read_on_postgresql(postgres_database):
    database = DatabaseUrl.parse(postgres_database)
    append_decisions(database, [decision("r1", "old-alert", 40, True), decision("r2", "new-alert", 1, True),
                                decision("r3", "new-legit", 1, False)])
    cutoff = (NOW - timedelta(days=30)).isoformat(timespec="milliseconds")
    assert read_online_alerts(database, cutoff)["transaction_id"].tolist() == ["new-alert"]
    assert not is_alerted_online(database, "old-alert", since=cutoff) and is_alerted_online(database, "old-alert")
    assert read_online_alerts_of(database, ["old-alert", "new-alert", "new-legit"], cutoff)[
        "transaction_id"].tolist() == ["new-alert"]
