"""SIGTERM stays deliverable after an in-process Dagster run in a process started with SIGINT ignored."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import signal, sys, warnings
warnings.simplefilter("ignore")
signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a background job of a non-interactive shell starts
import dagster as dg
from fraud_assets.defs.dagster_compat import keep_sigterm_deliverable
if sys.argv[1] == "guarded":
    keep_sigterm_deliverable()

@dg.op
def one():
    return 1

@dg.job
def tiny():
    one()

tiny.execute_in_process()
print("ignored" if signal.getsignal(signal.SIGTERM) == signal.SIG_IGN else "deliverable")
"""


@pytest.mark.parametrize(("mode", "expected"), [("unguarded", "ignored"), ("guarded", "deliverable")])
def test_sigterm_after_an_in_process_run(mode, expected):
    result = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == expected
