"""The label store's bounded reads, on a real SQLite store: the events of given transactions (in chunks of ids), and
the history a page at a time, newest first, filtered by transaction and reviewer in SQL."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.label_store import (
    LABEL_EVENT_COLUMNS,
    TRANSACTION_CHUNK,
    append_label_event,
    connect_label_store,
    connect_postgres_label_store,
    read_label_events_of,
    read_label_events_page,
)
from fraud_assets.core.online_db import ONLINE_SCHEMA


@pytest.fixture
def store(tmp_path):
    """25 events: transaction t{i % 5}, reviewer r{i % 3}, event_id i + 1."""
    path = tmp_path / "labels.sqlite"
    for index in range(25):
        append_label_event(path, f"t{index % 5}", index % 2, f"r{index % 3}", f"n{index}")
    return path


def test_the_events_of_given_transactions_only_across_chunks(tmp_path):
    path = tmp_path / "labels.sqlite"
    with closing(connect_label_store(path)) as connection:  # 3,000 transactions with an event each
        connection.executemany("INSERT INTO label_events (transaction_id, label, reviewer, labeled_at) "
                               "VALUES (?, 1, 'r', '2026-01-01')", [(f"t{index:05d}",) for index in range(3000)])
    append_label_event(path, "t00007", 0, "alice", "relabeled")
    asked = [f"t{index:05d}" for index in range(0, 3000, 2)] + ["never-labeled"]  # 1,501 ids: 4 chunks of <= 500
    assert len(asked) > 3 * TRANSACTION_CHUNK
    events = read_label_events_of(path, asked)
    assert list(events.columns) == LABEL_EVENT_COLUMNS and len(events) == 1500
    assert set(events["transaction_id"]) == set(asked[:-1])
    assert events["event_id"].is_monotonic_increasing  # oldest first across chunks
    assert read_label_events_of(path, ["t00007"])["reviewer"].tolist() == ["r", "alice"]
    assert read_label_events_of(path, []).empty and read_label_events_of(tmp_path / "none.sqlite", ["t1"]).empty
    assert not (tmp_path / "none.sqlite").exists()


def test_the_history_pages_newest_first(store):
    assert read_label_events_page(store, page=1, page_size=10)["event_id"].tolist() == list(range(25, 15, -1))
    assert read_label_events_page(store, page=2, page_size=10)["event_id"].tolist() == list(range(15, 5, -1))
    assert read_label_events_page(store, page=3, page_size=10)["event_id"].tolist() == [5, 4, 3, 2, 1]
    assert read_label_events_page(store, page=4, page_size=10).empty


def test_the_history_filters_by_reviewer_and_transaction(store):
    # r1: events 2, 5, 8, ..., 23; t2: events 3, 8, 13, 18, 23; both: 8 and 23
    assert read_label_events_page(store, reviewer="r1", page_size=3)["event_id"].tolist() == [23, 20, 17]
    assert read_label_events_page(store, reviewer="r1", page=2, page_size=3)["event_id"].tolist() == [14, 11, 8]
    page = read_label_events_page(store, transaction_id="t2", page_size=4)
    assert page["event_id"].tolist() == [23, 18, 13, 8] and set(page["transaction_id"]) == {"t2"}
    assert read_label_events_page(store, transaction_id="t2", page=2, page_size=4)["note"].tolist() == ["n2"]
    assert read_label_events_page(store, "t2", "r1")["event_id"].tolist() == [23, 8]
    assert read_label_events_page(store, reviewer="nobody").empty


def test_the_history_is_paged_by_sqlite_through_its_indexes(store, monkeypatch):
    """The page is cut in SQL: the query the store runs carries LIMIT/OFFSET, and a filtered one uses an index."""
    statements = []
    original = sqlite3.connect

    def tracing(*args, **kwargs):
        connection = original(*args, **kwargs)
        connection.set_trace_callback(statements.append)
        return connection

    monkeypatch.setattr(sqlite3, "connect", tracing)  # the real connection, its statements recorded
    read_label_events_page(store, reviewer="r1", page=2, page_size=3)
    monkeypatch.undo()
    select = [statement for statement in statements if statement.lstrip().startswith("SELECT")]
    assert len(select) == 1 and "reviewer = 'r1'" in select[0]
    assert "ORDER BY event_id DESC LIMIT 3 OFFSET 3" in select[0]
    with closing(connect_label_store(store)) as connection:
        plan = " ".join(str(row) for row in connection.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM label_events WHERE reviewer = ? ORDER BY event_id DESC LIMIT 3", ("r1",)))
    assert "label_events_by_reviewer" in plan


def test_a_page_outside_its_bounds_is_refused(store):
    with pytest.raises(ValueError, match="numbered from 1, got 0"):
        read_label_events_page(store, page=0)
    with pytest.raises(ValueError, match="1 to 10000 events, got 10001"):
        read_label_events_page(store, page_size=10_001)


def test_the_same_reads_on_postgresql(postgres_database):
    """The team database's code path: chunked lookup by transaction id and the history page in SQL."""
    database = DatabaseUrl.parse(postgres_database)
    with closing(connect_postgres_label_store(database)) as connection, connection, connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {ONLINE_SCHEMA}.label_events (transaction_id, label, reviewer, labeled_at) "
                           "VALUES (%s, 1, %s, '2026-01-01')",
                           [(f"t{index:05d}", f"r{index % 3}") for index in range(1200)])
    events = read_label_events_of(database, [f"t{index:05d}" for index in range(0, 1200, 2)] + ["never-labeled"])
    assert len(events) == 600 and events["event_id"].is_monotonic_increasing
    assert list(events.columns) == LABEL_EVENT_COLUMNS
    page = read_label_events_page(database, reviewer="r1", page=2, page_size=3)
    assert page["transaction_id"].tolist() == ["t01189", "t01186", "t01183"]
    assert read_label_events_page(database, "t00004", "r1")["event_id"].tolist() == [5]
