"""Exports for the label app: Parquet files per day, written atomically (see fraud_assets/exports.py)."""

import dagster as dg
import pandas as pd

from fraud_assets.assets.ingest import DAILY_ASSET_ARGS
from fraud_assets.exports import daily_summary, day_file, review_rows, write_parquet_atomically
from fraud_assets.partitions import days_of_context
from fraud_assets.resources import AppExports

EXPORT_TRANSACTION_COLUMNS = ["transaction_id", "oldbalanceOrg", "newbalanceOrig", "oldbalanceDest", "newbalanceDest", "isFraud"]


class ReviewExportConfig(dg.Config):
    label_delay_days: int = 1


@dg.asset(
    **DAILY_ASSET_ARGS,
    ins={"scored_predictions": dg.AssetIn(), "cleaned_transactions": dg.AssetIn(metadata={"columns": EXPORT_TRANSACTION_COLUMNS})},
    group_name="exports",
    kinds={"parquet"},
    description="The day's alerts (and missed frauds) with reasons, and a daily summary, as Parquet for the label app.",
)
def review_export(
    context: dg.AssetExecutionContext,
    config: ReviewExportConfig,
    scored_predictions: pd.DataFrame,
    cleaned_transactions: pd.DataFrame,
    app_exports: AppExports,
) -> dg.MaterializeResult:
    review = review_rows(scored_predictions, cleaned_transactions, config.label_delay_days)
    summary = daily_summary(scored_predictions)
    days = days_of_context(context)
    for day in days:
        write_parquet_atomically(review[review["day"] == day], day_file(app_exports.path, "review", day))
        write_parquet_atomically(summary[summary["day"] == day], day_file(app_exports.path, "summary", day))
    return dg.MaterializeResult(metadata={
        "exports_dir": dg.MetadataValue.path(str(app_exports.path)),
        "days": f"{min(days)}..{max(days)}",
        "alert_rows": int(review["is_alert"].sum()),
        "missed_fraud_rows": int((~review["is_alert"]).sum()),
    })
