"""The team deployment under the Dagster UI: the webserver and the daemon on a PostgreSQL instance, the warehouse a
DuckLake with its catalog in the same database (FRAUD_DATABASE_URL set), a real server from the session's cluster.

- Two ingest backfills of disjoint days, launched together through the webserver's GraphQL API as the UI's backfill
  dialog launches them: the warehouse pool's limit is the runs' limit in this mode, so their warehouse steps run at
  the same time, and both succeed with exactly the rows the simulator made for each day.
- A backfill run killed with SIGKILL in the middle of its day-by-day writes, with the daemon and its code server
  (the run host going down; a run worker killed alone is failed at once by the code server that launched it): run
  monitoring, through the project's run launcher, marks it failed once a daemon runs again and frees its slot; the
  days it left are whole (each as the simulator made it, or absent), and the backfill launched again completes them.

The DuckLake is read while the servers run: unlike the DuckDB file, it takes readers beside the writers.
"""

from __future__ import annotations

import time
from itertools import product
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import yaml

from fraud_assets.cli.run_recovery import logged_worker_pid
from fraud_assets.core.settings import Settings
from fraud_assets.core.warehouse_engine import open_warehouse
from fraud_assets.defs.partitions import day_of_partition_key, partition_key_of_day
from fraud_assets.simulation.simulator import simulate_day
from fraud_assets_tests.cli.test_crash_recovery import (
    MONITORING_TIMEOUT_SECONDS,
    RUN_START_TIMEOUT_SECONDS,
    failure_message,
    kill_group,
    process_runs,
    slot_holders,
    wait_for_warehouse_step,
    wait_until,
)
from fraud_assets_tests.defs.test_dagster_ui_backfill import (
    ASSET_NODES,
    INGEST_ASSETS,
    INGEST_BACKFILLS_TIMEOUT_SECONDS,
    INSTANCE,
    WAREHOUSE_POOL,
    DagsterServices,
    assert_backfill_succeeded,
    assert_checks_passed_once_per_day,
    assert_materialized_by_one_run_per_backfill,
    asset_key_input,
    launch_backfill,
    metadata_value,
    start_dagster_services,
    wait_for_backfills,
)

SIMULATION_SCALE = "0.05"  # about 10,000 transactions a day: a day's write takes long enough for the runs to meet
FIRST_RANGE = [partition_key_of_day(day) for day in range(8)]
SECOND_RANGE = [partition_key_of_day(day) for day in range(8, 16)]
RUNS_LIMIT = 4  # dagster.yaml's max_concurrent_runs, and the warehouse pool's limit with a database
ROW_COUNT_CHECK = {"cleaned_transactions": {"cleaned_transactions_row_count_check"}}


@pytest.fixture
def team_services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest,
                  postgres_database: str) -> DagsterServices:
    return start_dagster_services(tmp_path, monkeypatch, request, {"FRAUD_SIMULATION_SCALE": SIMULATION_SCALE,
                                                                   "FRAUD_DATABASE_URL": postgres_database})


def simulated_rows_per_day(settings: Settings, keys: list[str]) -> dict[int, int]:
    """What the source makes for each day: the rows raw_transactions must hold, exactly."""
    days = [day_of_partition_key(key) for key in keys]
    return {day: len(simulate_day(day, settings.simulation)) for day in days}


def lake_rows_per_day(settings: Settings) -> dict[str, dict[int, int]]:
    """Rows per day of the ingest tables in the DuckLake (a table not yet created reads as no days)."""
    with open_warehouse(settings.warehouse_location, read_only=True) as connection:
        tables = table_names(connection)
        return {table: dict(connection.execute(f"SELECT day, count(*) FROM fraud.{table} GROUP BY day").fetchall())
                if table in tables else {} for table in INGEST_ASSETS}


def duplicated_ids(settings: Settings) -> list[str]:
    with open_warehouse(settings.warehouse_location, read_only=True) as connection:
        stored = table_names(connection) & {"raw_transactions", "cleaned_transactions"}
        return sorted(table for table in stored if connection.execute(
            f"SELECT count(*) > count(DISTINCT transaction_id) FROM fraud.{table}").fetchone()[0])


def assert_days_whole(settings: Settings, expected: dict[int, int], complete: bool) -> None:
    """Every stored day holds exactly the simulator's rows, and every cleaned day splits them into cleaned and
    rejected; no id twice. `complete`: every expected day is stored and cleaned (else, a run stopped midway: raw days
    are written before any is cleaned)."""
    rows = lake_rows_per_day(settings)
    raw, cleaned, rejected = (rows[table] for table in INGEST_ASSETS)
    assert set(raw) <= set(expected), f"days stored {sorted(raw)}, launched {sorted(expected)}"
    assert {day: expected[day] for day in raw} == raw, f"raw rows per day {raw}, the simulator made {expected}"
    assert set(cleaned) <= set(raw) and set(rejected) <= set(cleaned), (raw, cleaned, rejected)
    assert {day: cleaned[day] + rejected.get(day, 0) for day in cleaned} == {day: raw[day] for day in cleaned}
    if complete:
        assert sorted(raw) == sorted(cleaned) == sorted(expected), (raw, cleaned)
    assert duplicated_ids(settings) == []


def wait_for_first_stored_day(settings: Settings, timeout: float) -> None:
    """Return as soon as raw_transactions holds a day (polled every 50 ms on one connection: each query reads the
    lake's newest snapshot)."""
    deadline = time.monotonic() + timeout
    with open_warehouse(settings.warehouse_location, read_only=True) as connection:
        while time.monotonic() < deadline:
            if "raw_transactions" in table_names(connection) and connection.execute(
                    "SELECT count(*) FROM fraud.raw_transactions").fetchone()[0]:
                return
            time.sleep(0.05)
    pytest.fail(f"raw_transactions stored no day within {timeout:.0f} s")


def table_names(connection) -> set[str]:
    return {name for (name,) in connection.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema = 'fraud'").fetchall()}


def runs_in_database(database_url: str) -> list[tuple[str, str]]:
    connection = psycopg2.connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT run_id, status FROM runs ORDER BY create_timestamp")
            return cursor.fetchall()
    finally:
        connection.close()


def steps_that_overlap(first: list[dict], second: list[dict]) -> list[tuple[str, str]]:
    """(step of the first run, step of the second) pairs whose [start, end] intervals overlap."""
    return [(one["stepKey"], other["stepKey"]) for one, other in product(first, second)
            if one["startTime"] < other["endTime"] and other["startTime"] < one["endTime"]]


@pytest.mark.timeout(2400)
def test_two_backfills_on_the_team_deployment_write_the_warehouse_at_the_same_time(team_services, postgres_database):
    services = team_services
    config = yaml.safe_load((services.dagster_home / "dagster.yaml").read_text())
    assert config["storage"] == {"postgres": {"postgres_url": {"env": "FRAUD_DATABASE_URL"}}}
    assert config["concurrency"]["pools"]["default_limit"] == RUNS_LIMIT
    instance = services.graphql(INSTANCE, pool=WAREHOUSE_POOL)["instance"]
    assert instance["poolConfig"]["defaultPoolLimit"] == RUNS_LIMIT, instance["poolConfig"]
    assert instance["concurrencyLimit"]["limit"] == RUNS_LIMIT, instance["concurrencyLimit"]
    nodes = services.graphql(ASSET_NODES, assetKeys=[asset_key_input(key) for key in INGEST_ASSETS])["assetNodes"]
    pooled_steps = {op_name for node in nodes for op_name in node["opNames"]}

    ranges = {launch_backfill(services, INGEST_ASSETS, FIRST_RANGE): FIRST_RANGE,
              launch_backfill(services, INGEST_ASSETS, SECOND_RANGE): SECOND_RANGE}
    services.start_daemon()  # after both requests: its first iteration submits the runs of both together
    backfills = wait_for_backfills(services, list(ranges), INGEST_BACKFILLS_TIMEOUT_SECONDS)

    for backfill_id, keys in ranges.items():
        assert_backfill_succeeded(services, backfills[backfill_id], INGEST_ASSETS, keys)
    for asset_key in INGEST_ASSETS:
        assert_materialized_by_one_run_per_backfill(services, asset_key, ranges, backfills)
    first_run, second_run = (backfills[backfill_id]["runs"][0] for backfill_id in ranges)
    writers = [[step for step in run["stepStats"] if step["stepKey"] in pooled_steps]
               for run in (first_run, second_run)]
    assert all(step["status"] == "SUCCESS" for steps in writers for step in steps), writers
    overlapping = steps_that_overlap(*writers)
    assert overlapping, f"no warehouse step of one run ran while one of the other did: {writers}"
    print(f"warehouse steps that ran at the same time: {overlapping}")

    expected = simulated_rows_per_day(services.settings, FIRST_RANGE + SECOND_RANGE)
    assert_days_whole(services.settings, expected, complete=True)
    evaluations = assert_checks_passed_once_per_day(
        services, "cleaned_transactions", ROW_COUNT_CHECK["cleaned_transactions"],
        {first_run["runId"], second_run["runId"]}, FIRST_RANGE + SECOND_RANGE)
    row_counts = {day_of_partition_key(key): metadata_value(evaluation, "row_count")
                  for key, evaluation in evaluations["cleaned_transactions_row_count_check"].items()}
    assert row_counts == lake_rows_per_day(services.settings)["cleaned_transactions"]

    assert sorted(runs_in_database(postgres_database)) == sorted(
        (run["runId"], "SUCCESS") for run in (first_run, second_run))
    assert not services.settings.warehouse_path.exists()  # no DuckDB file: the warehouse is the DuckLake


@pytest.mark.timeout(2400)
def test_a_run_killed_on_the_team_deployment_is_failed_by_run_monitoring_and_its_backfill_again_completes(
    team_services,
):
    """The daemon, its code server and the run worker die together (SIGKILL to the daemon's process group, as when
    the run host goes down): nothing is left to see the worker go but run monitoring, once a daemon runs again."""
    services = team_services
    daemon = next(service for service in services.managed if service.name == "dagster-daemon")
    keys = FIRST_RANGE + SECOND_RANGE
    expected = simulated_rows_per_day(services.settings, keys)
    launch_backfill(services, INGEST_ASSETS, keys)
    services.start_daemon()
    with dg.DagsterInstance.get() as instance:  # the PostgreSQL instance of DAGSTER_HOME
        run_id = wait_for_warehouse_step(instance, RUN_START_TIMEOUT_SECONDS)
        pid, _ = logged_worker_pid(instance, run_id)
        wait_for_first_stored_day(services.settings, RUN_START_TIMEOUT_SECONDS)
        kill_group(daemon.process.pid)
        assert not process_runs(pid), f"the run worker (pid {pid}) is not in the daemon's process group"
        stored_at_kill = lake_rows_per_day(services.settings)["raw_transactions"]
        assert 0 < len(stored_at_kill) < len(keys), f"days stored when the run was killed: {sorted(stored_at_kill)}"
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED  # nobody saw it die

        daemon.ready = False
        services.start_daemon()
        failed_after = wait_until(lambda: instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE,
                                  MONITORING_TIMEOUT_SECONDS, f"run {run_id} marked failed by run monitoring")
        wait_until(lambda: not slot_holders(instance), MONITORING_TIMEOUT_SECONDS, f"the slots of run {run_id} freed")
        message = failure_message(instance, run_id)
        assert "Detected run worker status FAILED" in message and f"pid {pid}" in message, message
        print(f"run killed after {len(stored_at_kill)} of {len(keys)} days; failed by run monitoring "
              f"{failed_after:.0f} s after the daemon started again")
    assert_days_whole(services.settings, expected, complete=False)  # what the killed run left: whole days or none

    again = launch_backfill(services, INGEST_ASSETS, keys)
    backfill = wait_for_backfills(services, [again], INGEST_BACKFILLS_TIMEOUT_SECONDS)[again]
    assert_backfill_succeeded(services, backfill, INGEST_ASSETS, keys)
    assert_days_whole(services.settings, expected, complete=True)
