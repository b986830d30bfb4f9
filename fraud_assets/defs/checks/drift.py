"""Drift checks: the share of drifted features in the day's drift report, the fraud events in the champion's
high-score tail (a shift in how fraudsters behave empties it), and a warning when that tail fills (a fraud wave).
Each judges by the evidence it has (fraud_assets/ml/evidence.py)."""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from fraud_assets.core.served_models import ChampionModel
from fraud_assets.defs.checks.daily_results import DailyResult, daily_check, report_daily_results
from fraud_assets.defs.names import (
    DRIFT_REPORT,
    FEATURE_DRIFT_CHECK,
    FRAUD_MODEL,
    FRAUD_WAVE_CHECK,
    SCORE_DRIFT_CHECK,
)
from fraud_assets.defs.partitions import day_of_partition_key
from fraud_assets.defs.resources.model_registry import ModelRegistry
from fraud_assets.defs.resources.retrain_policy import RetrainPolicy
from fraud_assets.defs.resources.warehouse import WAREHOUSE_SCHEMA, read_stored_days, table_exists
from fraud_assets.ml.evidence import (
    TailDays,
    TailReference,
    feature_drift_verdict,
    split_tail_days,
    tail_shift_verdict,
)


class FeatureDriftCheckConfig(dg.Config):
    max_share_drifted: float = 0.3  # fails when this share of the monitored features (or more) has drifted


def drift_report_feature_drift_check(
    context: dg.AssetCheckExecutionContext, config: FeatureDriftCheckConfig, warehouse: DuckDBResource,
    retrain_policy: RetrainPolicy,
) -> dg.AssetCheckResult | None:
    """The share of drifted features stays below its threshold (a population drift, such as inflated amounts or a new
    type mix). A feature has drifted when its distance is past its threshold and its two-sample test says the day's
    sample could not show that distance by chance (`evidence.feature_drift_verdict`), at the level the false
    retrainings a year leave. Reads the days' drift tables (a row per monitored column) from the warehouse."""
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
        if "p_value" not in day_rows or day_rows["p_value"].isna().any():
            results[key] = DailyResult(True, {"status": "the stored report predates the two-sample tests: "
                                                        "materialize drift_report for this day again (it measures "
                                                        "the day anew)",
                                              "threshold": config.max_share_drifted})
            continue
        verdict = feature_drift_verdict(day_rows, config.max_share_drifted, retrain_policy.level_per_check_day)
        results[key] = DailyResult(verdict.passed, {**verdict.metadata,
                                                    "reference": str(day_rows["reference"].iloc[0])})
    return report_daily_results(context, FEATURE_DRIFT_CHECK, results)


# Per day of two ranges (a champion's first live days; the judged days and their windows): its rows scored by one
# model version, and the fraud events (distinct amounts) of its tail.
TAIL_BY_DAY_SQL = f"""
    SELECT day, count(*) AS scored_rows, count(DISTINCT amount) FILTER (WHERE score >= ?) AS tail_events,
           count(*) FILTER (WHERE score >= ?) AS tail_rows
    FROM {WAREHOUSE_SCHEMA}.scored_predictions
    WHERE (day BETWEEN ? AND ? OR day BETWEEN ? AND ?) AND model_version = ?
    GROUP BY day ORDER BY day"""
DAY_MODEL_VERSIONS_SQL = (f"SELECT DISTINCT day, model_version FROM {WAREHOUSE_SCHEMA}.scored_predictions "
                          "WHERE day BETWEEN ? AND ? ORDER BY day, model_version")


class ScoreDriftCheckConfig(dg.Config):
    min_ratio: float = 0.5  # fails when the tail holds this share of its expected fraud events or less, beyond chance
    scan_days: int = 3  # the trailing windows judged: the day alone, with the day before, ... up to this many days
    live_reference_days: int = 7  # the first days the champion scored after its window join its reference


class FraudWaveCheckConfig(dg.Config):
    max_ratio: float = 2.0  # warns when the tail holds this many times its expected fraud events or more, beyond chance
    scan_days: int = 1  # a wave is a day's: the day alone
    live_reference_days: int = 7


def scored_predictions_score_drift_check(
    context: dg.AssetCheckExecutionContext,
    config: ScoreDriftCheckConfig,
    warehouse: DuckDBResource,
    model_registry: ModelRegistry,
    retrain_policy: RetrainPolicy,
) -> dg.AssetCheckResult | None:
    """The champion's high-score tail has not emptied: the fraud it recognises still arrives.

    A change in how fraudsters behave touches about 0.1% of rows, too few for a population drift test, but it empties
    the high-score tail: the scores at or above the level where the champion's validation precision was 0.9. The
    day's fraud events there (and those of the day with the days before it, up to `scan_days` after the champion's
    window) are compared with the count of its validation days and of its first live days by an exact two-sample
    test (`evidence.split_tail_days`, `evidence.tail_shift_verdict`). A tail that fills is a fraud wave the champion
    catches, reported by `scored_predictions_fraud_wave_check`, not a reason to retrain. Reads one per-day aggregate
    of the judged days, the `scan_days - 1` days before them and the champion's `live_reference_days` first days.
    """
    return report_daily_results(context, SCORE_DRIFT_CHECK, tail_results(
        context, warehouse, model_registry, retrain_policy.level_per_check_day, config.min_ratio, config.scan_days,
        config.live_reference_days, "drop"))


def scored_predictions_fraud_wave_check(
    context: dg.AssetCheckExecutionContext,
    config: FraudWaveCheckConfig,
    warehouse: DuckDBResource,
    model_registry: ModelRegistry,
    retrain_policy: RetrainPolicy,
) -> dg.AssetCheckResult | None:
    """A warning when the champion's high-score tail fills beyond chance: more fraud the champion recognises than its
    validation days showed, a fraud wave for analysts to staff for. Never requests retraining (the champion catches
    it); an emptied tail, a fallen recall and feature drift do. Judged at the watched checks' level, so that it
    speaks as rarely by chance. Reads one per-day aggregate, as the score-drift check does."""
    results = tail_results(context, warehouse, model_registry, retrain_policy.level_per_check_day, config.max_ratio,
                           config.scan_days, config.live_reference_days, "rise")
    return report_daily_results(context, FRAUD_WAVE_CHECK, results, severity=dg.AssetCheckSeverity.WARN)


def tail_results(context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource, model_registry: ModelRegistry,
                 level: float, ratio_limit: float, scan_days: int, live_reference_days: int,
                 direction: str) -> dict[str, DailyResult]:
    """Each judged day's tail verdict against the champion's card (see `tail_shift_verdict`), from one per-day
    aggregate of the champion's first live days and the judged days with their windows."""
    champion = model_registry.load_champion()
    reference = TailReference.of_card(champion.card.high_score_reference) if champion else None
    days = [day_of_partition_key(key) for key in context.partition_keys]
    with warehouse.get_connection() as connection:
        versions = {day: [] for day in days}
        for day, version in connection.execute(DAY_MODEL_VERSIONS_SQL, [min(days), max(days)]).fetchall():
            versions.setdefault(day, []).append(version)
        by_day = pd.DataFrame(columns=["day", "scored_rows", "tail_events", "tail_rows"])
        if champion is not None and reference is not None:
            last_validation_day, level_score = champion.card.last_validation_day, champion.card.high_score_level
            by_day = connection.execute(TAIL_BY_DAY_SQL, [
                level_score, level_score, last_validation_day + 1, last_validation_day + live_reference_days,
                min(days) - scan_days + 1, max(days), champion.version]).fetchdf()
    scored = TailDays(by_day["day"].astype(int).tolist(), by_day["scored_rows"].astype(int).tolist(),
                      by_day["tail_events"].astype(int).tolist())
    tail_rows = dict(zip(scored.days, by_day["tail_rows"].astype(int)))
    results = {}
    for key, day in zip(context.partition_keys, days):
        status = tail_unjudged_status(champion, reference, versions[day])
        if status:
            results[key] = DailyResult(True, {"status": status, "evidence": status,
                                              "scored_by": ", ".join(versions[day]) or "none"})
            continue
        with_live_days, window = split_tail_days(scored, reference, day, champion.card.last_validation_day,
                                                 live_reference_days, scan_days)
        verdict = tail_shift_verdict(window, with_live_days, level, ratio_limit, direction)
        results[key] = DailyResult(verdict.passed, {
            **verdict.metadata, "tail_rows": int(tail_rows[day]),
            "score_level": round(champion.card.high_score_level, 4), "champion_version": champion.version,
            "scored_by": ", ".join(versions[day])})
    return results


def tail_unjudged_status(champion: ChampionModel | None, reference: TailReference | None,
                         versions: list[str]) -> str | None:
    """Why a day's tail cannot be judged against the champion, or None when it can."""
    if champion is None:
        return "no champion"
    if not versions:
        return "no scored rows"
    if reference is None:
        return (f"champion v{champion.version}'s card has no tail reference (trained before the checks judged by "
                "evidence): not judged until a retrained champion is promoted")
    if champion.version not in versions:
        return (f"scored by v{', v'.join(versions)}, not by the champion v{champion.version}: judged once the day is "
                "scored again")
    return None


def build_drift_checks(partitions: dg.PartitionsDefinition) -> list[dg.AssetChecksDefinition]:
    """The checks of this area, evaluated per day of `partitions`."""
    return [
        daily_check(FEATURE_DRIFT_CHECK, partitions, drift_report_feature_drift_check),
        daily_check(SCORE_DRIFT_CHECK, partitions, scored_predictions_score_drift_check, additional_deps=[FRAUD_MODEL]),
        daily_check(FRAUD_WAVE_CHECK, partitions, scored_predictions_fraud_wave_check, additional_deps=[FRAUD_MODEL]),
    ]
