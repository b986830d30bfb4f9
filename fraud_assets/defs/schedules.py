"""The schedules: the nightly retention job (the simulation clock is a sensor, fraud_assets/defs/clock.py)."""

import dagster as dg

from fraud_assets.defs.jobs import retention_job


def build_retention_schedule(cron_schedule: str) -> dg.ScheduleDefinition:
    """The retention job on `cron_schedule` (FRAUD_RETENTION_CRON, nightly by default); running from the start, so a
    deployment nobody tends keeps its stores bounded."""
    return dg.ScheduleDefinition(
        name="retention_schedule", job=retention_job, cron_schedule=cron_schedule,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Prune every growing store to its retention (FRAUD_*_RETENTION_DAYS, FRAUD_SERVED_MODELS_KEPT).")
