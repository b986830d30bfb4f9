"""Ingest: raw transactions from the configured source, validated into cleaned and rejected transactions."""


import time

import dagster as dg
import pandas as pd

from fraud_assets.partitions import days_of_context, simulation_day_partitions, simulation_epoch
from fraud_assets.progress import DayProgress, progress_line
from fraud_assets.resources import TransactionSource
from fraud_assets.transactions import prepare_raw_transactions, rows_per_day, validate_transactions

WAREHOUSE_POOL = "duckdb_warehouse"
DAILY_ASSET_ARGS = dict(
    partitions_def=simulation_day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
)
PARTITION_COLUMN = {"partition_expr": "event_ts"}


def _preview(frame: pd.DataFrame, rows: int = 10) -> dg.MetadataValue:
    return dg.MetadataValue.md(frame.head(rows).to_markdown(index=False))


def _per_day_table(frame: pd.DataFrame, days: list[int]) -> dg.MetadataValue:
    return dg.MetadataValue.md(rows_per_day(frame, days).to_markdown(index=False))


@dg.asset(
    **DAILY_ASSET_ARGS,
    metadata=PARTITION_COLUMN,
    group_name="ingest",
    kinds={"pandas", "duckdb"},
    description="One simulation day of transactions as the source delivered them, with a stable id and a timestamp.",
)
def raw_transactions(context: dg.AssetExecutionContext, transaction_source: TransactionSource) -> dg.Output[pd.DataFrame]:
    days = days_of_context(context)
    progress = DayProgress(context.log, "raw_transactions: generated", len(days))
    raw = prepare_raw_transactions(transaction_source.load_days(min(days), max(days), progress.day_done), simulation_epoch())
    context.log.info(f"raw_transactions: {len(raw):,} rows with ids and timestamps after {progress.seconds:.1f} s; writing them")
    return dg.Output(
        raw,
        metadata={
            **transaction_source.description(),
            **progress.metadata(),
            "days": f"{min(days)}..{max(days)}",
            "row_count": len(raw),
            "fraud_count": int((raw["isFraud"] == 1).sum()),
            "rows_per_day": _per_day_table(raw, days),
            "preview": _preview(raw),
        },
    )


@dg.multi_asset(
    **DAILY_ASSET_ARGS,
    outs={
        "cleaned_transactions": dg.AssetOut(
            metadata=PARTITION_COLUMN,
            kinds={"pandas", "duckdb"},
            description="The day's transactions that passed validation, typed to the data contract.",
        ),
        "rejected_transactions": dg.AssetOut(
            metadata=PARTITION_COLUMN,
            kinds={"pandas", "duckdb"},
            description="The day's raw rows that failed validation, kept with the reason.",
        ),
    },
    group_name="ingest",
)
def clean_transactions(context: dg.AssetExecutionContext, raw_transactions: pd.DataFrame):
    """Validate raw rows: every raw row ends in exactly one of cleaned_transactions and rejected_transactions."""
    days = days_of_context(context)
    started = time.perf_counter()
    cleaned, rejected = validate_transactions(raw_transactions)
    seconds = time.perf_counter() - started
    context.log.info(progress_line("clean_transactions: validated", len(days), len(days), max(days), len(raw_transactions),
                                   seconds) + f": {len(cleaned):,} cleaned, {len(rejected):,} rejected; writing them")
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
            "rows_per_day": _per_day_table(cleaned, days),
            "preview": _preview(cleaned),
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
            "preview": _preview(rejected),
        },
    )
