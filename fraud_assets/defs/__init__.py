"""Everything that imports Dagster: assets, checks, resources, jobs, schedules, sensors and partitions."""

from __future__ import annotations

import dagster as dg

from fraud_assets.core.settings import Settings
from fraud_assets.defs.assets import build_assets
from fraud_assets.defs.checks import build_checks
from fraud_assets.defs.clock import build_simulation_clock_sensor
from fraud_assets.defs.jobs import all_jobs
from fraud_assets.defs.partitions import build_simulation_day_partitions
from fraud_assets.defs.resources import build_resources
from fraud_assets.defs.schedules import build_retention_schedule
from fraud_assets.defs.sensors import rescore_after_retraining_sensor, retrain_on_failed_checks_sensor


def build_definitions(settings: Settings) -> dg.Definitions:
    """The code location for `settings`: its partitions are the settings' simulation days."""
    partitions = build_simulation_day_partitions(settings.simulation_days)
    return dg.Definitions(
        assets=build_assets(partitions),
        asset_checks=build_checks(partitions),
        sensors=[retrain_on_failed_checks_sensor, rescore_after_retraining_sensor,
                 build_simulation_clock_sensor(settings.simulation_days, settings.clock_tick_seconds)],
        schedules=[build_retention_schedule(settings.retention_cron)],
        jobs=all_jobs,
        resources=build_resources(settings),
        # A run's steps execute one after another in the run's process: warehouse steps are serialized by their pool
        # anyway, and a process per step would pay the imports (Evidently, MLflow, BentoML) for every step.
        executor=dg.in_process_executor,
    )
