"""review_export: Parquet files per day for the label app, written atomically (the contract is in
fraud_assets/core/review_export.py)."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from fraud_assets.core.review_export import daily_summary, day_file, review_rows, write_parquet_atomically
from fraud_assets.defs.names import CLEANED_TRANSACTIONS, SCORED_PREDICTIONS
from fraud_assets.defs.partitions import daily_asset_args, days_of_context
from fraud_assets.defs.resources.review_policy import ReviewPolicy
from fraud_assets.defs.resources.stores import AppExports
from fraud_assets.defs.resources.warehouse import WAREHOUSE_SCHEMA

BALANCE_COLUMNS = ["oldbalanceOrg", "newbalanceOrig", "oldbalanceDest", "newbalanceDest", "isFraud"]
# The rows worth reviewing (alerts, and frauds the model missed) are chosen in the warehouse: a month at full scale
# is 6.4 million predictions, of which a few thousand are exported. Both are read a day at a time.
REVIEW_CANDIDATES_SQL = f"""
    SELECT p.*, {", ".join(f"c.{column}" for column in BALANCE_COLUMNS)}
    FROM {WAREHOUSE_SCHEMA}.scored_predictions p JOIN {WAREHOUSE_SCHEMA}.cleaned_transactions c USING (transaction_id)
    WHERE p.day = ? AND c.day = ? AND (p.is_alert OR c.isFraud = 1)"""
SUMMARY_INPUT_SQL = f"""
    SELECT day, model_version, threshold, score, is_alert FROM {WAREHOUSE_SCHEMA}.scored_predictions
    WHERE day = ?"""


def review_export(
    context: dg.AssetExecutionContext,
    warehouse: DuckDBResource,
    app_exports: AppExports,
    review_policy: ReviewPolicy,
) -> dg.MaterializeResult:
    """A day at a time: the day's review rows are chosen in the warehouse, its summary from its scores."""
    days = days_of_context(context)
    scored_rows = alert_rows = missed_fraud_rows = 0
    with warehouse.get_connection() as connection:
        for day in days:
            candidates = connection.execute(REVIEW_CANDIDATES_SQL, [day, day]).fetchdf()
            scores = connection.execute(SUMMARY_INPUT_SQL, [day]).fetchdf()
            review = review_rows(candidates.drop(columns=BALANCE_COLUMNS),
                                 candidates[["transaction_id", *BALANCE_COLUMNS]], review_policy.label_delay_days)
            write_parquet_atomically(review, day_file(app_exports.path, "review", day))
            write_parquet_atomically(daily_summary(scores, review_policy.daily_alert_budget),
                                     day_file(app_exports.path, "summary", day))
            scored_rows += len(scores)
            alert_rows += int(review["is_alert"].sum())
            missed_fraud_rows += int((~review["is_alert"]).sum())
    return dg.MaterializeResult(metadata={
        "exports_dir": dg.MetadataValue.path(str(app_exports.path)),
        "days": f"{min(days)}..{max(days)}",
        "scored_rows": scored_rows,
        "alert_rows": alert_rows,
        "missed_fraud_rows": missed_fraud_rows,
    })


def build_review_export(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    return dg.asset(
        **daily_asset_args(partitions),
        deps=[SCORED_PREDICTIONS, CLEANED_TRANSACTIONS],
        group_name="exports",
        kinds={"parquet"},
        description="The day's alerts (and missed frauds) with reasons, and a daily summary, as Parquet for the "
                    "label app.",
    )(review_export)
