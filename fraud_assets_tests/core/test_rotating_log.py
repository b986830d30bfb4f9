"""A service's log stays within its size: a real child's output copied into a rotating log."""

from __future__ import annotations

import subprocess
import sys

from fraud_assets.core.rotating_log import RotatingLog, copy_output

CHATTY = "import sys\nfor i in range(3000):\n    print(f'line {i:05d} ' + 'x' * 88, flush=True)\n"


def run_into(log: RotatingLog) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHATTY], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    thread = copy_output(child.stdout, log)
    assert child.wait(timeout=60) == 0
    thread.join(timeout=30)


def test_the_log_rotates_at_its_size_and_keeps_the_newest_lines(tmp_path):
    path = tmp_path / "logs" / "dagster-daemon.log"
    run_into(RotatingLog(path, max_bytes=64_000, kept=2))  # 300,000 bytes of output
    files = sorted(path.parent.iterdir())
    assert [file.name for file in files] == ["dagster-daemon.log", "dagster-daemon.log.1", "dagster-daemon.log.2"]
    assert all(file.stat().st_size <= 64_000 for file in files)
    oldest_first = [path.with_name(f"{path.name}{suffix}") for suffix in (".2", ".1", "")]
    lines = [line for file in oldest_first for line in file.read_text().splitlines()]
    numbers = [int(line.split()[1]) for line in lines]
    assert numbers[-1] == 2999 and numbers == list(range(numbers[0], 3000))  # the newest lines, none lost in between
    assert all(len(line) == 99 for line in lines)  # never a line cut in two


def test_a_restart_keeps_the_previous_runs_log(tmp_path):
    path = tmp_path / "service.log"
    run_into(RotatingLog(path, max_bytes=10_000_000, kept=3))
    first = path.read_text()
    run_into(RotatingLog(path, max_bytes=10_000_000, kept=3))
    assert (tmp_path / "service.log.1").read_text() == first and path.read_text() == first
