"""Asset checks, evaluated per simulation day.

A single-run backfill hands a check several days at once; Dagster's own partitioned checks then record one
evaluation for the whole range. `report_daily_results` records one evaluation per day instead, each naming the
day's materialization it judged, so the asset-check view shows each day's value, threshold and status. It adds a
failed summary result when a blocking check fails on any day, so that downstream assets of the run do not execute.
"""


from dataclasses import dataclass, field

import dagster as dg
import numpy as np
import pandas as pd
from dagster._core.definitions.asset_checks.asset_check_evaluation import (  # not exported by dagster
    AssetCheckEvaluationTargetMaterializationData,
)
from dagster_duckdb import DuckDBResource

from fraud_assets.assets.ingest import WAREHOUSE_POOL
from fraud_assets.model_registry import ModelRegistry
from fraud_assets.partitions import day_of_partition_key, newest_cleaned_day, simulation_day_partitions
from fraud_assets.transactions import contract_violations
from fraud_assets.warehouse import WAREHOUSE_SCHEMA, read_stored_days, stored_rows_per_day

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
    judged = checked_materializations(context.instance, asset_key, list(results))
    for partition_key, result in results.items():
        context.op_execution_context.log_event(
            dg.AssetCheckEvaluation(
                asset_key=asset_key,
                check_name=check_name,
                passed=result.passed,
                metadata=result.metadata,
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


class RowCountCheckConfig(dg.Config):
    min_rows_per_day: int = 1


class RejectedShareCheckConfig(dg.Config):
    max_rejected_share: float = 0.01


@dg.asset_check(asset=CLEANED, partitions_def=simulation_day_partitions, blocking=True, pool=WAREHOUSE_POOL)
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
    return report_daily_results(context, CLEANED, "cleaned_transactions_contract_check", results, blocking=True)


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


@dg.asset_check(asset=CLEANED, partitions_def=simulation_day_partitions, pool=WAREHOUSE_POOL,
                additional_deps=["raw_transactions", "rejected_transactions"])
def cleaned_transactions_rejected_share_check(
    context: dg.AssetCheckExecutionContext, config: RejectedShareCheckConfig, warehouse: DuckDBResource
) -> dg.AssetCheckResult | None:
    """The share of the day's raw rows that failed validation stays below a threshold (counts, not rows, are read)."""
    raw_counts, rejected_counts = stored_counts(warehouse, ["raw_transactions", "rejected_transactions"], context.partition_keys)
    results = {}
    for key in context.partition_keys:
        day = day_of_partition_key(key)
        raw_rows, rejected = raw_counts.get(day, 0), rejected_counts.get(day, 0)
        share = rejected / raw_rows if raw_rows else 0.0
        results[key] = DailyResult(
            share <= config.max_rejected_share,
            {"rejected_share": share, "rejected_rows": rejected, "raw_rows": raw_rows, "threshold": config.max_rejected_share},
        )
    return report_daily_results(context, CLEANED, "cleaned_transactions_rejected_share_check", results)


@dg.asset_check(asset=CLEANED, partitions_def=simulation_day_partitions, pool=WAREHOUSE_POOL)
def cleaned_transactions_row_count_check(
    context: dg.AssetCheckExecutionContext, config: RowCountCheckConfig, warehouse: DuckDBResource
) -> dg.AssetCheckResult | None:
    """The day holds at least a minimum number of cleaned rows (an empty day means the source delivered nothing)."""
    (cleaned_counts,) = stored_counts(warehouse, ["cleaned_transactions"], context.partition_keys)
    results = {}
    for key in context.partition_keys:
        rows = cleaned_counts.get(day_of_partition_key(key), 0)
        results[key] = DailyResult(rows >= config.min_rows_per_day, {"row_count": rows, "threshold": config.min_rows_per_day})
    return report_daily_results(context, CLEANED, "cleaned_transactions_row_count_check", results)


ingest_checks = [
    cleaned_transactions_contract_check,
    cleaned_transactions_rejected_share_check,
    cleaned_transactions_row_count_check,
]


class FeatureDriftCheckConfig(dg.Config):
    max_share_drifted: float = 0.3  # fails when this share of the monitored features (or more) has drifted


@dg.asset_check(asset=dg.AssetKey("drift_report"), partitions_def=simulation_day_partitions, pool=WAREHOUSE_POOL)
def drift_report_feature_drift_check(
    context: dg.AssetCheckExecutionContext, config: FeatureDriftCheckConfig, drift_report: pd.DataFrame
) -> dg.AssetCheckResult | None:
    """The share of drifted features stays below its threshold (a population drift, such as inflated amounts or a new type mix)."""
    results = {}
    for key in context.partition_keys:
        day_rows = drift_report[drift_report["day"] == day_of_partition_key(key)] if len(drift_report) else drift_report
        if day_rows.empty:
            results[key] = DailyResult(True, {"status": "no drift report for this day (no rows, or no reference yet)",
                                              "threshold": config.max_share_drifted})
            continue
        share = float(day_rows["share_drifted"].iloc[0])
        drifted = day_rows[(day_rows["kind"] != "score") & day_rows["drifted"]]["column"].tolist()
        results[key] = DailyResult(share < config.max_share_drifted, {
            "share_drifted": share, "threshold": config.max_share_drifted,
            "drifted_features": ", ".join(drifted) or "none", "reference": str(day_rows["reference"].iloc[0])})
    return report_daily_results(context, dg.AssetKey("drift_report"), "drift_report_feature_drift_check", results)


DAY_SCORES_SQL = f"SELECT score FROM {WAREHOUSE_SCHEMA}.scored_predictions WHERE day = ?"
DAY_MODEL_VERSIONS_SQL = (f"SELECT DISTINCT model_version FROM {WAREHOUSE_SCHEMA}.scored_predictions WHERE day = ? "
                          "ORDER BY model_version")
DAY_SCORES_AND_LABELS_SQL = f"""
    SELECT p.score, c.isFraud
    FROM {WAREHOUSE_SCHEMA}.scored_predictions p JOIN {WAREHOUSE_SCHEMA}.cleaned_transactions c USING (transaction_id)
    WHERE p.day = ? AND c.day = ?"""


class ScoreDriftCheckConfig(dg.Config):
    max_ratio: float = 2.0  # fails when the day's high-score count is above max_ratio times the expected count,
    min_ratio: float = 0.5  # or below min_ratio times it,
    min_z: float = 3.0  # and the gap is beyond sampling noise (Poisson z-score of the count)


@dg.asset_check(asset=dg.AssetKey("scored_predictions"), partitions_def=simulation_day_partitions,
                additional_deps=["fraud_model"], pool=WAREHOUSE_POOL)
def scored_predictions_score_drift_check(
    context: dg.AssetCheckExecutionContext,
    config: ScoreDriftCheckConfig,
    warehouse: DuckDBResource,
    model_registry: ModelRegistry,
) -> dg.AssetCheckResult | None:
    """How many transactions score in the champion's high-score tail stays near what its validation days showed.

    A change in how fraudsters behave touches about 0.1% of rows, too few for a population drift test, but it
    empties (or floods) the high-score tail: the scores at or above the level where the champion's validation
    precision was 0.9, so that the daily count there follows the count of fraud the model recognises.
    Reads only the day's scores and model versions from the warehouse, a day at a time.
    """
    champion = model_registry.load_champion()
    results = {}
    with warehouse.get_connection() as connection:
        for key in context.partition_keys:
            day = day_of_partition_key(key)
            scores = connection.execute(DAY_SCORES_SQL, [day]).fetchnumpy()["score"]
            if champion is None or len(scores) == 0:
                results[key] = DailyResult(False, {"status": "no champion" if champion is None else "no scored rows"})
                continue
            versions = [row[0] for row in connection.execute(DAY_MODEL_VERSIONS_SQL, [day]).fetchall()]
            verdict = alert_rate_verdict(scores, float(champion.card["high_score_level"]),
                                         float(champion.card["expected_high_score_rate"]), config)
            results[key] = DailyResult(verdict.pop("passed"), {**verdict, "champion_version": champion.version,
                                                               "scored_by": ", ".join(versions)})
    return report_daily_results(context, dg.AssetKey("scored_predictions"), "scored_predictions_score_drift_check", results)


def alert_rate_verdict(scores: np.ndarray, level: float, expected_rate: float, config: ScoreDriftCheckConfig) -> dict:
    """Compare the count of scores at or above `level` with its expectation (a Poisson test with a ratio band)."""
    observed = int((scores >= level).sum())
    expected = max(expected_rate * len(scores), 1e-9)
    ratio = observed / expected
    z = (observed - expected) / np.sqrt(expected)
    outside = ratio > config.max_ratio or ratio < config.min_ratio
    return {"passed": not (outside and abs(z) >= config.min_z), "score_level": round(level, 4), "observed": observed,
            "expected": round(expected, 2), "ratio": round(ratio, 3), "z_score": round(float(z), 2),
            "ratio_band": f"{config.min_ratio}..{config.max_ratio}", "min_z": config.min_z}


class RecallCheckConfig(dg.Config):
    recall_floor: float = 0.6  # fails when recall at the champion's daily alert budget falls below this
    label_delay_days: int = 1
    min_fraud: int = 5  # days with fewer matured frauds are not judged (too noisy)


@dg.asset_check(asset=dg.AssetKey("scored_predictions"), partitions_def=simulation_day_partitions, pool=WAREHOUSE_POOL,
                additional_deps=["cleaned_transactions"])
def scored_predictions_recall_check(
    context: dg.AssetCheckExecutionContext,
    config: RecallCheckConfig,
    warehouse: DuckDBResource,
    model_registry: ModelRegistry,
) -> dg.AssetCheckResult | None:
    """Recall at the daily alert budget (the champion's), on the day's matured labels, stays above a floor.

    Joins the day's scores with its ground truth in the warehouse, a day at a time (two numbers per transaction)."""
    champion = model_registry.load_champion()
    budget = int(champion.card["alert_budget_per_day"]) if champion else 0
    newest_day = newest_cleaned_day(context.instance)
    results = {}
    with warehouse.get_connection() as connection:
        for key in context.partition_keys:
            day = day_of_partition_key(key)
            rows = connection.execute(DAY_SCORES_AND_LABELS_SQL, [day, day]).fetchdf()
            results[key] = recall_result(rows, day, newest_day, budget, config)
    return report_daily_results(context, dg.AssetKey("scored_predictions"), "scored_predictions_recall_check", results)


def recall_result(rows: pd.DataFrame, day: int, newest_day: int, budget: int, config: RecallCheckConfig) -> DailyResult:
    """The recall verdict of one day from its (score, isFraud) rows."""
    if day > newest_day - config.label_delay_days:
        return DailyResult(True, {"status": f"labels mature on day {day + config.label_delay_days}; not judged yet",
                                  "recall_floor": config.recall_floor})
    fraud = int(rows["isFraud"].sum())
    if fraud < config.min_fraud:
        return DailyResult(True, {"status": f"only {fraud} matured frauds; not judged", "recall_floor": config.recall_floor})
    caught = int(rows.nlargest(budget, "score")["isFraud"].sum())
    recall = caught / fraud
    return DailyResult(recall >= config.recall_floor, {
        "recall_at_budget": recall, "recall_floor": config.recall_floor, "fraud": fraud, "caught": caught,
        "alert_budget_per_day": budget})


monitoring_checks = [drift_report_feature_drift_check, scored_predictions_score_drift_check, scored_predictions_recall_check]
