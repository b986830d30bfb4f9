"""The decision-log writer: decisions written from its background thread, and the rest on close."""

from __future__ import annotations

import time

from bento.contract import Transaction
from bento.decision_log_writer import DecisionLogWriter
from bento.decisions import decide
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
