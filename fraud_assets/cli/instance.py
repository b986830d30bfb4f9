"""The Dagster instance of the project: `DAGSTER_HOME` under the data folder, with warehouse writers serialized."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

# Every op that opens the DuckDB warehouse, to write or to read, belongs to the `duckdb_warehouse` pool: DuckDB lets
# one process hold the file at a time (readers lock it too), and a limit of 1 serializes them across runs.
# A run whose process dies keeps its pool slot and stays STARTED: the daemon's run monitoring asks the run launcher
# (fraud_assets.cli.run_launcher) whether each run's worker still runs, fails those that do not, and frees the slots
# of ended runs that still hold one (fraud_assets.cli.run_recovery does the same for the main job at its start).
# Timeouts are generous: a run worker on a busy laptop imports the whole project before its first step.
DAGSTER_YAML = """\
# Written by fraud_assets.cli.instance; edit the template there.
concurrency:
  pools:
    default_limit: 1
  runs:
    max_concurrent_runs: 4
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


def prepare_dagster_home(dagster_home: Path) -> Path:
    """Create DAGSTER_HOME with the project's dagster.yaml (rewritten when the template changes) and its storage,
    set the variable.

    The storage (SQLite run, event and schedule databases) is created here, in one process: a webserver and a daemon
    started together on an empty DAGSTER_HOME both create it and can race on its schema version table.
    """
    dagster_home = dagster_home.resolve()
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = dagster_home / "dagster.yaml"
    if not config.exists() or config.read_text() != DAGSTER_YAML:
        config.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    with dg.DagsterInstance.from_config(str(dagster_home)):
        pass
    return dagster_home


if __name__ == "__main__":
    from fraud_assets.core.settings import Settings

    print(prepare_dagster_home(Settings.from_env().dagster_home))
