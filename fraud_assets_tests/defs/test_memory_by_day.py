"""A backfill's memory is one day's: the peak of a 10-day ingest run is at most 1.5 times that of a 1-day run.

Each run is a fresh Python process (as Dagster's run launcher starts one) that executes `daily_ingest_job` over the
days through Dagster and reports its own peak resident memory. The scale makes a day about 100,000 rows, so that a
run holding its whole range (as the ingest did before it wrote a day at a time: about 2.5 times the 1-day peak here)
is told apart from one holding a day.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCALE = 0.5
PEAK_RATIO_LIMIT = 1.5


def ingest_and_report_peak(data_dir: str, first_day: int, last_day: int) -> None:
    """Run in the child: ingest the days in one run, print the run's outcome, rows and this process's peak RSS."""
    import resource

    import dagster as dg
    import duckdb

    from fraud_assets.core.settings import Settings
    from fraud_assets.defs import build_definitions
    from fraud_assets.defs.partitions import day_range_tags
    from fraud_assets.simulation.settings import SimulationSettings

    settings = Settings(data_dir=Path(data_dir), simulation=SimulationSettings(scale=SCALE))
    job = build_definitions(settings).resolve_job_def("daily_ingest_job")
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, tags=day_range_tags(first_day, last_day),
                                        raise_on_error=False)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        (rows,) = connection.execute("SELECT count(*) FROM fraud.raw_transactions").fetchone()
    peak_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"success": result.success, "rows": rows, "peak_bytes": peak_bytes}))


def peak_of_ingest(tmp_path: Path, days: int) -> dict:
    data_dir = tmp_path / f"days_{days}"
    code = (f"from {__name__} import ingest_and_report_peak; "
            f"ingest_and_report_peak({str(data_dir)!r}, 0, {days - 1})")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900,
                               env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["success"], completed.stderr[-3000:]
    return report


def test_the_peak_of_a_ten_day_backfill_is_near_that_of_one_day(tmp_path):
    one_day, ten_days = peak_of_ingest(tmp_path, 1), peak_of_ingest(tmp_path, 10)

    assert ten_days["rows"] > 9 * one_day["rows"] > 500_000  # the range really is ten days of this size
    ratio = ten_days["peak_bytes"] / one_day["peak_bytes"]
    assert ratio <= PEAK_RATIO_LIMIT, (
        f"a 10-day run peaked at {ten_days['peak_bytes'] / 1e6:.0f} MB, {ratio:.2f} times the 1-day run's "
        f"{one_day['peak_bytes'] / 1e6:.0f} MB (limit {PEAK_RATIO_LIMIT})")
