"""The Dagster instance of the project: `DAGSTER_HOME` under the data folder, with warehouse writers serialized.

Embedded by default: runs, event log and schedules in SQLite files under DAGSTER_HOME. With FRAUD_DATABASE_URL set
(`fraud_assets.core.database`), they live in that PostgreSQL database through dagster-postgres; dagster.yaml then
names the environment variable, never the URL or its password, and the database is checked before anything starts.

    python -m fraud_assets.cli.instance      # prepares DAGSTER_HOME and prints it; one clear line on a bad database
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dagster as dg

from fraud_assets.core.database import DATABASE_URL_ENV, DatabaseUnreachable, DatabaseUrl, database_url_from_env
from fraud_assets.core.settings import Settings
from fraud_assets.core.warehouse_engine import open_warehouse

# Every op that opens the DuckDB warehouse, to write or to read, belongs to the `duckdb_warehouse` pool: DuckDB lets
# one process hold the file at a time (readers lock it too), and a limit of 1 serializes them across runs. With a
# database the warehouse is a DuckLake that takes several writers at once, and the limit is the runs' limit.
# A run whose process dies keeps its pool slot and stays STARTED: the daemon's run monitoring asks the run launcher
# (fraud_assets.cli.run_launcher) whether each run's worker still runs, fails those that do not, and frees the slots
# of ended runs that still hold one (fraud_assets.cli.run_recovery does the same for the main job at its start).
# Timeouts are generous: a run worker on a busy laptop imports the whole project before its first step.
MAX_CONCURRENT_RUNS = 4
INSTANCE_SETTINGS_YAML = """\
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
concurrency:
  pools:
    default_limit: {pool_limit}
  runs:
    max_concurrent_runs: {max_runs}
run_launcher:
  module: fraud_assets.cli.run_launcher
  class: PidCheckingRunLauncher
run_monitoring:
  enabled: true
  poll_interval_seconds: 30
  start_timeout_seconds: 300
  cancel_timeout_seconds: 300
  max_resume_run_attempts: 0
  free_slots_after_run_end_seconds: 30
telemetry:
  enabled: false
"""
HEADER_YAML = "# Written by fraud_assets.cli.instance; edit the template there.\n"
# Dagster reads the URL from the environment when the instance loads: the password stays out of the file.
POSTGRES_STORAGE_YAML = f"""\
storage:
  postgres:
    postgres_url:
      env: {DATABASE_URL_ENV}
"""


def dagster_yaml(database: DatabaseUrl | None) -> str:
    """The instance's dagster.yaml: embedded storage without a database, PostgreSQL storage with one."""
    pool_limit = MAX_CONCURRENT_RUNS if database else 1
    return (HEADER_YAML + (POSTGRES_STORAGE_YAML if database else "")
            + INSTANCE_SETTINGS_YAML.format(pool_limit=pool_limit, max_runs=MAX_CONCURRENT_RUNS))


def prepare_dagster_home(dagster_home: Path) -> Path:
    """Create DAGSTER_HOME with the project's dagster.yaml (rewritten when the template changes) and its storage,
    set the variable.

    The storage (SQLite run, event and schedule databases, or their tables in FRAUD_DATABASE_URL's database) is
    created here, in one process: a webserver and a daemon started together on an empty storage both create it and
    can race on its schema version table. So is the DuckLake warehouse's catalog with a database, which the first
    runs of two backfills would otherwise both create. A database that cannot be reached raises DatabaseUnreachable
    (and a malformed URL a ValueError) before anything is written.
    """
    database = database_url_from_env()
    if database is not None:
        database.check_reachable()
    dagster_home = dagster_home.resolve()
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = dagster_home / "dagster.yaml"
    wanted = dagster_yaml(database)
    if not config.exists() or config.read_text() != wanted:
        config.write_text(wanted)
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    with dg.DagsterInstance.from_config(str(dagster_home)):
        pass
    if database is not None:
        open_warehouse(Settings.from_env().warehouse_location).close()  # creates the lake's catalog when new
    return dagster_home


def main() -> int:
    try:
        print(prepare_dagster_home(Settings.from_env().dagster_home))
    except (DatabaseUnreachable, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
