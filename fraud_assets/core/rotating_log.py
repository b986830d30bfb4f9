"""A service's log that cannot outgrow its disk: the output of a child process copied into `name.log`, which is
rotated to `name.log.1`, `name.log.2`, ... once it reaches its size, the oldest beyond `kept` deleted.

`make up` starts each service with its output piped here, so a deployment that runs for a year keeps at most
`(kept + 1) x max_bytes` of log per service, and a restart keeps the previous run's log as `name.log.1` instead of
overwriting it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import BinaryIO

DEFAULT_LOG_MAX_BYTES = 50_000_000
DEFAULT_LOGS_KEPT = 3


class RotatingLog:
    """Append-only bytes into `path`, rotated at `max_bytes` (at a line's end when the line is shorter)."""

    def __init__(self, path: Path, max_bytes: int = DEFAULT_LOG_MAX_BYTES, kept: int = DEFAULT_LOGS_KEPT) -> None:
        if max_bytes < 1 or kept < 0:
            raise ValueError(f"a rotating log needs max_bytes >= 1 and kept >= 0, got {max_bytes} and {kept}")
        self.path, self.max_bytes, self.kept = Path(path), max_bytes, kept
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and self.path.stat().st_size:
            self.rotate()  # the previous run's log stays, as name.log.1
        self.file = self.path.open("ab")

    def rotated(self, index: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{index}")

    def rotate(self) -> None:
        """name.log -> name.log.1 -> ... -> name.log.<kept>, which replaces (deletes) the oldest."""
        if self.kept == 0:
            self.path.unlink(missing_ok=True)
            return
        for index in range(self.kept, 0, -1):
            source = self.path if index == 1 else self.rotated(index - 1)
            if source.exists():
                os.replace(source, self.rotated(index))

    def write(self, data: bytes) -> None:
        if self.file.tell() + len(data) > self.max_bytes and self.file.tell() > 0:
            self.file.close()
            self.rotate()
            self.file = self.path.open("ab")
        self.file.write(data)
        self.file.flush()  # readers (`up`'s start-up report, people's `tail -f`) see each line as it comes

    def close(self) -> None:
        self.file.close()


def copy_output(stream: BinaryIO, log: RotatingLog) -> threading.Thread:
    """A daemon thread copying `stream` (a child's stdout) line by line into `log` until the child closes it."""

    def copy() -> None:
        try:
            for line in iter(stream.readline, b""):
                log.write(line)
        finally:
            log.close()
            stream.close()

    thread = threading.Thread(target=copy, name=f"log:{log.path.name}", daemon=True)
    thread.start()
    return thread
