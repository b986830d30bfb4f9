"""The warehouse as a DuckLake whose catalog is a real PostgreSQL database (the team deployment), through the same
resource, IO manager and functions the assets use: days replaced whole, writers in several threads at once whose
commits conflict and are retried, the IO manager's whole tables, and the errors a person sees."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from urllib.parse import quote

import dagster as dg
import duckdb
import pandas as pd
import pytest

from fraud_assets.cli.local_postgres import run_sql
from fraud_assets.core.database import DatabaseUnreachable, DatabaseUrl
from fraud_assets.core.warehouse_engine import WarehouseLocation, open_warehouse
from fraud_assets.defs.resources.warehouse import (
    ARRIVAL_ORDER,
    Warehouse,
    WarehouseIOManager,
    read_stored_days,
    replace_day,
    retry_on_write_conflict,
    stored_rows_per_day,
    table_columns,
)


def day_rows(day: int, rows: int, value: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame({"day": [day] * rows, "transaction_id": [f"{day}-{index}" for index in range(rows)],
                         "amount": [value] * rows})


@pytest.fixture
def lake(postgres_database: str, tmp_path: Path) -> WarehouseLocation:
    return WarehouseLocation(tmp_path / "unused.duckdb", DatabaseUrl.parse(postgres_database), tmp_path / "lake")


def test_days_are_replaced_whole_and_read_back_from_the_lake(lake):
    warehouse = Warehouse(database=str(lake.file), lake_catalog_url=lake.lake_catalog.url,
                          lake_data_path=str(lake.lake_data_path))
    with warehouse.get_connection() as connection:
        for day in range(3):
            replace_day(connection, day, {"transactions": day_rows(day, 50)})
        replace_day(connection, 1, {"transactions": day_rows(1, 20, value=2.0)})  # a re-run of day 1
        replace_day(connection, 2, {"transactions": day_rows(2, 30).assign(note="new")})  # a column added later
        assert stored_rows_per_day(connection, "transactions", 0, 2) == {0: 50, 1: 20, 2: 30}
        day_one = read_stored_days(connection, "transactions", 1, 1)
        assert set(day_one["amount"]) == {2.0} and len(day_one) == 20
        assert table_columns(connection, "transactions") == {"day", "transaction_id", "amount", "note"}
        assert read_stored_days(connection, "transactions", 0, 0)["note"].isna().all()
    assert not lake.file.exists()  # the DuckDB file is not the warehouse here
    assert list(lake.lake_data_path.rglob("*.parquet")), "the rows are Parquet files under the data path"


def test_a_failed_day_leaves_the_stored_day_as_it_was(lake):
    with open_warehouse(lake) as connection:
        replace_day(connection, 0, {"transactions": day_rows(0, 50)})
        broken = day_rows(0, 10).assign(amount="not a number")  # the INSERT fails after the DELETE ran
        with pytest.raises(duckdb.Error):
            replace_day(connection, 0, {"transactions": broken})
        assert stored_rows_per_day(connection, "transactions", 0, 0) == {0: 50}


def test_writers_in_several_threads_rewrite_their_days_at_once_and_every_commit_lands(lake):
    """Each writer re-writes its own days over and over: their DELETEs of the same table conflict in DuckLake, and
    `replace_day` retries until each commit lands. Rows of every day are the last version written."""
    with open_warehouse(lake) as connection:
        replace_day(connection, 0, {"transactions": day_rows(0, 5)})  # the table exists before the writers start
    errors: list[BaseException] = []

    def writer(days: list[int]) -> None:
        try:
            with open_warehouse(lake) as connection:
                for version in range(1, 6):
                    for day in days:
                        replace_day(connection, day, {"transactions": day_rows(day, 40 + version, float(version))})
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(days,)) for days in ([0, 1, 2], [3, 4, 5])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with open_warehouse(lake, read_only=True) as connection:
        assert stored_rows_per_day(connection, "transactions", 0, 5) == dict.fromkeys(range(6), 45)
        assert set(read_stored_days(connection, "transactions", 0, 5)["amount"]) == {5.0}


def test_a_conflict_is_retried_and_other_errors_are_not():
    calls = []

    def conflicting() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise duckdb.TransactionException("Failed to commit DuckLake transaction. Transaction conflict - ...")
        return "committed"

    assert retry_on_write_conflict(conflicting) == "committed" and len(calls) == 3
    with pytest.raises(duckdb.TransactionException, match="conflict"):
        retry_on_write_conflict(lambda: (_ for _ in ()).throw(
            duckdb.TransactionException("Transaction conflict - again")), attempts=2)
    with pytest.raises(duckdb.CatalogException):
        retry_on_write_conflict(lambda: (_ for _ in ()).throw(duckdb.CatalogException("no such table")))


def test_a_password_with_quotes_and_backslashes_reaches_the_catalog(postgres_cluster, postgres_database, tmp_path):
    """libpq's connection string quotes the password: the role's password is changed to one with a quote, a
    backslash, spaces and double quotes for this test, and set back after."""
    password = "it's a \\ \"tricky\" one"
    database = DatabaseUrl.parse(postgres_database)
    url = (f"postgresql://{database.user}:{quote(password, safe='')}@{database.host}:{database.port}/"
           f"{database.database}")
    alter = "ALTER ROLE \"{role}\" PASSWORD '{password}'"
    run_sql(postgres_cluster, alter.format(role=database.user, password=password.replace("'", "''")))
    try:
        location = WarehouseLocation(tmp_path / "unused.duckdb", DatabaseUrl.parse(url), tmp_path / "lake")
        assert DatabaseUrl.parse(url).password == password
        with open_warehouse(location) as connection:
            replace_day(connection, 0, {"transactions": day_rows(0, 3)})
            assert stored_rows_per_day(connection, "transactions", 0, 0) == {0: 3}
    finally:
        changed = dataclasses.replace(postgres_cluster, password=password)  # logs in with the changed password
        run_sql(changed, alter.format(role=database.user, password=postgres_cluster.password))


def test_a_wrong_password_or_another_data_path_is_one_clear_error_without_the_password(lake, tmp_path):
    with open_warehouse(lake) as connection:
        replace_day(connection, 0, {"transactions": day_rows(0, 3)})
    catalog = lake.lake_catalog
    wrong = DatabaseUrl.parse(catalog.url.replace(f":{catalog.password}@", ":not-the-password@"))
    with pytest.raises(DatabaseUnreachable) as raised:
        open_warehouse(WarehouseLocation(lake.file, wrong, lake.lake_data_path))
    message = str(raised.value)
    assert f"{catalog.host}:{catalog.port}" in message and repr(catalog.database) in message
    assert "not-the-password" not in message and "password authentication failed" in message

    elsewhere = WarehouseLocation(lake.file, catalog, tmp_path / "mounted_elsewhere")
    with pytest.raises(DatabaseUnreachable, match="does not match existing data path") as raised:
        open_warehouse(elsewhere)
    assert catalog.password not in str(raised.value)


def test_the_io_manager_stores_whole_tables_in_the_lake(lake):
    """An unpartitioned asset's frame replaces its whole table (new columns included), and loads back downstream."""
    columns = {"first": ["a", "b"], "second": ["a", "b", "c"]}
    version = {"value": "first"}

    @dg.asset
    def summary() -> pd.DataFrame:
        return pd.DataFrame({name: [1, 2, 3] for name in columns[version["value"]]})

    @dg.asset
    def summary_width(summary: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"columns": [len(summary.columns)], "rows": [len(summary)]})

    io_manager = WarehouseIOManager(database=str(lake.file), schema="fraud", lake_catalog_url=lake.lake_catalog.url,
                                    lake_data_path=str(lake.lake_data_path))
    for name in ("first", "second"):
        version["value"] = name
        result = dg.materialize([summary, summary_width], resources={"io_manager": io_manager})
        assert result.success
        metadata = result.asset_materializations_for_node("summary")[0].metadata
        assert metadata["dagster/storage_kind"].value == "ducklake"
    with open_warehouse(lake, read_only=True) as connection:
        assert connection.execute("SELECT * FROM fraud.summary_width").fetchall() == [(3, 3)]
        assert table_columns(connection, "summary") == {"a", "b", "c"}
    assert not lake.file.exists()


def test_a_day_read_in_arrival_order_comes_back_as_the_source_delivered_it(lake):
    """A DuckLake writes a day's Parquet file from several threads, so the stored order is not always the order
    written (without the ORDER BY, some of these days come back shuffled in some runs); training, whose model depends
    on the rows' order, reads in ARRIVAL_ORDER and gets the source's order back every time."""
    rows = 250_000
    with open_warehouse(lake) as connection:
        for day in range(4):
            delivered = pd.DataFrame({
                "day": [day] * rows,
                "event_ts": pd.Timestamp("2025-01-01") + pd.to_timedelta(range(rows), unit="ms"),
                "transaction_id": [f"{index * 7919 % rows:016x}" for index in range(rows)],  # not in arrival order
                "amount": range(rows),
            })
            replace_day(connection, day, {"transactions": delivered})
        for day in range(4):
            read = read_stored_days(connection, "transactions", day, day, order_by=ARRIVAL_ORDER)
            assert read["amount"].tolist() == list(range(rows)), f"day {day}"
