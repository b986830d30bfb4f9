"""The warehouse IO manager: dagster-duckdb-pandas, except that an empty frame still creates its table.

The stock type handler skips writing an empty frame, so a day with no rejected rows, or a label store with no
labels yet, leaves no table behind and the next reader fails. Here an empty frame creates the table with its
columns (text columns as VARCHAR), so readers get an empty frame instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from dagster import OutputContext
from dagster_duckdb import DuckDBIOManager
from dagster_duckdb_pandas import DuckDBPandasTypeHandler

from fraud_assets.defs.dagster_compat import DbTypeHandler, TableMetadataSet, TableSlice

WAREHOUSE_SCHEMA = "fraud"


def read_stored_days(connection, table: str, first_day: int, last_day: int,
                     columns: Sequence[str] | None = None) -> pd.DataFrame:
    """`columns` (default all) of a warehouse table over days first_day..last_day, in stored order, typed as the IO
    manager loads them (DuckDB's fetchdf)."""
    selected = ", ".join(f'"{column}"' for column in columns) if columns else "*"
    return connection.execute(f"SELECT {selected} FROM {WAREHOUSE_SCHEMA}.{table} WHERE day BETWEEN ? AND ?",
                              [first_day, last_day]).fetchdf()


def stored_rows_per_day(connection, table: str, first_day: int, last_day: int) -> dict[int, int]:
    """Rows per simulation day of a warehouse table over first_day..last_day (days without rows are absent)."""
    rows = connection.execute(f"SELECT day, count(*) FROM {WAREHOUSE_SCHEMA}.{table} "
                              "WHERE day BETWEEN ? AND ? GROUP BY day",
                              [first_day, last_day]).fetchall()
    return {int(day): int(count) for day, count in rows}


class EmptyTableAwarePandasTypeHandler(DuckDBPandasTypeHandler):
    def handle_output(self, context: OutputContext, table_slice: TableSlice, obj: pd.DataFrame, connection):
        if not obj.empty:
            return super().handle_output(context, table_slice, obj, connection)
        # The IO manager has already deleted the slice's old rows; only the table may be missing.
        empty_frame = obj.astype({name: "string" for name, dtype in obj.dtypes.items() if dtype.kind == "O"})
        connection.register("empty_frame", empty_frame)
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {table_slice.schema}.{table_slice.table} AS SELECT * FROM empty_frame")
        connection.unregister("empty_frame")
        context.add_output_metadata({**(
            TableMetadataSet(partition_row_count=0, storage_kind="duckdb") if context.has_partition_key
            else TableMetadataSet(row_count=0, storage_kind="duckdb"))})
        return None


class WarehouseIOManager(DuckDBIOManager):
    """DuckDB warehouse (`database`, schema `schema`) storing pandas DataFrames."""

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        return [EmptyTableAwarePandasTypeHandler()]

    @staticmethod
    def default_load_type() -> type:
        return pd.DataFrame
