"""Asset checks, evaluated per simulation day.

A single-run backfill hands a check several days at once; Dagster's own partitioned checks then record one
evaluation for the whole range. `report_daily_results` records one evaluation per day instead, so the
asset-check view shows each day's value and threshold, and adds a failed summary result when a blocking check
fails on any day, so that downstream assets of the run do not execute.
"""


from dataclasses import dataclass, field

import dagster as dg
import pandas as pd

from fraud_assets.partitions import day_of_partition_key, simulation_day_partitions
from fraud_assets.transactions import contract_violations

CLEANED = dg.AssetKey("cleaned_transactions")


@dataclass(frozen=True)
class DailyResult:
    passed: bool
    metadata: dict = field(default_factory=dict)


def report_daily_results(
    context: dg.AssetCheckExecutionContext,
    asset_key: dg.AssetKey,
    check_name: str,
    results: dict[str, DailyResult],
    blocking: bool = False,
) -> dg.AssetCheckResult | None:
    """Record one check evaluation per partition key in `results` (see the module docstring)."""
    if context.has_partition_key:  # a run of one partition key: Dagster records the partition itself
        (result,) = results.values()
        return dg.AssetCheckResult(passed=result.passed, metadata=result.metadata)
    for partition_key, result in results.items():
        context.op_execution_context.log_event(
            dg.AssetCheckEvaluation(
                asset_key=asset_key,
                check_name=check_name,
                passed=result.passed,
                metadata=result.metadata,
                partition=partition_key,
            )
        )
    failed_days = [key for key, result in results.items() if not result.passed]
    if blocking and failed_days:
        return dg.AssetCheckResult(passed=False, metadata={"failed_days": ", ".join(failed_days)})
    return None


def _frames_by_key(frame: pd.DataFrame, partition_keys: list[str]) -> dict[str, pd.DataFrame]:
    groups = dict(tuple(frame.groupby("day"))) if len(frame) else {}
    empty = frame.iloc[0:0]
    return {key: groups.get(day_of_partition_key(key), empty) for key in partition_keys}


class RowCountCheckConfig(dg.Config):
    min_rows_per_day: int = 1


class RejectedShareCheckConfig(dg.Config):
    max_rejected_share: float = 0.01


@dg.asset_check(asset=CLEANED, partitions_def=simulation_day_partitions, blocking=True)
def cleaned_transactions_contract_check(
    context: dg.AssetCheckExecutionContext, cleaned_transactions: pd.DataFrame
) -> dg.AssetCheckResult | None:
    """The stored day has exactly the contract's columns and dtypes, and every row's step belongs to its day."""
    results = {}
    for key, day_rows in _frames_by_key(cleaned_transactions, context.partition_keys).items():
        problems = contract_violations(day_rows)
        outside = int(((day_rows["step"] - 1) // 24 != day_rows["day"]).sum()) if len(day_rows) else 0
        if outside:
            problems.append(f"{outside} rows have a step outside their day")
        results[key] = DailyResult(not problems, {"violations": "; ".join(problems) or "none", "columns": len(day_rows.columns)})
    return report_daily_results(context, CLEANED, "cleaned_transactions_contract_check", results, blocking=True)


@dg.asset_check(
    asset=CLEANED,
    partitions_def=simulation_day_partitions,
    additional_ins={"raw_days": dg.AssetIn("raw_transactions", metadata={"columns": ["day"]})},
)
def cleaned_transactions_rejected_share_check(
    context: dg.AssetCheckExecutionContext,
    config: RejectedShareCheckConfig,
    cleaned_transactions: pd.DataFrame,
    raw_days: pd.DataFrame,
) -> dg.AssetCheckResult | None:
    """The share of the day's raw rows that failed validation stays below a threshold."""
    cleaned_counts = cleaned_transactions["day"].value_counts()
    raw_counts = raw_days["day"].value_counts()
    results = {}
    for key in context.partition_keys:
        raw_rows = int(raw_counts.get(day_of_partition_key(key), 0))
        rejected = raw_rows - int(cleaned_counts.get(day_of_partition_key(key), 0))
        share = rejected / raw_rows if raw_rows else 0.0
        results[key] = DailyResult(
            share <= config.max_rejected_share,
            {"rejected_share": share, "rejected_rows": rejected, "raw_rows": raw_rows, "threshold": config.max_rejected_share},
        )
    return report_daily_results(context, CLEANED, "cleaned_transactions_rejected_share_check", results)


@dg.asset_check(asset=CLEANED, partitions_def=simulation_day_partitions)
def cleaned_transactions_row_count_check(
    context: dg.AssetCheckExecutionContext, config: RowCountCheckConfig, cleaned_transactions: pd.DataFrame
) -> dg.AssetCheckResult | None:
    """The day holds at least a minimum number of cleaned rows (an empty day means the source delivered nothing)."""
    counts = cleaned_transactions["day"].value_counts()
    results = {
        key: DailyResult(
            int(counts.get(day_of_partition_key(key), 0)) >= config.min_rows_per_day,
            {"row_count": int(counts.get(day_of_partition_key(key), 0)), "threshold": config.min_rows_per_day},
        )
        for key in context.partition_keys
    }
    return report_daily_results(context, CLEANED, "cleaned_transactions_row_count_check", results)


ingest_checks = [
    cleaned_transactions_contract_check,
    cleaned_transactions_rejected_share_check,
    cleaned_transactions_row_count_check,
]
