"""The decision-log writer: appends every decision to the decision log (SQLite) from a background thread."""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from pathlib import Path

from bento.decisions import DecisionBatch
from fraud_assets.core.decision_log import append_decisions, connect_decision_log, insert_decisions

logger = logging.getLogger("bentoml.fraud_scoring")  # under "bentoml" so that BentoML's log setup shows it


class DecisionLogWriter:
    """Appends decision batches to the decision log from one background thread.

    `submit` only queues (no I/O on the request path, and no wake-up of the writer per request). The thread writes
    whatever is queued every `flush_seconds`, or as soon as about `flush_rows` rows are waiting, in one SQLite
    transaction, through one connection it keeps open (opening one per flush re-reads the schema, and closing it
    checkpoints the WAL); a failed write (e.g. the file locked for longer than SQLite's busy timeout) is kept and
    retried on a fresh connection. `close` writes everything submitted before it, then stops the thread.
    """

    def __init__(self, path: Path, flush_seconds: float = 0.5, flush_rows: int = 5_000) -> None:
        self.path = Path(path)
        self.flush_seconds = flush_seconds
        self.flush_rows = flush_rows
        self.rows_written = 0
        self._queue: queue.SimpleQueue[DecisionBatch] = queue.SimpleQueue()
        self._queued_rows = 0  # approximate (updated without a lock): only decides when to flush early
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._connection: sqlite3.Connection | None = None  # the writer thread's own

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="decision-log-writer", daemon=True)
            self._thread.start()

    def submit(self, batch: DecisionBatch) -> None:
        self._queue.put(batch)
        self._queued_rows += len(batch.transactions)
        if self._queued_rows >= self.flush_rows:
            self._wake.set()

    def close(self, timeout: float = 60.0) -> None:
        """Write everything submitted so far and stop; returns once written (or after `timeout` seconds)."""
        if self._thread is not None:
            self._stopping = True
            self._wake.set()
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.error("The decision log writer did not finish within %g s; decisions may be missing from %s",
                             timeout, self.path)
                return
            self._thread = None
        leftover = self._drain()  # submitted after the thread's last look, or never started
        if leftover and not self._write(leftover, attempts=3, on_thread=False):
            logger.error("%d decisions could not be written to %s at shutdown", len(leftover), self.path)

    def _drain(self) -> list[tuple]:
        self._queued_rows = 0
        rows: list[tuple] = []
        while True:
            try:
                rows.extend(self._queue.get_nowait().rows())
            except queue.Empty:
                return rows

    def _write(self, rows: list[tuple], attempts: int = 1, on_thread: bool = True) -> bool:
        """Append `rows` in one transaction: through the writer thread's connection when `on_thread`, else (at
        close, from the caller's thread) through a connection of its own."""
        for attempt in range(attempts):
            try:
                if on_thread:
                    if self._connection is None:
                        self._connection = connect_decision_log(self.path)
                    insert_decisions(self._connection, rows)
                else:
                    append_decisions(self.path, rows)
                self.rows_written += len(rows)
                return True
            except Exception:
                logger.exception("Could not append %d decisions to %s (attempt %d of %d)", len(rows), self.path,
                                 attempt + 1, attempts)
                if on_thread:
                    self._close_connection()
                if attempt + 1 < attempts:
                    time.sleep(self.flush_seconds)
        return False

    def _close_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except sqlite3.Error:
                logger.exception("Could not close the decision log connection to %s", self.path)

    def _run(self) -> None:
        pending: list[tuple] = []
        while True:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            stopping = self._stopping
            pending.extend(self._drain())
            if pending and self._write(pending, attempts=3 if stopping else 1):
                pending = []
            if stopping:
                self._close_connection()
                if pending:
                    logger.error("%d decisions could not be written to %s at shutdown", len(pending), self.path)
                return
