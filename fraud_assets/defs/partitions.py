"""The simulation-day partitions shared by every daily asset, built from the Settings given.

Day 0 is `SIMULATION_START_DATE`; PaySim step `s` belongs to day `(s - 1) // 24`. `build_definitions(settings)`
builds the partitions from `settings.simulation_days`, so two Settings give two partition sets in one process.
"""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg

from fraud_assets.core.settings import SIMULATION_START_DATE
from fraud_assets.defs.dagster_compat import partition_range_tags
from fraud_assets.defs.names import CLEANED_TRANSACTIONS, WAREHOUSE_POOL


def build_simulation_day_partitions(num_days: int, today: date | None = None) -> dg.DailyPartitionsDefinition:
    """Daily partitions for days 0..num_days-1 of the simulation (the end date is exclusive).

    Dagster stops daily partitions at the wall clock's date unless told otherwise: simulation days whose dates are
    still in the future (day 705 and later in December 2026) would silently be missing. `end_offset` lets the
    partitions reach the end date; a longer horizon only adds days after the stored ones."""
    if num_days < 1:
        raise ValueError(f"the simulation needs at least one day, got num_days={num_days}")
    end = SIMULATION_START_DATE + timedelta(days=num_days)
    days_ahead = (end - (today or date.today())).days
    return dg.DailyPartitionsDefinition(
        start_date=SIMULATION_START_DATE.isoformat(), end_date=end.isoformat(), fmt="%Y-%m-%d",
        end_offset=max(days_ahead, 0),
    )


def day_of_partition_key(partition_key: str) -> int:
    """Simulation day index of a partition key such as '2025-01-05' (day 4)."""
    return (date.fromisoformat(partition_key) - SIMULATION_START_DATE).days


def partition_key_of_day(day: int) -> str:
    """Partition key of simulation day `day`."""
    return (SIMULATION_START_DATE + timedelta(days=day)).isoformat()


def newest_cleaned_day(instance: dg.DagsterInstance) -> int | None:
    """The newest simulation day with cleaned transactions: "today" for label maturity and retraining windows."""
    keys = instance.get_materialized_partitions(CLEANED_TRANSACTIONS)
    return max((day_of_partition_key(key) for key in keys), default=None)


def days_of_context(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[int]:
    """The simulation days a run covers: one for a single partition, several for a single-run backfill."""
    return [day_of_partition_key(key) for key in context.partition_keys]


def daily_asset_args(partitions: dg.PartitionsDefinition) -> dict:
    """What every daily asset shares: the partitions, one run per backfill, and the warehouse's pool."""
    return dict(partitions_def=partitions, backfill_policy=dg.BackfillPolicy.single_run(), pool=WAREHOUSE_POOL)


def day_range_tags(first_day: int, last_day: int) -> dict[str, str]:
    """Run tags that make one run cover days first_day..last_day (as a single-run backfill does)."""
    return partition_range_tags(partition_key_of_day(first_day), partition_key_of_day(last_day))
