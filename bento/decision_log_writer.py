"""The decision-log writer: appends every decision to the decision log (SQLite) from a background thread."""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path

from bento.decisions import DecisionBatch
from fraud_assets.core.decision_log import append_decisions

logger = logging.getLogger("bentoml.fraud_scoring")  # under "bentoml" so that BentoML's log setup shows it


class DecisionLogWriter:
    """Appends decision batches to the decision log from one background thread.

    `submit` only queues (no I/O on the request path, and no wake-up of the writer per request). The thread writes
    whatever is queued every `flush_seconds`, or as soon as about `flush_rows` rows are waiting, in one SQLite
    transaction; a failed write (e.g. the file locked for longer than SQLite's busy timeout) is kept and retried.
    `close` writes everything submitted before it, then stops the thread.
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
        if leftover and not self._write(leftover, attempts=3):
            logger.error("%d decisions could not be written to %s at shutdown", len(leftover), self.path)

    def _drain(self) -> list[tuple]:
        self._queued_rows = 0
        rows: list[tuple] = []
        while True:
            try:
                rows.extend(self._queue.get_nowait().rows())
            except queue.Empty:
                return rows

    def _write(self, rows: list[tuple], attempts: int = 1) -> bool:
        for attempt in range(attempts):
            try:
                append_decisions(self.path, rows)
                self.rows_written += len(rows)
                return True
            except Exception:
                logger.exception("Could not append %d decisions to %s (attempt %d of %d)", len(rows), self.path,
                                 attempt + 1, attempts)
                if attempt + 1 < attempts:
                    time.sleep(self.flush_seconds)
        return False

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
                if pending:
                    logger.error("%d decisions could not be written to %s at shutdown", len(pending), self.path)
                return
