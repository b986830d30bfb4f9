"""clean_transactions: raw rows validated into cleaned_transactions and rejected_transactions (a multi-asset)."""

import time

import dagster as dg
import pandas as pd

from fraud_assets.core.progress import progress_line
from fraud_assets.core.transactions import validate_transactions
from fraud_assets.defs.assets.metadata import preview_table, rows_per_day_table
from fraud_assets.defs.partitions import PARTITION_COLUMN_METADATA, daily_asset_args, days_of_context


def clean_transactions(context: dg.AssetExecutionContext, raw_transactions: pd.DataFrame):
    """Validate raw rows: every raw row ends in exactly one of cleaned_transactions and rejected_transactions."""
    days = days_of_context(context)
    started = time.perf_counter()
    cleaned, rejected = validate_transactions(raw_transactions)
    seconds = time.perf_counter() - started
    context.log.info(progress_line("clean_transactions: validated", len(days), len(days), max(days),
                                   len(raw_transactions), seconds)
                     + f": {len(cleaned):,} cleaned, {len(rejected):,} rejected; writing them")
    reason_counts = rejected["rejection_reason"].value_counts()
    yield dg.Output(
        cleaned,
        output_name="cleaned_transactions",
        metadata={
            "days": f"{min(days)}..{max(days)}",
            "row_count": len(cleaned),
            "fraud_count": int(cleaned["isFraud"].sum()),
            "rejected_count": len(rejected),
            "validation_seconds": round(seconds, 2),
            "rows_per_day": rows_per_day_table(cleaned, days),
            "preview": preview_table(cleaned),
        },
    )
    yield dg.Output(
        rejected,
        output_name="rejected_transactions",
        metadata={
            "days": f"{min(days)}..{max(days)}",
            "row_count": len(rejected),
            "raw_row_count": len(raw_transactions),
            "reasons": dg.MetadataValue.md(reason_counts.rename("rows").to_frame().to_markdown()),
            "preview": preview_table(rejected),
        },
    )


def build_clean_transactions(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    return dg.multi_asset(
        **daily_asset_args(partitions),
        outs={
            "cleaned_transactions": dg.AssetOut(
                metadata=PARTITION_COLUMN_METADATA,
                kinds={"pandas", "duckdb"},
                description="The day's transactions that passed validation, typed to the data contract.",
            ),
            "rejected_transactions": dg.AssetOut(
                metadata=PARTITION_COLUMN_METADATA,
                kinds={"pandas", "duckdb"},
                description="The day's raw rows that failed validation, kept with the reason.",
            ),
        },
        group_name="ingest",
    )(clean_transactions)
