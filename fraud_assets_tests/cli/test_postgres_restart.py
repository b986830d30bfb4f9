"""The team deployment's database server restarted in the middle of a run (a crash, an upgrade, a failover).

The main job runs with FRAUD_DATABASE_URL on a cluster of its own (the session's cluster is shared by other tests).
As soon as `raw_transactions` has stored its first day, the server is stopped (fast shutdown: every session is cut)
and started again a few seconds later. The step's next write finds its catalog connection gone (or, when its last
days beat the stop, the next step's); the transaction it was in never committed, and the step asks Dagster to retry
it, which it does once the server is back. The run, and
the main job, end as if nothing happened: every day holds exactly the simulator's rows, once, and the retry is in
the run's event log.
"""

from __future__ import annotations

import time

import dagster as dg
import pytest

from fraud_assets.cli.local_postgres import start_cluster, stop_cluster
from fraud_assets.core.settings import Settings
from fraud_assets.core.warehouse_engine import open_warehouse
from fraud_assets.simulation.simulator import simulate_day
from fraud_assets_tests.cli.test_crash_recovery import (
    KILL_TIMEOUT_SECONDS,
    RERUN_TIMEOUT_SECONDS,
    SIMULATION_DAYS,
    first_day_stored_by,
    main_job,
    main_job_environment,
    read_lines,
)

DOWN_SECONDS = 3  # between the stop and the start




def warehouse_rows(settings: Settings) -> dict[str, dict[int, int]]:
    with open_warehouse(settings.warehouse_location, read_only=True) as connection:
        return {table: dict(connection.execute(f"SELECT day, count(*) FROM fraud.{table} GROUP BY day").fetchall())
                for table in ("raw_transactions", "cleaned_transactions", "scored_predictions")}


def duplicated(settings: Settings) -> list[str]:
    with open_warehouse(settings.warehouse_location, read_only=True) as connection:
        return [table for table in ("raw_transactions", "cleaned_transactions", "scored_predictions")
                if connection.execute(f"SELECT count(*) > count(DISTINCT transaction_id) FROM fraud.{table}")
                .fetchone()[0]]


@pytest.mark.timeout(KILL_TIMEOUT_SECONDS + RERUN_TIMEOUT_SECONDS + 300)
def test_a_database_restart_in_the_middle_of_a_warehouse_write_is_retried_and_leaves_every_day_whole(
    own_cluster, tmp_path, monkeypatch
):
    folder, cluster = own_cluster
    database_url = cluster.url
    data_dir = tmp_path / "data"
    monkeypatch.setattr("fraud_assets_tests.cli.test_crash_recovery.main_job_environment",
                        lambda data_dir: {**main_job_environment(data_dir), "FRAUD_DATABASE_URL": database_url})

    with main_job(data_dir) as (process, lines):
        output = read_lines(lines, KILL_TIMEOUT_SECONDS, first_day_stored_by("raw_transactions"))
        stop_cluster(folder)
        time.sleep(DOWN_SECONDS)
        start_cluster(folder)
        output += read_lines(lines, RERUN_TIMEOUT_SECONDS)
        returncode = process.wait(timeout=60)
    text = "\n".join(output)
    assert returncode == 0, text[-6000:]

    for name, value in main_job_environment(data_dir).items():  # the job's settings, read as the job read them
        if name.startswith("FRAUD_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("FRAUD_DATABASE_URL", database_url)  # the instance's dagster.yaml names the variable too
    settings = Settings.from_env()
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        (ingest,) = instance.get_runs(filters=dg.RunsFilter(job_name="daily_ingest_job"))
        assert ingest.status == dg.DagsterRunStatus.SUCCESS
        retried = [entry.step_key for entry in instance.all_logs(ingest.run_id,
                                                                 of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY)]
        # The step writing when the server went (raw_transactions, unless its last days were quicker than the stop):
        # its connection is gone after a restart whatever it was doing, so some step of the run was retried.
        assert retried and set(retried) <= {"raw_transactions", "clean_transactions"}, (
            f"steps up for retry: {retried}\n{text[-4000:]}")

    days = range(SIMULATION_DAYS)
    simulated = {day: len(simulate_day(day, settings.simulation)) for day in days}
    rows = warehouse_rows(settings)
    assert rows["raw_transactions"] == simulated
    assert sorted(rows["cleaned_transactions"]) == list(days)
    assert rows["scored_predictions"] == rows["cleaned_transactions"]
    assert duplicated(settings) == []
