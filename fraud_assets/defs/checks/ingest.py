"""Checks of the ingested days: the data contract (blocking), the share of rejected rows, the row count."""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from fraud_assets.core.transactions import contract_violations
from fraud_assets.defs.checks.daily_results import DailyResult, daily_check, report_daily_results
from fraud_assets.defs.names import (
    CONTRACT_CHECK,
    RAW_TRANSACTIONS,
    REJECTED_SHARE_CHECK,
    REJECTED_TRANSACTIONS,
    ROW_COUNT_CHECK,
)
from fraud_assets.defs.partitions import day_of_partition_key
from fraud_assets.defs.resources.warehouse import read_stored_days, stored_rows_per_day


class RowCountCheckConfig(dg.Config):
    min_rows_per_day: int = 1


class RejectedShareCheckConfig(dg.Config):
    max_rejected_share: float = 0.01


def cleaned_transactions_contract_check(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource
) -> dg.AssetCheckResult | None:
    """The stored day has exactly the contract's columns and dtypes, and every row's step belongs to its day.

    Reads the stored rows a day at a time: a backfill of a month at full scale is checked in the memory of one day.
    """
    results = {}
    with warehouse.get_connection() as connection:
        for key in context.partition_keys:
            day = day_of_partition_key(key)
            day_rows = read_stored_days(connection, "cleaned_transactions", day, day)
            results[key] = contract_result(day_rows)
    return report_daily_results(context, CONTRACT_CHECK, results, blocking=True)


def contract_result(day_rows: pd.DataFrame) -> DailyResult:
    problems = contract_violations(day_rows)
    outside = int(((day_rows["step"] - 1) // 24 != day_rows["day"]).sum()) if len(day_rows) else 0
    if outside:
        problems.append(f"{outside} rows have a step outside their day")
    return DailyResult(not problems, {"violations": "; ".join(problems) or "none", "rows": len(day_rows),
                                      "columns": len(day_rows.columns)})


def stored_counts(warehouse: DuckDBResource, tables: list[str], partition_keys: list[str]) -> list[dict[int, int]]:
    """Rows per day of each table over the days of `partition_keys`, counted in the warehouse."""
    days = [day_of_partition_key(key) for key in partition_keys]
    with warehouse.get_connection() as connection:
        return [stored_rows_per_day(connection, table, min(days), max(days)) for table in tables]


def cleaned_transactions_rejected_share_check(
    context: dg.AssetCheckExecutionContext, config: RejectedShareCheckConfig, warehouse: DuckDBResource
) -> dg.AssetCheckResult | None:
    """The share of the day's raw rows that failed validation stays below a threshold (counts, not rows, are read)."""
    raw_counts, rejected_counts = stored_counts(warehouse, ["raw_transactions", "rejected_transactions"],
                                                context.partition_keys)
    results = {}
    for key in context.partition_keys:
        day = day_of_partition_key(key)
        raw_rows, rejected = raw_counts.get(day, 0), rejected_counts.get(day, 0)
        share = rejected / raw_rows if raw_rows else 0.0
        results[key] = DailyResult(
            share <= config.max_rejected_share,
            {"rejected_share": share, "rejected_rows": rejected, "raw_rows": raw_rows,
             "threshold": config.max_rejected_share},
        )
    return report_daily_results(context, REJECTED_SHARE_CHECK, results)


def cleaned_transactions_row_count_check(
    context: dg.AssetCheckExecutionContext, config: RowCountCheckConfig, warehouse: DuckDBResource
) -> dg.AssetCheckResult | None:
    """The day holds at least a minimum number of cleaned rows (an empty day means the source delivered nothing)."""
    (cleaned_counts,) = stored_counts(warehouse, ["cleaned_transactions"], context.partition_keys)
    results = {}
    for key in context.partition_keys:
        rows = cleaned_counts.get(day_of_partition_key(key), 0)
        results[key] = DailyResult(rows >= config.min_rows_per_day,
                                   {"row_count": rows, "threshold": config.min_rows_per_day})
    return report_daily_results(context, ROW_COUNT_CHECK, results)


def build_ingest_checks(partitions: dg.PartitionsDefinition) -> list[dg.AssetChecksDefinition]:
    """The checks of this area, evaluated per day of `partitions`."""
    return [
        daily_check(CONTRACT_CHECK, partitions, cleaned_transactions_contract_check, blocking=True),
        daily_check(REJECTED_SHARE_CHECK, partitions, cleaned_transactions_rejected_share_check,
                    additional_deps=[RAW_TRANSACTIONS, REJECTED_TRANSACTIONS]),
        daily_check(ROW_COUNT_CHECK, partitions, cleaned_transactions_row_count_check),
    ]
