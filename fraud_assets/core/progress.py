"""Progress of the long steps, in the run's log: days done out of days asked, rows so far and rows per second.

The lines go through Dagster's logger, so they show in the run's log in the Dagster UI and on the console of the
main job (which prints INFO and above).
"""

from __future__ import annotations

import logging
import time


def progress_line(step: str, days_done: int, days_asked: int, day: int, rows: int, seconds: float) -> str:
    rate = f"{rows / seconds:,.0f} rows/s" if seconds > 0 else "- rows/s"
    return f"{step}: {days_done}/{days_asked} days done (day {day}), {rows:,} rows in {seconds:.1f} s, {rate}"


class DayProgress:
    """Counts days and rows of one step; logs a line for the first and the last day, and in between at most one
    every `every_seconds` (a line per day at full scale, a handful for a quick demo run)."""

    def __init__(self, log: logging.Logger, step: str, days_asked: int, every_seconds: float = 3.0):
        self.log, self.step, self.days_asked, self.every_seconds = log, step, days_asked, every_seconds
        self.days_done, self.rows = 0, 0
        self.started = time.perf_counter()
        self.last_line = float("-inf")

    def day_done(self, day: int, rows: int) -> None:
        self.days_done += 1
        self.rows += rows
        now = time.perf_counter()
        if self.days_done in (1, self.days_asked) or now - self.last_line >= self.every_seconds:
            self.last_line = now
            self.log.info(progress_line(self.step, self.days_done, self.days_asked, day, self.rows, self.seconds))

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def metadata(self) -> dict[str, float]:
        """Throughput of the step's own work, for the materialization's metadata."""
        seconds = self.seconds
        return {"compute_seconds": round(seconds, 2),
                "rows_per_second": round(self.rows / seconds) if seconds > 0 else 0}
