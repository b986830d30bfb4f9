"""Per-day reporting shared by every check.

A single-run backfill hands a check several days at once; Dagster's own partitioned checks then record one
evaluation for the whole range. `report_daily_results` records one evaluation per day instead, each naming the
day's materialization it judged, so the asset-check view shows each day's value, threshold and status. It adds a
failed summary result when a blocking check fails on any day, so that downstream assets of the run do not execute.
"""

from dataclasses import dataclass, field

import dagster as dg

from fraud_assets.defs.dagster_compat import AssetCheckEvaluationTargetMaterializationData
from fraud_assets.defs.names import WAREHOUSE_POOL


@dataclass(frozen=True)
class DailyResult:
    passed: bool
    metadata: dict = field(default_factory=dict)


def report_daily_results(
    context: dg.AssetCheckExecutionContext,
    check: dg.AssetCheckKey,
    results: dict[str, DailyResult],
    blocking: bool = False,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult | None:
    """Record one evaluation of `check` per partition key in `results` (see the module docstring); a failure has
    `severity` (WARN: shown, never a reason to stop or retrain)."""
    if context.has_partition_key:  # a run of one partition key: Dagster records the partition itself
        (result,) = results.values()
        return dg.AssetCheckResult(passed=result.passed, metadata=result.metadata, severity=severity)
    judged = checked_materializations(context.instance, check.asset_key, list(results))
    for partition_key, result in results.items():
        context.op_execution_context.log_event(
            dg.AssetCheckEvaluation(
                asset_key=check.asset_key,
                check_name=check.name,
                passed=result.passed,
                metadata=result.metadata,
                severity=severity,
                partition=partition_key,
                target_materialization_data=judged.get(partition_key),
            )
        )
    failed_days = [key for key, result in results.items() if not result.passed]
    if blocking and failed_days:
        return dg.AssetCheckResult(passed=False, metadata={"failed_days": ", ".join(failed_days)})
    return None


def checked_materializations(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, partition_keys: list[str]
) -> dict[str, AssetCheckEvaluationTargetMaterializationData]:
    """Each day's newest materialization, which that day's evaluation judges (days never materialized are absent).

    Dagster shows a day's check status (the check's Partitions tab, the asset's partition view) only while the
    evaluation targets the day's newest materialization; without it every evaluated day shows as missing. Dagster
    fills it in for a check run on one partition key, not for evaluations logged for the days of a range.
    """
    newest: dict[str, dg.EventLogRecord] = {}
    records_filter = dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=list(partition_keys))
    cursor = None
    while len(newest) < len(partition_keys):  # newest first, in pages: usually one page holds every day
        page = instance.fetch_materializations(records_filter, limit=1000, cursor=cursor)
        for record in page.records:
            newest.setdefault(record.partition_key, record)
        if not page.has_more:
            break
        cursor = page.cursor
    return {key: AssetCheckEvaluationTargetMaterializationData(
        storage_id=record.storage_id, run_id=record.event_log_entry.run_id, timestamp=record.timestamp)
        for key, record in newest.items()}


def daily_check(
    check: dg.AssetCheckKey, partitions: dg.PartitionsDefinition, evaluate, **kwargs
) -> dg.AssetChecksDefinition:
    """`evaluate` as the check `check`, evaluated per day of `partitions`; every check reads the warehouse, so every
    check is in its pool."""
    return dg.asset_check(asset=check.asset_key, name=check.name, partitions_def=partitions, pool=WAREHOUSE_POOL,
                          **kwargs)(evaluate)
