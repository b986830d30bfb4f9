"""The simulation-day partitions shared by every daily asset.

Day 0 is `SIMULATION_START_DATE`; PaySim step `s` belongs to day `(s - 1) // 24`. The number of days comes from
`FRAUD_SIMULATION_DAYS` (default 31, PaySim's 743 steps).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dagster as dg

from fraud_assets.settings import SIMULATION_START_DATE, Settings


def build_simulation_day_partitions(num_days: int) -> dg.DailyPartitionsDefinition:
    """Daily partitions for days 0..num_days-1 of the simulation (the end date is exclusive)."""
    if num_days < 1:
        raise ValueError(f"the simulation needs at least one day, got num_days={num_days}")
    end = SIMULATION_START_DATE + timedelta(days=num_days)
    return dg.DailyPartitionsDefinition(
        start_date=SIMULATION_START_DATE.isoformat(), end_date=end.isoformat(), fmt="%Y-%m-%d"
    )


simulation_day_partitions = build_simulation_day_partitions(Settings.from_env().simulation_days)


def day_of_partition_key(partition_key: str) -> int:
    """Simulation day index of a partition key such as '2025-01-05' (day 4)."""
    return (date.fromisoformat(partition_key) - SIMULATION_START_DATE).days


def partition_key_of_day(day: int) -> str:
    """Partition key of simulation day `day`."""
    return (SIMULATION_START_DATE + timedelta(days=day)).isoformat()


def simulation_epoch() -> datetime:
    """Midnight of day 0 as a naive timestamp (DuckDB TIMESTAMP columns are naive)."""
    return datetime.combine(SIMULATION_START_DATE, datetime.min.time())


def newest_cleaned_day(instance: dg.DagsterInstance) -> int | None:
    """The newest simulation day with cleaned transactions: "today" for label maturity and retraining windows."""
    keys = instance.get_materialized_partitions(dg.AssetKey("cleaned_transactions"))
    return max((day_of_partition_key(key) for key in keys), default=None)


def days_of_context(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[int]:
    """The simulation days a run covers: one for a single partition, several for a single-run backfill."""
    return [day_of_partition_key(key) for key in context.partition_keys]
