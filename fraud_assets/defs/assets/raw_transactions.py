"""raw_transactions: the days of transactions as the source delivered them, with a stable id and a timestamp."""

import dagster as dg
import pandas as pd

from fraud_assets.core.progress import DayProgress
from fraud_assets.core.settings import simulation_epoch
from fraud_assets.core.transactions import prepare_raw_transactions
from fraud_assets.defs.assets.metadata import preview_table, rows_per_day_table
from fraud_assets.defs.partitions import PARTITION_COLUMN_METADATA, daily_asset_args, days_of_context
from fraud_assets.defs.resources.transaction_source import TransactionSource


def raw_transactions(
    context: dg.AssetExecutionContext, transaction_source: TransactionSource
) -> dg.Output[pd.DataFrame]:
    days = days_of_context(context)
    progress = DayProgress(context.log, "raw_transactions: generated", len(days))
    raw = prepare_raw_transactions(transaction_source.load_days(min(days), max(days), progress.day_done),
                                   simulation_epoch())
    context.log.info(f"raw_transactions: {len(raw):,} rows with ids and timestamps after {progress.seconds:.1f} s; "
                     "writing them")
    return dg.Output(
        raw,
        metadata={
            **transaction_source.description(),
            **progress.metadata(),
            "days": f"{min(days)}..{max(days)}",
            "row_count": len(raw),
            "fraud_count": int((raw["isFraud"] == 1).sum()),
            "rows_per_day": rows_per_day_table(raw, days),
            "preview": preview_table(raw),
        },
    )


def build_raw_transactions(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    return dg.asset(
        **daily_asset_args(partitions),
        metadata=PARTITION_COLUMN_METADATA,
        group_name="ingest",
        kinds={"pandas", "duckdb"},
        description="One simulation day of transactions as the source delivered them, with a stable id and a "
                    "timestamp.",
    )(raw_transactions)
