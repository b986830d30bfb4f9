"""clean_transactions: raw rows validated into cleaned_transactions and rejected_transactions (a multi-asset)."""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from fraud_assets.core.progress import DayProgress
from fraud_assets.core.transactions import validate_transactions
from fraud_assets.defs.assets.metadata import DailyTally, preview_table, stored_table
from fraud_assets.defs.names import CLEANED_TRANSACTIONS, RAW_TRANSACTIONS, REJECTED_TRANSACTIONS
from fraud_assets.defs.partitions import daily_asset_args, days_of_context
from fraud_assets.defs.resources.warehouse import read_stored_days, replace_day

CLEANED, REJECTED = CLEANED_TRANSACTIONS.path[-1], REJECTED_TRANSACTIONS.path[-1]


def clean_transactions(context: dg.AssetExecutionContext, warehouse: DuckDBResource):
    """Validate raw rows a day at a time: every raw row ends in exactly one of cleaned_transactions and
    rejected_transactions, and a day's two tables are replaced together in one transaction."""
    days = days_of_context(context)
    progress = DayProgress(context.log, "clean_transactions: validated and stored", len(days))
    cleaned_tally, rejected_tally, reasons = DailyTally(), DailyTally(), []
    with warehouse.get_connection() as connection:
        for day in days:
            cleaned, rejected = validate_transactions(
                read_stored_days(connection, RAW_TRANSACTIONS.path[-1], day, day))
            replace_day(connection, day, {CLEANED: cleaned, REJECTED: rejected})
            cleaned_tally.add(day, cleaned)
            rejected_tally.add(day, rejected)
            reasons.append(rejected["rejection_reason"])
            progress.day_done(day, len(cleaned) + len(rejected))
    reason_counts = pd.concat(reasons).value_counts() if reasons else pd.Series(dtype=int)
    context.log.info(f"clean_transactions: {cleaned_tally.rows:,} cleaned, {rejected_tally.rows:,} rejected")
    yield dg.MaterializeResult(asset_key=CLEANED_TRANSACTIONS, metadata={
        "days": f"{min(days)}..{max(days)}",
        **cleaned_tally.metadata(),
        "rejected_count": rejected_tally.rows,
        **progress.metadata(),
        **stored_table(CLEANED),
    })
    yield dg.MaterializeResult(asset_key=REJECTED_TRANSACTIONS, metadata={
        "days": f"{min(days)}..{max(days)}",
        "row_count": rejected_tally.rows,
        "raw_row_count": cleaned_tally.rows + rejected_tally.rows,
        "reasons": dg.MetadataValue.md(reason_counts.rename("rows").to_frame().to_markdown()),
        "rows_per_day": dg.MetadataValue.md(rejected_tally.table().to_markdown(index=False)),
        "preview": preview_table(rejected_tally.preview if rejected_tally.preview is not None else pd.DataFrame()),
        **stored_table(REJECTED),
    })


def build_clean_transactions(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    return dg.multi_asset(
        **daily_asset_args(partitions),
        specs=[
            dg.AssetSpec(CLEANED_TRANSACTIONS, deps=[RAW_TRANSACTIONS], kinds={"pandas", "duckdb"},
                         description="The day's transactions that passed validation, typed to the data contract."),
            dg.AssetSpec(REJECTED_TRANSACTIONS, deps=[RAW_TRANSACTIONS], kinds={"pandas", "duckdb"},
                         description="The day's raw rows that failed validation, kept with the reason."),
        ],
        group_name="ingest",
        name="clean_transactions",
    )(clean_transactions)
