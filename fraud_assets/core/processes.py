"""Killing a process and everything it started, for the servers the tools and tests start (PostgreSQL, bentoml serve).

Both start children in sessions of their own, so killing the parent's process group does not reach them: the tree
is read from /proc (psutil) and every member is killed.
"""

from __future__ import annotations

import psutil


def process_tree(pid: int) -> list[psutil.Process]:
    """The process `pid` and every process under it, or [] when it is gone. Read it before asking the parent to stop
    when the children must be killed after: a parent that exits leaves them orphaned, out of its tree."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def kill_processes(processes: list[psutil.Process], timeout: float = 10.0) -> None:
    """SIGKILL each process still running and wait up to `timeout` seconds for them to go."""
    for process in processes:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(processes, timeout=timeout)
