"""The simulation clock: a sensor that materializes the next simulation day, the way production receives each new
day, so drift, retraining and recovery can be watched live in the UI, and a year can be run through the daemon.
Stopped by default; start it in the UI (Automation). Its tick is FRAUD_CLOCK_TICK_SECONDS (two minutes by default;
seconds for a benchmark), and it waits while the previous day's run is queued or running, so days never pile up."""

import dagster as dg

from fraud_assets.defs.jobs import simulation_day_job
from fraud_assets.defs.names import RECALL_CHECK
from fraud_assets.defs.partitions import newest_cleaned_day, partition_key_of_day
from fraud_assets.defs.resources.review_policy import ReviewPolicy
from fraud_assets.defs.sensors import IN_FLIGHT


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


def build_simulation_clock_sensor(num_days: int, tick_seconds: int) -> dg.SensorDefinition:
    """The clock over simulation days 0..num_days-1, ticking every `tick_seconds`."""

    @dg.sensor(job=simulation_day_job, minimum_interval_seconds=tick_seconds,
               default_status=dg.DefaultSensorStatus.STOPPED,
               description=f"Simulation clock: every {tick_seconds} s, the next simulation day once the previous "
                           "one's run has ended (start it to watch drift live).")
    def simulation_clock_sensor(context: dg.SensorEvaluationContext, review_policy: ReviewPolicy):
        if context.instance.get_run_records(dg.RunsFilter(job_name=simulation_day_job.name, statuses=IN_FLIGHT),
                                            limit=1):
            return dg.SkipReason("the previous simulation day's run has not ended yet")
        requests = clock_run_requests(newest_cleaned_day(context.instance), num_days, review_policy.label_delay_days)
        return requests or dg.SkipReason("every simulation day has been materialized")

    return simulation_clock_sensor
