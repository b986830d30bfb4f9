"""raw_transactions: the days of transactions as the source delivered them, with a stable id and a timestamp."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from fraud_assets.core.progress import DayProgress
from fraud_assets.core.settings import simulation_epoch
from fraud_assets.core.transactions import prepare_raw_transactions
from fraud_assets.defs.assets.metadata import DailyTally, stored_table
from fraud_assets.defs.partitions import daily_asset_args, days_of_context
from fraud_assets.defs.resources.transaction_source import TransactionSource
from fraud_assets.defs.resources.warehouse import replace_day

TABLE = "raw_transactions"


def raw_transactions(
    context: dg.AssetExecutionContext, transaction_source: TransactionSource, warehouse: DuckDBResource
) -> dg.MaterializeResult:
    """Each day is loaded, given ids and timestamps, and replaced in the warehouse before the next is loaded."""
    days = days_of_context(context)
    progress = DayProgress(context.log, "raw_transactions: loaded and stored", len(days))
    tally = DailyTally()
    with warehouse.get_connection() as connection:
        for day, source_rows in transaction_source.iter_days(min(days), max(days)):
            raw = prepare_raw_transactions(source_rows, simulation_epoch())
            replace_day(connection, day, {TABLE: raw})
            tally.add(day, raw)
            progress.day_done(day, len(raw))
    return dg.MaterializeResult(metadata={
        **transaction_source.description(),
        **progress.metadata(),
        "days": f"{min(days)}..{max(days)}",
        **tally.metadata(),
        **stored_table(TABLE),
    })


def build_raw_transactions(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    return dg.asset(
        **daily_asset_args(partitions),
        group_name="ingest",
        kinds={"pandas", "duckdb"},
        description="One simulation day of transactions as the source delivered them, with a stable id and a "
                    "timestamp.",
    )(raw_transactions)
