"""The decision-log writer: appends every decision to the decision log (SQLite, or the team database) from a
background thread, holding them in a bounded buffer while the log cannot be written."""

from __future__ import annotations

import logging
import queue
import threading
import time
from functools import lru_cache
from pathlib import Path

from bento.decisions import DecisionBatch
from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.decision_log import append_decisions, connect_any_decision_log, insert_decisions
from fraud_assets.core.settings import describe_store

logger = logging.getLogger("bentoml.fraud_scoring")  # under "bentoml" so that BentoML's log setup shows it

DEFAULT_BUFFER_ROWS = 100_000  # FRAUD_SERVICE_DECISION_BUFFER: about 100 MB of rows held by a worker at most
MAX_RETRY_SECONDS = 2.0  # the longest wait between two attempts while the decision log cannot be written


@lru_cache(maxsize=1)
def _buffer_gauge():
    """Prometheus gauge of the decisions a worker holds, not yet written (summed over the live workers)."""
    from prometheus_client import Gauge

    return Gauge("fraud_decision_buffer_rows", "Decisions held by the service, not yet in the decision log",
                 multiprocess_mode="livesum")


@lru_cache(maxsize=1)
def _dropped_counter():
    """Prometheus counter of decisions dropped because the buffer was full."""
    from prometheus_client import Counter

    return Counter("fraud_decisions_dropped", "Decisions never logged: the buffer was full while the decision log "
                                              "could not be written (FRAUD_SERVICE_DECISION_BUFFER)")


class DecisionLogWriter:
    """Appends decision batches to the decision log from one background thread.

    `submit` only queues (no I/O on the request path, and no wake-up of the writer per request). The thread writes
    whatever is queued every `flush_seconds`, or as soon as about `flush_rows` rows are waiting, in one transaction,
    through one connection it keeps open (opening one per flush costs a round trip or a schema read).

    While the log cannot be written (the database down, the SQLite file locked) the rows are held and retried on a
    fresh connection, the wait between attempts doubling up to MAX_RETRY_SECONDS; the service keeps answering.
    At most `buffer_rows` rows are held: a batch that would exceed it is dropped and counted (`dropped_rows`, the
    Prometheus counter `fraud_decisions_dropped_total`), and the log says so once per overflow, with the counts when
    the log is written again. The rows held are the gauge `fraud_decision_buffer_rows`. A retried batch whose commit
    answer was lost stores nothing twice: decisions are keyed by (request_id, item_index). `close` writes everything
    submitted before it, then stops the thread.
    """

    def __init__(self, location: Path | DatabaseUrl, buffer_rows: int = DEFAULT_BUFFER_ROWS,
                 flush_seconds: float = 0.5, flush_rows: int = 5_000) -> None:
        self.location = location
        self.buffer_rows = buffer_rows
        self.flush_seconds = flush_seconds
        self.flush_rows = flush_rows
        self.rows_written = 0
        self.dropped_rows = 0
        self._held_rows = 0  # submitted and not yet written: the buffer's fill, under _lock
        self._dropped_unreported = 0  # dropped since the overflow was last logged, under _lock
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[DecisionBatch] = queue.SimpleQueue()
        self._queued_rows = 0  # approximate (updated without a lock): only decides when to flush early
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._connection = None  # the writer thread's own
        self._failed_attempts = 0  # in a row

    @property
    def buffered_rows(self) -> int:
        """Decisions submitted and not yet written."""
        return self._held_rows

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="decision-log-writer", daemon=True)
            self._thread.start()

    def submit(self, batch: DecisionBatch) -> None:
        """Queue a batch for the writer; drop it (counted, logged once per overflow) when the buffer is full."""
        rows = len(batch.transactions)
        with self._lock:
            if self._held_rows + rows > self.buffer_rows:
                self._drop(rows)
                return
            self._held_rows += rows
        self._queue.put(batch)
        self._queued_rows += rows
        if self._queued_rows >= self.flush_rows and not self._failed_attempts:  # no early retry while failing
            self._wake.set()

    def _drop(self, rows: int) -> None:
        """Count a dropped batch (called under _lock); the first drop of an overflow is logged at once."""
        if self._dropped_unreported == 0:
            logger.error("The decision buffer is full (%d decisions held, FRAUD_SERVICE_DECISION_BUFFER=%d) while "
                         "the decision log at %s cannot be written: new decisions are answered but not logged "
                         "until it can", self._held_rows, self.buffer_rows, describe_store(self.location))
        self._dropped_unreported += rows
        self.dropped_rows += rows
        _dropped_counter().inc(rows)

    def close(self, timeout: float = 60.0) -> None:
        """Write everything submitted so far and stop; returns once written (or after `timeout` seconds)."""
        if self._thread is not None:
            self._stopping = True
            self._wake.set()
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.error("The decision log writer did not finish within %g s; %d decisions may be missing from "
                             "%s", timeout, self._held_rows, describe_store(self.location))
                return
            self._thread = None
        leftover = self._drain()  # submitted after the thread's last look, or never started
        if leftover and not self._write(leftover, attempts=3, on_thread=False):
            logger.error("%d decisions could not be written to %s at shutdown", len(leftover),
                         describe_store(self.location))

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
        close, from the caller's thread) through a connection of its own. True once written."""
        for attempt in range(attempts):
            try:
                if on_thread:
                    if self._connection is None:
                        self._connection = connect_any_decision_log(self.location)
                    insert_decisions(self._connection, rows)
                else:
                    append_decisions(self.location, rows)
            except Exception:
                self._log_failure(len(rows))
                if on_thread:
                    self._close_connection()
                if attempt + 1 < attempts:
                    time.sleep(self.flush_seconds)
                continue
            self._written(len(rows))
            return True
        return False

    def _log_failure(self, rows: int) -> None:
        """The first failure of a run is logged with its traceback; the others are counted."""
        if self._failed_attempts == 0:
            logger.exception("Could not append %d decisions to %s; holding them (up to %d, "
                             "FRAUD_SERVICE_DECISION_BUFFER) and retrying", rows, describe_store(self.location),
                             self.buffer_rows)
        self._failed_attempts += 1

    def _written(self, rows: int) -> None:
        """Release `rows` from the buffer; log the end of an outage or of an overflow."""
        self.rows_written += rows
        with self._lock:
            self._held_rows -= rows
            dropped, self._dropped_unreported = self._dropped_unreported, 0
        if self._failed_attempts:
            logger.warning("The decision log at %s is written again after %d failed attempts: %d held decisions "
                           "written", describe_store(self.location), self._failed_attempts, rows)
            self._failed_attempts = 0
        if dropped:
            logger.error("%d decisions were dropped while the decision buffer was full (%d dropped since start)",
                         dropped, self.dropped_rows)

    def _close_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:
                logger.exception("Could not close the decision log connection to %s", describe_store(self.location))

    def _retry_seconds(self) -> float:
        """The wait before the next attempt: `flush_seconds`, doubling while attempts fail, up to MAX_RETRY_SECONDS."""
        return min(MAX_RETRY_SECONDS, self.flush_seconds * 2 ** min(self._failed_attempts, 10))

    def _run(self) -> None:
        pending: list[tuple] = []
        wait = self.flush_seconds
        while True:
            self._wake.wait(wait)
            self._wake.clear()
            stopping = self._stopping
            pending.extend(self._drain())
            if pending and self._write(pending, attempts=3 if stopping else 1):
                pending = []
            wait = self._retry_seconds() if pending else self.flush_seconds
            _buffer_gauge().set(self._held_rows)
            if stopping:
                self._close_connection()
                if pending:
                    logger.error("%d decisions could not be written to %s at shutdown", len(pending),
                                 describe_store(self.location))
                return
