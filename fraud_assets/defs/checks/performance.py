"""Performance check: recall at the champion's daily alert budget on each day's matured ground truth."""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from fraud_assets.defs.checks.daily_results import DailyResult, daily_check, report_daily_results
from fraud_assets.defs.names import CLEANED_TRANSACTIONS, RECALL_CHECK
from fraud_assets.defs.partitions import day_of_partition_key, newest_cleaned_day
from fraud_assets.defs.resources.review_policy import ReviewPolicy
from fraud_assets.defs.resources.warehouse import WAREHOUSE_SCHEMA

DAY_SCORES_AND_LABELS_SQL = f"""
    SELECT p.score, c.isFraud
    FROM {WAREHOUSE_SCHEMA}.scored_predictions p JOIN {WAREHOUSE_SCHEMA}.cleaned_transactions c USING (transaction_id)
    WHERE p.day = ? AND c.day = ?"""


class RecallCheckConfig(dg.Config):
    recall_floor: float = 0.6  # fails when recall at the day's alert budget falls below this
    min_fraud: int = 5  # days with fewer matured frauds are not judged (too noisy)


def scored_predictions_recall_check(
    context: dg.AssetCheckExecutionContext,
    config: RecallCheckConfig,
    warehouse: DuckDBResource,
    review_policy: ReviewPolicy,
) -> dg.AssetCheckResult | None:
    """Recall at the day's alert budget (its highest scores, as many as the analysts review for its volume), on the
    day's matured labels, stays above a floor.

    Joins the day's scores with its ground truth in the warehouse, a day at a time (two numbers per transaction)."""
    newest_day = newest_cleaned_day(context.instance)
    results = {}
    with warehouse.get_connection() as connection:
        for key in context.partition_keys:
            day = day_of_partition_key(key)
            rows = connection.execute(DAY_SCORES_AND_LABELS_SQL, [day, day]).fetchdf()
            budget = review_policy.daily_alert_budget(len(rows))
            results[key] = recall_result(rows, day, newest_day, budget, review_policy.label_delay_days, config)
    return report_daily_results(context, RECALL_CHECK, results)


def recall_result(rows: pd.DataFrame, day: int, newest_day: int, budget: int, label_delay_days: int,
                  config: RecallCheckConfig) -> DailyResult:
    """The recall verdict of one day from its (score, isFraud) rows."""
    if day > newest_day - label_delay_days:
        return DailyResult(True, {"status": f"labels mature on day {day + label_delay_days}; not judged yet",
                                  "recall_floor": config.recall_floor})
    fraud = int(rows["isFraud"].sum())
    if fraud < config.min_fraud:
        return DailyResult(True, {"status": f"only {fraud} matured frauds; not judged",
                                  "recall_floor": config.recall_floor})
    caught = int(rows.nlargest(budget, "score")["isFraud"].sum())
    recall = caught / fraud
    return DailyResult(recall >= config.recall_floor, {
        "recall_at_budget": recall, "recall_floor": config.recall_floor, "fraud": fraud, "caught": caught,
        "alert_budget": budget})


def build_performance_checks(partitions: dg.PartitionsDefinition) -> list[dg.AssetChecksDefinition]:
    """The checks of this area, evaluated per day of `partitions`."""
    return [
        daily_check(RECALL_CHECK, partitions, scored_predictions_recall_check, additional_deps=[CLEANED_TRANSACTIONS]),
    ]
