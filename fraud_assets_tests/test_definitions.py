"""The code location loads, with every asset, check, job, sensor and schedule the UI shows, and its partitions are
the simulation days of the Settings given (run first: conftest.py puts this module at the top of the suite)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from fraud_assets.core.settings import Settings
from fraud_assets.defs import build_definitions
from fraud_assets.defs.clock import clock_run_requests
from fraud_assets.defs.names import RETRAINING_CHECKS
from fraud_assets.simulation.settings import SimulationSettings

ASSETS = {"raw_transactions", "cleaned_transactions", "rejected_transactions", "reviewed_labels", "fraud_model",
          "scored_predictions", "model_performance", "review_export", "drift_report", "store_retention",
          "archived_decisions"}
CHECKS = {"cleaned_transactions_contract_check", "cleaned_transactions_rejected_share_check",
          "cleaned_transactions_row_count_check", "drift_report_feature_drift_check",
          "scored_predictions_score_drift_check", "scored_predictions_recall_check",
          "scored_predictions_fraud_wave_check"}
JOBS = {"daily_ingest_job", "train_model_job", "daily_scoring_job", "simulation_day_job", "model_performance_job",
        "retention_job"}
DAILY_JOBS = {"daily_ingest_job", "daily_scoring_job", "simulation_day_job"}


def test_the_code_location_loads_with_everything_the_ui_shows():
    from fraud_assets.definitions import defs

    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    assert {key.to_user_string() for key in graph.get_all_asset_keys()} == ASSETS
    assert {key.name for key in graph.asset_check_keys} == CHECKS
    assert {check.name for check in RETRAINING_CHECKS} <= CHECKS
    assert "scored_predictions_fraud_wave_check" not in {check.name for check in RETRAINING_CHECKS}
    assert {job.name for job in defs.resolve_all_job_defs() if not job.name.startswith("__")} == JOBS
    sensors = {sensor.name: sensor for sensor in defs.sensors}
    assert set(sensors) == {"retrain_on_failed_checks_sensor", "rescore_after_retraining_sensor",
                            "simulation_clock_sensor"}
    assert sensors["simulation_clock_sensor"].default_status == dg.DefaultSensorStatus.STOPPED
    schedules = {schedule.name: schedule for schedule in defs.schedules}
    assert set(schedules) == {"retention_schedule"}
    assert schedules["retention_schedule"].default_status == dg.DefaultScheduleStatus.RUNNING  # nobody must start it


def test_partitions_are_the_days_of_the_settings_given(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("FRAUD_SIMULATION_DAYS", "31")
    defs = build_definitions(Settings(data_dir=tmp_path, simulation=SimulationSettings(num_days=10)))
    for job_name in DAILY_JOBS:
        keys = defs.resolve_job_def(job_name).partitions_def.get_partition_keys()
        assert (len(keys), keys[0], keys[-1]) == (10, "2025-01-01", "2025-01-10"), job_name
    assert defs.resolve_job_def("train_model_job").partitions_def is None


def test_a_longer_horizon_adds_days_after_the_stored_ones(tmp_path: Path):
    """A deployment that keeps receiving days raises FRAUD_SIMULATION_DAYS: the partitions grow at the end, the keys
    of the days already stored stay the same, and the clock goes on past day 31."""
    month = build_definitions(Settings(data_dir=tmp_path, simulation=SimulationSettings(num_days=31)))
    year = build_definitions(Settings(data_dir=tmp_path, simulation=SimulationSettings(num_days=1100)))
    month_keys = month.resolve_job_def("simulation_day_job").partitions_def.get_partition_keys()
    year_keys = year.resolve_job_def("simulation_day_job").partitions_def.get_partition_keys()
    assert year_keys[:31] == month_keys and (len(year_keys), year_keys[364]) == (1100, "2025-12-31")
    assert [request.partition_key for request in clock_run_requests(363, 1100, 1)] == ["2025-12-31", "2025-12-29"]
    assert clock_run_requests(1099, 1100, 1)[0].asset_check_keys  # past the horizon: only the matured check


def test_loading_the_definitions_imports_neither_evidently_nor_mlflow(tmp_path: Path):
    """Evidently (seconds), MLflow and matplotlib load when a run needs them, not in every process that loads the
    code location (code server, each run, the main job's child processes)."""
    code = ("import sys, fraud_assets.definitions; "
            "print(','.join(sorted(m for m in ('evidently', 'mlflow', 'matplotlib') if m in sys.modules)))")
    loaded = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "FRAUD_DATA_DIR": str(tmp_path)}).stdout.strip()
    assert loaded == ""
