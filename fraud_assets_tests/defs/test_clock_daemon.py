"""Days that keep arriving, through the real daemon (`make up`'s webserver and daemon): after the first champion
(`replay --prepare-only`), `simulation_clock_sensor`, started as a user starts it, runs the next days one at a time,
each day's run only once the previous one ended, and each day reaches the label app's exports. The year is in
bench/bench_year.py; here a few days at a tiny scale, to keep the suite short."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from fraud_assets.cli.replay import FIRST_MODEL_AS_OF_DAY
from fraud_assets.cli.up import service_environment
from fraud_assets.core.review_export import exported_days
from fraud_assets.defs.partitions import day_of_partition_key
from fraud_assets_tests.defs.test_dagster_ui_backfill import REPOSITORY_ROOT, start_dagster_services

DAYS_THROUGH_THE_DAEMON = 3
ENDED = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
CLOCK_TIMEOUT_SECONDS = 900  # three day runs on a busy 2-core machine (about 20 s each when it is quiet)


def day_runs(instance: dg.DagsterInstance) -> list[dg.RunRecord]:
    """The clock's day runs (the ones that materialize a day; not a recall check alone), oldest first."""
    records = instance.get_run_records(dg.RunsFilter(job_name="simulation_day_job"))
    return sorted((record for record in records if record.dagster_run.asset_selection != frozenset()),
                  key=lambda record: record.create_timestamp)


@pytest.mark.timeout(CLOCK_TIMEOUT_SECONDS + 900)
def test_the_clock_sensor_runs_the_next_days_one_after_another_through_the_daemon(tmp_path, monkeypatch, request):
    last_day = FIRST_MODEL_AS_OF_DAY + DAYS_THROUGH_THE_DAEMON
    services = start_dagster_services(tmp_path, monkeypatch, request, {
        "FRAUD_SIMULATION_SCALE": "0.01", "FRAUD_SIMULATION_DAYS": str(last_day + 1),
        "FRAUD_CLOCK_TICK_SECONDS": "1"})
    environment = service_environment(services.settings)
    prepared = subprocess.run([sys.executable, "-m", "fraud_assets.cli.replay", "--prepare-only"],
                              cwd=REPOSITORY_ROOT, env=environment, capture_output=True, text=True, timeout=900)
    assert prepared.returncode == 0, prepared.stdout[-3000:] + prepared.stderr[-3000:]
    started = subprocess.run([str(Path(sys.executable).with_name("dagster")), "sensor", "start",
                              "simulation_clock_sensor", "-w", str(REPOSITORY_ROOT / "workspace.yaml")],
                             cwd=REPOSITORY_ROOT, env=environment, capture_output=True, text=True, timeout=300)
    assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
    services.start_daemon()

    with dg.DagsterInstance.from_config(str(services.dagster_home)) as instance:
        deadline = time.monotonic() + CLOCK_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            services.assert_running()
            runs = day_runs(instance)
            if len(runs) >= DAYS_THROUGH_THE_DAEMON and all(run.dagster_run.status in ENDED for run in runs):
                break
            time.sleep(2)
        else:
            pytest.fail(f"{len(day_runs(instance))} day runs within {CLOCK_TIMEOUT_SECONDS} s\n"
                        f"{services.diagnostics()}")
        runs = day_runs(instance)

    days = [day_of_partition_key(run.dagster_run.tags["dagster/partition"]) for run in runs]
    assert days == list(range(FIRST_MODEL_AS_OF_DAY + 1, last_day + 1)), days  # each next day once, in order
    assert [run.dagster_run.status for run in runs] == [dg.DagsterRunStatus.SUCCESS] * DAYS_THROUGH_THE_DAEMON
    for earlier, later in zip(runs, runs[1:]):  # one day at a time: the next is asked for once the previous ended
        assert later.create_timestamp.timestamp() >= earlier.end_time, (earlier.dagster_run.run_id,
                                                                        later.dagster_run.run_id)
    assert exported_days(services.settings.exports_dir, "review")[-DAYS_THROUGH_THE_DAEMON:] == days
