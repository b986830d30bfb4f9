"""clean_transactions: raw rows validated into cleaned_transactions and rejected_transactions (a multi-asset)."""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from fraud_assets.core.progress import DayProgress
from fraud_assets.core.transactions import RAW_COLUMNS, empty_cleaned_frame, rejected_rows, rejection_reasons
from fraud_assets.defs.assets.metadata import DailyTally, preview_table, stored_table
from fraud_assets.defs.names import CLEANED_TRANSACTIONS, RAW_TRANSACTIONS, REJECTED_TRANSACTIONS
from fraud_assets.defs.partitions import daily_asset_args, days_of_context
from fraud_assets.defs.resources.warehouse import ARRIVAL_ORDER, WAREHOUSE_SCHEMA, RowsInWarehouse, replace_day

CLEANED, REJECTED, RAW = CLEANED_TRANSACTIONS.path[-1], REJECTED_TRANSACTIONS.path[-1], RAW_TRANSACTIONS.path[-1]
# A raw day with each row's position in the table, so that the valid rows are copied into cleaned_transactions by
# the warehouse itself (typed to the contract by the table's column types) instead of travelling through pandas. Both
# in arrival order: the first of two repeated rows is the one kept, whatever order the engine stored them in (a
# DuckLake's does not keep the order rows were written in, nor do its row ids).
RAW_DAY_SQL = (f"SELECT rowid AS raw_rowid, {', '.join(RAW_COLUMNS)} FROM {WAREHOUSE_SCHEMA}.{RAW} WHERE day = ? "
               f"ORDER BY {', '.join(ARRIVAL_ORDER)}")
VALID_RAW_ROWS_SQL = (f"SELECT {', '.join(RAW_COLUMNS)} FROM {WAREHOUSE_SCHEMA}.{RAW} "
                      "WHERE day = ? AND rowid NOT IN (SELECT raw_rowid FROM rejected_rowids) "
                      f"ORDER BY {', '.join(ARRIVAL_ORDER)}")


def clean_transactions(context: dg.AssetExecutionContext, warehouse: DuckDBResource):
    """Validate raw rows a day at a time: every raw row ends in exactly one of cleaned_transactions and
    rejected_transactions, and a day's two tables are replaced together in one transaction."""
    days = days_of_context(context)
    progress = DayProgress(context.log, "clean_transactions: validated and stored", len(days))
    cleaned_tally, rejected_tally, reasons_of_days = DailyTally(), DailyTally(), []
    with warehouse.get_connection() as connection:
        for day in days:
            raw = connection.execute(RAW_DAY_SQL, [day]).fetchdf()
            reasons = rejection_reasons(raw)
            valid = reasons.eq("").to_numpy()
            rejected = rejected_rows(raw, reasons)
            replace_day(connection, day, {
                CLEANED: RowsInWarehouse(VALID_RAW_ROWS_SQL, [day], empty_cleaned_frame(),
                                         {"rejected_rowids": raw.loc[~valid, ["raw_rowid"]]}),
                REJECTED: rejected,
            })
            cleaned_tally.add(day, raw.loc[valid, RAW_COLUMNS] if not valid.all() else raw[RAW_COLUMNS])
            rejected_tally.add(day, rejected)
            reasons_of_days.append(rejected["rejection_reason"])
            progress.day_done(day, len(raw))
    reason_counts = pd.concat(reasons_of_days).value_counts() if reasons_of_days else pd.Series(dtype=int)
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
