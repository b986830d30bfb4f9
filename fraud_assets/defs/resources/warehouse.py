"""The warehouse: the daily tables are written a day at a time, each day replaced in one transaction.

It is the DuckDB file `data/warehouse.duckdb`, or in the team deployment (FRAUD_DATABASE_URL set) a DuckLake with its
catalog in PostgreSQL that several runs write at once (`fraud_assets.core.warehouse_engine`); the code below is the
same SQL for both.

Daily assets write through `replace_day` on a connection of the `warehouse` resource: a backfill of a month holds
one day in memory, and a run killed in the middle of a write leaves every day either as it was or fully replaced
(DuckDB rolls back a transaction that was never committed when the file is next opened; a DuckLake transaction that
never committed wrote no snapshot to the catalog). A commit that conflicted with another writer's is retried.
Readers take what they need with SQL, a day or a count at a time (`read_stored_days`, `stored_rows_per_day`).

The unpartitioned assets (`reviewed_labels`, `model_performance`) go through the IO manager below: the
dagster-duckdb-pandas one, except that it replaces the whole table in one statement (so a changed set of columns
is no error, and a crash keeps the previous table) and that an empty frame still creates its table.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, TypeVar

import duckdb
import pandas as pd
from dagster import OutputContext, RetryRequested
from dagster_duckdb import DuckDBIOManager, DuckDBResource
from dagster_duckdb.io_manager import DuckDbClient
from dagster_duckdb_pandas import DuckDBPandasTypeHandler
from pydantic import Field

from fraud_assets.core.database import DatabaseUnreachable, DatabaseUrl
from fraud_assets.core.warehouse_engine import (
    WarehouseLocation,
    is_lost_connection,
    is_write_conflict,
    open_warehouse,
)
from fraud_assets.defs.dagster_compat import DbIOManager, DbTypeHandler, TableMetadataSet, TableSlice

WAREHOUSE_SCHEMA = "fraud"
DAY_COLUMN = "day"  # every daily table has it; a day is replaced by it
# The order the source delivered the transactions of raw_transactions and cleaned_transactions in (event_ts follows
# the rows of a step in their order; the id breaks the ties of rows with the same timestamp).
ARRIVAL_ORDER = ("event_ts", "transaction_id")
WRITE_ATTEMPTS = 8  # a commit that conflicted with another writer's is tried again, up to this many times in all
# A step that lost the DuckLake's catalog server (a restart, a failover) is retried whole this many times, this long
# apart; the transaction it was in never committed, so the retry starts from the stored state.
LOST_CATALOG_RETRIES = 3
LOST_CATALOG_WAIT_SECONDS = 15
LAKE_CATALOG_URL_DESCRIPTION = ("The DuckLake's catalog database (postgresql://...; give it as an EnvVar so the "
                                "password is not shown); unset: the DuckDB file `database`.")
LAKE_DATA_PATH_DESCRIPTION = "The folder (or object-storage prefix) of the DuckLake's Parquet files."

T = TypeVar("T")


def warehouse_location(database: str, lake_catalog_url: str | None, lake_data_path: str | None) -> WarehouseLocation:
    """The location the resources' config names."""
    if not lake_catalog_url:
        return WarehouseLocation(Path(database))
    return WarehouseLocation(Path(database), DatabaseUrl.parse(lake_catalog_url),
                             Path(lake_data_path) if lake_data_path else None)


class Warehouse(DuckDBResource):
    """The warehouse, for the steps that write days and the reads of a day at a time: the DuckDB file `database`, or
    the DuckLake of `lake_catalog_url` with its files under `lake_data_path`.

    Unlike the stock resource, the connection is closed when the step fails too (an open connection holds the file's
    lock until it is collected), and DuckDB's progress bar, drawn on stdout for queries over two seconds, is off: the
    runs' logs say how far a step is. A step that cannot reach the DuckLake's catalog server, or loses it midway, asks
    Dagster to retry it (LOST_CATALOG_RETRIES times, LOST_CATALOG_WAIT_SECONDS apart) before it fails."""

    lake_catalog_url: Optional[str] = Field(default=None, description=LAKE_CATALOG_URL_DESCRIPTION)
    lake_data_path: Optional[str] = Field(default=None, description=LAKE_DATA_PATH_DESCRIPTION)

    @property
    def location(self) -> WarehouseLocation:
        return warehouse_location(self.database, self.lake_catalog_url, self.lake_data_path)

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        try:
            connection = open_warehouse(self.location, self.connection_config)
        except DatabaseUnreachable as error:
            if is_lost_connection(error):
                raise retry_step() from error
            raise
        try:
            connection.execute("SET enable_progress_bar = false")
            yield connection
        except duckdb.Error as error:
            if is_lost_connection(error):
                raise retry_step() from error
            raise
        finally:
            connection.close()


def retry_step() -> RetryRequested:
    """Dagster's request to run the step again, after the catalog server was lost."""
    return RetryRequested(max_retries=LOST_CATALOG_RETRIES, seconds_to_wait=LOST_CATALOG_WAIT_SECONDS)


def retry_on_write_conflict(write: Callable[[], T], attempts: int = WRITE_ATTEMPTS) -> T:
    """Run `write` (one transaction, nothing committed when it raises) again while its commit conflicts with another
    writer's, after a growing, jittered pause; other errors, and the last conflict, are raised."""
    for attempt in range(attempts):
        try:
            return write()
        except duckdb.Error as error:
            if not is_write_conflict(error) or attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0.5, 1.0) * min(0.1 * 2 ** attempt, 5.0))
    raise AssertionError("unreachable")


def rollback_if_open(connection) -> None:
    """Roll back the open transaction; a failed commit has already ended it (DuckLake), which is no error here."""
    with suppress(duckdb.Error):
        connection.execute("ROLLBACK")


def read_stored_days(connection, table: str, first_day: int, last_day: int,
                     columns: Sequence[str] | None = None, order_by: Sequence[str] = ()) -> pd.DataFrame:
    """`columns` (default all) of a warehouse table over days first_day..last_day, typed as the IO manager loads them
    (DuckDB's fetchdf), in the order of `order_by`. Without it the order is the engine's: the DuckDB file keeps the
    order rows were written in, a DuckLake does not (it writes a day's Parquet file from several threads), so a
    reader whose result depends on the rows' order (training) names it, e.g. ARRIVAL_ORDER."""
    selected = ", ".join(f'"{column}"' for column in columns) if columns else "*"
    ordered = f" ORDER BY {', '.join(order_by)}" if order_by else ""
    return connection.execute(f"SELECT {selected} FROM {WAREHOUSE_SCHEMA}.{table} WHERE day BETWEEN ? AND ?"
                              f"{ordered}", [first_day, last_day]).fetchdf()


def stored_rows_per_day(connection, table: str, first_day: int, last_day: int) -> dict[int, int]:
    """Rows per simulation day of a warehouse table over first_day..last_day (days without rows are absent)."""
    if not table_exists(connection, table):
        return {}
    rows = connection.execute(f"SELECT day, count(*) FROM {WAREHOUSE_SCHEMA}.{table} "
                              "WHERE day BETWEEN ? AND ? GROUP BY day",
                              [first_day, last_day]).fetchall()
    return {int(day): int(count) for day, count in rows}


def table_exists(connection, table: str) -> bool:
    return bool(table_columns(connection, table))


@dataclass(frozen=True)
class RowsInWarehouse:
    """A day's rows selected by a query of the warehouse itself, so they never travel through pandas: `sql` (with
    `parameters`, and the frames of `registered` under their names) selects the rows; `typed_like`, an empty frame
    with the table's columns and dtypes, creates the table when it is missing."""

    sql: str
    parameters: list
    typed_like: pd.DataFrame
    registered: Mapping[str, pd.DataFrame] = field(default_factory=dict)


def replace_day(connection, day: int, tables: Mapping[str, pd.DataFrame | RowsInWarehouse]) -> None:
    """Replace simulation day `day` of each table (name -> the day's rows) in one transaction: every table of the
    mapping shows the old day or the new one, never a mix, and never half a day. A table is created from its first
    frame; columns are matched by name, and a column the table lacks is added to it."""
    for table, rows in tables.items():
        other_days = (set(rows[DAY_COLUMN].unique()) - {day}
                      if isinstance(rows, pd.DataFrame) and len(rows) else set())
        if other_days:
            raise ValueError(f"rows for {table} of day {day} hold rows of days {sorted(other_days)}")
    retry_on_write_conflict(lambda: write_day(connection, day, tables))


def write_day(connection, day: int, tables: Mapping[str, pd.DataFrame | RowsInWarehouse]) -> None:
    """`replace_day`'s transaction, once."""
    connection.execute("BEGIN TRANSACTION")
    try:
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {WAREHOUSE_SCHEMA}")
        for table, rows in tables.items():
            frame = rows.typed_like if isinstance(rows, RowsInWarehouse) else rows
            connection.register("day_rows", typed_for_duckdb(frame))
            connection.execute(f"CREATE TABLE IF NOT EXISTS {WAREHOUSE_SCHEMA}.{table} AS "
                               "SELECT * FROM day_rows LIMIT 0")
            add_new_columns(connection, table)
            connection.execute(f"DELETE FROM {WAREHOUSE_SCHEMA}.{table} WHERE {DAY_COLUMN} = ?", [day])
            if isinstance(rows, RowsInWarehouse):
                insert_selected_rows(connection, table, rows)
            elif len(frame):
                connection.execute(f"INSERT INTO {WAREHOUSE_SCHEMA}.{table} BY NAME SELECT * FROM day_rows")
            connection.unregister("day_rows")
        connection.execute("COMMIT")
    except BaseException:
        rollback_if_open(connection)
        raise


def insert_selected_rows(connection, table: str, rows: RowsInWarehouse) -> None:
    for name, frame in rows.registered.items():
        connection.register(name, typed_for_duckdb(frame))
    connection.execute(f"INSERT INTO {WAREHOUSE_SCHEMA}.{table} BY NAME {rows.sql}", rows.parameters)
    for name in rows.registered:
        connection.unregister(name)


def table_columns(connection, table: str) -> set[str]:
    """The columns of a warehouse table (none when it does not exist)."""
    return {row[0] for row in connection.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?",
        [WAREHOUSE_SCHEMA, table]).fetchall()}


def add_new_columns(connection, table: str) -> None:
    """Add to `table` the columns of the registered `day_rows` it lacks (a column added to an asset after days were
    stored: those days read NULL in it)."""
    stored = table_columns(connection, table)
    for name, column_type, *_ in connection.execute("DESCRIBE SELECT * FROM day_rows").fetchall():
        if name not in stored:
            connection.execute(f'ALTER TABLE {WAREHOUSE_SCHEMA}.{table} ADD COLUMN "{name}" {column_type}')


def delete_day(connection, day: int, table: str) -> None:
    """Remove simulation day `day` from a table (a day that now has no rows; nothing when the table is missing)."""
    if table_exists(connection, table):
        connection.execute(f"DELETE FROM {WAREHOUSE_SCHEMA}.{table} WHERE {DAY_COLUMN} = ?", [day])


ARCHIVED_DECISIONS_TABLE = "archived_decisions"  # the decision log's days past its retention, as logged
ARCHIVED_DECISION_DAYS_TABLE = "archived_decision_days"  # one row per day moved: its rows and when
ARCHIVED_DECISIONS_DDL = f"""
CREATE TABLE IF NOT EXISTS {WAREHOUSE_SCHEMA}.{ARCHIVED_DECISIONS_TABLE} (
    decided_on DATE NOT NULL, request_id VARCHAR NOT NULL, item_index INTEGER NOT NULL,
    transaction_id VARCHAR NOT NULL, decided_at VARCHAR NOT NULL, model_version VARCHAR NOT NULL,
    score DOUBLE NOT NULL, is_alert INTEGER NOT NULL, threshold DOUBLE NOT NULL, transaction_json VARCHAR NOT NULL,
    reasons_json VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS {WAREHOUSE_SCHEMA}.{ARCHIVED_DECISION_DAYS_TABLE} (
    decided_on DATE NOT NULL, decisions BIGINT NOT NULL, archived_at TIMESTAMP WITH TIME ZONE NOT NULL);
"""


def archive_decision_day(connection, day: str, chunks: Iterator[pd.DataFrame]) -> int:
    """Write one UTC day of the decision log (`chunks` of DECISION_COLUMNS rows) to `archived_decisions` and record
    it in `archived_decision_days`, in one transaction; the rows written. A day recorded before (a move killed
    after this commit) is not written again: 0. `decided_on` is the day the move filed a row under (its
    `decided_at`'s UTC date but for a row or two a writer flushed across midnight). Not retried on a write conflict:
    the chunks are read once (only this nightly step writes these tables)."""
    connection.execute("BEGIN TRANSACTION")
    try:
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {WAREHOUSE_SCHEMA}")
        connection.execute(ARCHIVED_DECISIONS_DDL)
        if connection.execute(f"SELECT count(*) FROM {WAREHOUSE_SCHEMA}.{ARCHIVED_DECISION_DAYS_TABLE} "
                              "WHERE decided_on = ?", [day]).fetchone()[0]:
            connection.execute("COMMIT")
            return 0
        written = 0
        for chunk in chunks:
            connection.register("decision_rows", chunk)
            connection.execute(f"INSERT INTO {WAREHOUSE_SCHEMA}.{ARCHIVED_DECISIONS_TABLE} BY NAME "
                               "SELECT CAST(? AS DATE) AS decided_on, * FROM decision_rows", [day])
            connection.unregister("decision_rows")
            written += len(chunk)
        connection.execute(f"INSERT INTO {WAREHOUSE_SCHEMA}.{ARCHIVED_DECISION_DAYS_TABLE} "
                           "VALUES (CAST(? AS DATE), ?, now())", [day, written])
        connection.execute("COMMIT")
    except BaseException:
        rollback_if_open(connection)
        raise
    return written


def archived_decision_days(connection) -> pd.DataFrame:
    """The days the archive holds (decided_on, decisions, archived_at), oldest first; empty before the first move."""
    if not table_exists(connection, ARCHIVED_DECISION_DAYS_TABLE):
        return pd.DataFrame(columns=["decided_on", "decisions", "archived_at"])
    return connection.execute(f"SELECT decided_on, decisions, archived_at FROM "
                              f"{WAREHOUSE_SCHEMA}.{ARCHIVED_DECISION_DAYS_TABLE} ORDER BY decided_on").fetchdf()


def typed_for_duckdb(frame: pd.DataFrame) -> pd.DataFrame:
    """An empty frame's object columns as strings: DuckDB cannot tell the type of an empty object column."""
    if len(frame):
        return frame
    return frame.astype({name: "string" for name, dtype in frame.dtypes.items() if dtype.kind == "O"})


class WarehouseClient(DuckDbClient):
    """The IO manager's connections: the warehouse of the IO manager's config. An output replaces its whole table in
    one statement (`WholeTablePandasTypeHandler`), so there is no slice to delete first."""

    @staticmethod
    def delete_table_slice(context, table_slice: TableSlice, connection) -> None:
        return None

    @staticmethod
    def ensure_schema_exists(context, table_slice: TableSlice, connection) -> None:
        retry_on_write_conflict(lambda: connection.execute(f"CREATE SCHEMA IF NOT EXISTS {table_slice.schema}"))

    @staticmethod
    @contextmanager
    def connect(context, table_slice) -> Iterator:
        config = context.resource_config
        location = warehouse_location(config["database"], config.get("lake_catalog_url"),
                                      config.get("lake_data_path"))
        connection = open_warehouse(location, config["connection_config"])
        try:
            yield connection
        finally:
            connection.close()


class WholeTablePandasTypeHandler(DuckDBPandasTypeHandler):
    """Writes an unpartitioned asset's frame as the whole new table (its columns may have changed since the last
    write); an empty frame still creates the table, so readers get an empty frame instead of an error."""

    def handle_output(self, context: OutputContext, table_slice: TableSlice, obj: pd.DataFrame, connection):
        if context.has_partition_key:
            raise ValueError(f"{table_slice.table} is partitioned: daily tables are written with replace_day")
        connection.register("new_table", typed_for_duckdb(obj))
        retry_on_write_conflict(lambda: connection.execute(
            f"CREATE OR REPLACE TABLE {table_slice.schema}.{table_slice.table} AS SELECT * FROM new_table"))
        connection.unregister("new_table")
        config = context.resource_config
        engine = warehouse_location(config["database"], config.get("lake_catalog_url"),
                                    config.get("lake_data_path")).engine
        context.add_output_metadata({**TableMetadataSet(row_count=len(obj), storage_kind=engine)})
        return None


class WarehouseIOManager(DuckDBIOManager):
    """The warehouse (the DuckDB file `database`, or the DuckLake of `lake_catalog_url`), schema `schema`, storing
    the unpartitioned assets' pandas DataFrames."""

    lake_catalog_url: Optional[str] = Field(default=None, description=LAKE_CATALOG_URL_DESCRIPTION)
    lake_data_path: Optional[str] = Field(default=None, description=LAKE_DATA_PATH_DESCRIPTION)

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        return [WholeTablePandasTypeHandler()]

    @staticmethod
    def default_load_type() -> type:
        return pd.DataFrame

    def create_io_manager(self, context) -> DbIOManager:
        return DbIOManager(db_client=WarehouseClient(), database=self.database, schema=self.schema_,
                           type_handlers=self.type_handlers(), default_load_type=self.default_load_type(),
                           io_manager_name="WarehouseIOManager")
