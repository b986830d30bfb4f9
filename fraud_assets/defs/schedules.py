"""The simulation clock: each tick materializes the next simulation day, the way production receives each new
day, so drift, retraining and recovery can be watched live in the UI. Stopped by default; start it in the UI."""

import dagster as dg

from fraud_assets.defs.jobs import retention_job, simulation_day_job
from fraud_assets.defs.names import RECALL_CHECK
from fraud_assets.defs.partitions import newest_cleaned_day, partition_key_of_day
from fraud_assets.defs.resources.review_policy import ReviewPolicy


def clock_run_requests(newest_day: int | None, num_days: int, label_delay_days: int) -> list[dg.RunRequest]:
    """The next day's run and, once a day's labels have matured, the recall check of that day."""
    requests = []
    next_day = 0 if newest_day is None else newest_day + 1
    if next_day < num_days:
        requests.append(dg.RunRequest(run_key=f"clock-day-{next_day}", partition_key=partition_key_of_day(next_day)))
    matured_day = None if newest_day is None else newest_day - label_delay_days
    if matured_day is not None and matured_day >= 0:
        requests.append(dg.RunRequest(run_key=f"clock-recall-check-day-{matured_day}",
                                      partition_key=partition_key_of_day(matured_day),
                                      asset_selection=[], asset_check_keys=[RECALL_CHECK]))
    return requests


def build_simulation_clock_schedule(num_days: int) -> dg.ScheduleDefinition:
    """The clock over simulation days 0..num_days-1."""

    @dg.schedule(job=simulation_day_job, cron_schedule="*/2 * * * *", default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="Simulation clock: every two minutes, the next simulation day "
                             "(start it to watch drift live).")
    def simulation_clock_schedule(context: dg.ScheduleEvaluationContext, review_policy: ReviewPolicy):
        requests = clock_run_requests(newest_cleaned_day(context.instance), num_days, review_policy.label_delay_days)
        return requests or dg.SkipReason("every simulation day has been materialized")

    return simulation_clock_schedule


def build_retention_schedule(cron_schedule: str) -> dg.ScheduleDefinition:
    """The retention job on `cron_schedule` (FRAUD_RETENTION_CRON, nightly by default); running from the start, so a
    deployment nobody tends keeps its stores bounded."""
    return dg.ScheduleDefinition(
        name="retention_schedule", job=retention_job, cron_schedule=cron_schedule,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Prune every growing store to its retention (FRAUD_*_RETENTION_DAYS, FRAUD_SERVED_MODELS_KEPT).")
