"""Drift checks: the share of drifted features in the day's drift report, and the count of transactions in the
champion's high-score tail (a shift in how fraudsters behave)."""

import dagster as dg
import numpy as np
import pandas as pd
from dagster_duckdb import DuckDBResource

from fraud_assets.defs.checks.daily_results import DailyResult, daily_check, report_daily_results
from fraud_assets.defs.names import DRIFT_REPORT, FEATURE_DRIFT_CHECK, FRAUD_MODEL, SCORE_DRIFT_CHECK
from fraud_assets.defs.partitions import day_of_partition_key
from fraud_assets.defs.resources.model_registry import ModelRegistry
from fraud_assets.defs.resources.warehouse import WAREHOUSE_SCHEMA, read_stored_days, table_exists


class FeatureDriftCheckConfig(dg.Config):
    max_share_drifted: float = 0.3  # fails when this share of the monitored features (or more) has drifted


def drift_report_feature_drift_check(
    context: dg.AssetCheckExecutionContext, config: FeatureDriftCheckConfig, warehouse: DuckDBResource
) -> dg.AssetCheckResult | None:
    """The share of drifted features stays below its threshold (a population drift, such as inflated amounts or a new
    type mix). Reads the days' drift tables (a row per monitored column) from the warehouse."""
    days = [day_of_partition_key(key) for key in context.partition_keys]
    with warehouse.get_connection() as connection:
        report = (read_stored_days(connection, DRIFT_REPORT.path[-1], min(days), max(days))
                  if table_exists(connection, DRIFT_REPORT.path[-1]) else pd.DataFrame({"day": []}))
    results = {}
    for key in context.partition_keys:
        day_rows = report[report["day"] == day_of_partition_key(key)]
        if day_rows.empty:
            results[key] = DailyResult(True, {"status": "no drift report for this day (no rows, or no reference yet)",
                                              "threshold": config.max_share_drifted})
            continue
        share = float(day_rows["share_drifted"].iloc[0])
        drifted = day_rows[(day_rows["kind"] != "score") & day_rows["drifted"]]["column"].tolist()
        results[key] = DailyResult(share < config.max_share_drifted, {
            "share_drifted": share, "threshold": config.max_share_drifted,
            "drifted_features": ", ".join(drifted) or "none", "reference": str(day_rows["reference"].iloc[0])})
    return report_daily_results(context, FEATURE_DRIFT_CHECK, results)


DAY_SCORES_SQL = f"SELECT score FROM {WAREHOUSE_SCHEMA}.scored_predictions WHERE day = ?"
DAY_MODEL_VERSIONS_SQL = (f"SELECT DISTINCT model_version FROM {WAREHOUSE_SCHEMA}.scored_predictions WHERE day = ? "
                          "ORDER BY model_version")


class ScoreDriftCheckConfig(dg.Config):
    max_ratio: float = 2.0  # fails when the day's high-score count is above max_ratio times the expected count,
    min_ratio: float = 0.5  # or below min_ratio times it,
    min_z: float = 3.0  # and the gap is beyond sampling noise (Poisson z-score of the count)


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
            verdict = alert_rate_verdict(scores, champion.card.high_score_level,
                                         champion.card.expected_high_score_rate, config)
            results[key] = DailyResult(verdict.pop("passed"), {**verdict, "champion_version": champion.version,
                                                               "scored_by": ", ".join(versions)})
    return report_daily_results(context, SCORE_DRIFT_CHECK, results)


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


def build_drift_checks(partitions: dg.PartitionsDefinition) -> list[dg.AssetChecksDefinition]:
    """The checks of this area, evaluated per day of `partitions`."""
    return [
        daily_check(FEATURE_DRIFT_CHECK, partitions, drift_report_feature_drift_check),
        daily_check(SCORE_DRIFT_CHECK, partitions, scored_predictions_score_drift_check, additional_deps=[FRAUD_MODEL]),
    ]
