"""The decision-log writer: decisions written from its background thread, and the rest on close; with the team
database, decisions held in a bounded buffer while it refuses them, and written once when it is back."""

from __future__ import annotations

import logging
import time

from bento.contract import Transaction
from bento.decision_log_writer import DecisionLogWriter
from bento.decisions import decide
from fraud_assets.cli.local_postgres import free_port, run_sql
from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.decision_log import read_decisions
from fraud_assets_tests.bento.conftest import count_decisions, valid_transaction


def test_decision_log_writer_flushes_in_the_background_and_on_close(tmp_path, champion):
    writer = DecisionLogWriter(tmp_path / "decisions.sqlite", flush_seconds=0.1)
    writer.start()
    _, batch = decide(champion, [Transaction.model_validate(valid_transaction())] * 3, request_id="r1")
    writer.submit(batch)
    deadline = time.monotonic() + 10
    while writer.rows_written < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert count_decisions(tmp_path / "decisions.sqlite") == 3  # written without close, off the caller's thread
    for index in range(20):
        writer.submit(decide(champion, [Transaction.model_validate(valid_transaction())],
                             request_id=f"later-{index}")[1])
    writer.close()
    assert count_decisions(tmp_path / "decisions.sqlite") == 23


def batch_of(champion, request_id: str, size: int = 1):
    return decide(champion, [Transaction.model_validate(valid_transaction())] * size, request_id=request_id)[1]


def wait_until(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def stored_keys(database: DatabaseUrl) -> list[tuple[str, int]]:
    """(request_id, item_index) of every decision in the team database, duplicates kept."""
    return [(key.request_id, int(key.item_index)) for key in read_decisions(database).itertuples()]


def test_decisions_are_held_while_the_database_refuses_them_and_written_once_when_it_is_back(
        postgres_cluster, postgres_database, champion):
    database = DatabaseUrl.parse(postgres_database)
    writer = DecisionLogWriter(database, flush_seconds=0.1)
    writer.start()
    try:
        writer.submit(batch_of(champion, "before", 2))
        assert wait_until(lambda: writer.rows_written == 2)
        # The server stays up but refuses the database: its sessions are cut and no new one is let in.
        run_sql(postgres_cluster, f'ALTER DATABASE "{database.database}" ALLOW_CONNECTIONS false; '
                                  f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  f"WHERE datname = '{database.database}'")
        for index in range(5):
            writer.submit(batch_of(champion, f"during-{index}", 3))
        time.sleep(1.5)  # several attempts fail
        assert (writer.rows_written, writer.buffered_rows) == (2, 15)
        run_sql(postgres_cluster, f'ALTER DATABASE "{database.database}" ALLOW_CONNECTIONS true')
        assert wait_until(lambda: writer.buffered_rows == 0)
        writer.submit(batch_of(champion, "after", 1))
    finally:
        run_sql(postgres_cluster, f'ALTER DATABASE "{database.database}" ALLOW_CONNECTIONS true')
        writer.close()
    keys = stored_keys(database)
    assert len(keys) == len(set(keys)) == 2 + 15 + 1
    assert {request for request, _ in keys} == {"before", "after", *(f"during-{index}" for index in range(5))}
    assert writer.dropped_rows == 0


def test_a_full_buffer_drops_new_batches_counts_them_and_says_so_once(champion, caplog):
    from prometheus_client import REGISTRY

    unreachable = DatabaseUrl.parse(f"postgresql://fraud:secret-pw@127.0.0.1:{free_port()}/fraud")
    dropped_before = REGISTRY.get_sample_value("fraud_decisions_dropped_total") or 0.0
    writer = DecisionLogWriter(unreachable, buffer_rows=5, flush_seconds=0.1)
    writer.start()
    with caplog.at_level(logging.INFO, logger="bentoml.fraud_scoring"):
        for index in range(6):
            writer.submit(batch_of(champion, f"r{index}", 2))  # two fit (4 rows); the other four would exceed 5
        assert wait_until(lambda: (REGISTRY.get_sample_value("fraud_decision_buffer_rows") or 0) == 4, 5)
        writer.close(timeout=10)
    assert (writer.buffered_rows, writer.dropped_rows, writer.rows_written) == (4, 8, 0)
    assert REGISTRY.get_sample_value("fraud_decisions_dropped_total") - dropped_before == 8
    full = [record.getMessage() for record in caplog.records if "decision buffer is full" in record.getMessage()]
    assert len(full) == 1 and "FRAUD_SERVICE_DECISION_BUFFER=5" in full[0]
    assert "secret-pw" not in caplog.text
    assert "4 decisions could not be written" in caplog.text  # lost at shutdown, and said so
