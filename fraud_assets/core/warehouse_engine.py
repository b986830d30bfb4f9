"""Where the warehouse lives, and a DuckDB connection to it: one file on this machine, or a DuckLake for a team.

- Embedded (FRAUD_DATABASE_URL unset): the DuckDB file `data/warehouse.duckdb`. One process holds it at a time,
  readers included, so every step that opens it is in the `duckdb_warehouse` pool, limited to 1.
- Team (FRAUD_DATABASE_URL set): a DuckLake. Its catalog (which tables exist, which Parquet files hold which
  snapshot) is a set of tables in the same PostgreSQL database as Dagster's, in their own schema; its Parquet files
  are under the shared path (`FRAUD_SHARED_DIR/warehouse_lake`, object storage in a real deployment). Any number of
  processes on any number of machines attach it and read or write at once; PostgreSQL orders their commits. Two
  transactions that changed the same table in incompatible ways (both deleted from it, or both created or altered it)
  do not both commit: the second fails with a conflict and its writer retries it (`is_write_conflict`).

Both are DuckDB connections whose default catalog holds the schema `fraud`, so every query is the same SQL. The
DuckLake and postgres extensions come from PyPI wheels (`duckdb-extension-ducklake`, `duckdb-extension-postgres`)
built for one DuckDB version, which is why pyproject pins duckdb exactly.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from fraud_assets.core.database import DatabaseUnreachable, DatabaseUrl

LAKE_CATALOG_SCHEMA = "fraud_lake"  # the PostgreSQL schema of DuckLake's catalog tables, beside Dagster's in public
LAKE_ALIAS = "lake"


@dataclass(frozen=True)
class WarehouseLocation:
    """The DuckDB file, or (when `lake_catalog` is set) DuckLake's catalog database and data path."""

    file: Path
    lake_catalog: DatabaseUrl | None = None
    lake_data_path: Path | None = None

    def __post_init__(self) -> None:
        if self.lake_catalog is not None and self.lake_data_path is None:
            raise ValueError("a DuckLake warehouse needs the data path of its Parquet files")

    @property
    def engine(self) -> str:
        return "ducklake" if self.lake_catalog is not None else "duckdb"

    def describe(self) -> str:
        """For logs and summaries (never the password)."""
        if self.lake_catalog is None:
            return str(self.file)
        return (f"DuckLake (catalog in {self.lake_catalog.masked_url}, schema {LAKE_CATALOG_SCHEMA}; "
                f"files under {self.lake_data_path})")


def open_warehouse(location: WarehouseLocation, config: Mapping[str, object] | None = None,
                   read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection whose default catalog is the warehouse. The DuckDB file is opened when its lock is free
    (retrying while another process holds it); a DuckLake is attached, and an unreachable catalog raises
    DatabaseUnreachable naming host and database, never the password."""
    if location.lake_catalog is None:
        return connect_when_free(str(location.file), config or {}, read_only=read_only)
    spill = Path(tempfile.gettempdir()) / "fraud_duckdb_spill"  # where a query past the memory limit spills
    connection = duckdb.connect(config={"temp_directory": str(spill), **(config or {})})
    try:
        load_lake_extensions(connection)
        attach_lake(connection, location.lake_catalog, location.lake_data_path, read_only)
    except BaseException:
        connection.close()
        raise
    return connection


def connect_when_free(database: str, config: Mapping[str, object], read_only: bool = False,
                      attempts: int = 10) -> duckdb.DuckDBPyConnection:
    """Open the file, retrying while another process holds its lock (about 100 s in all, as dagster-duckdb does)."""
    for attempt in range(attempts):
        try:
            return duckdb.connect(database, read_only=read_only, config=dict(config))
        except duckdb.IOException:
            if attempt == attempts - 1:
                raise
            time.sleep(min(0.2 * 2 ** attempt, 30.0))
    raise AssertionError("unreachable")


def attach_lake(connection: duckdb.DuckDBPyConnection, catalog: DatabaseUrl, data_path: Path,
                read_only: bool = False) -> None:
    """Attach the DuckLake as `lake` and make it the default catalog. DuckLake records the data path in its catalog
    when it creates it, and refuses an attach with another one (a shared folder mounted elsewhere on this host)."""
    options = [f"DATA_PATH {sql_literal(str(data_path).rstrip('/') + '/')}",
               f"METADATA_SCHEMA {sql_literal(LAKE_CATALOG_SCHEMA)}"]
    if read_only:
        options.append("READ_ONLY")
    if not read_only:
        data_path.mkdir(parents=True, exist_ok=True)
    try:
        connection.execute(f"ATTACH {sql_literal('ducklake:postgres:' + catalog.libpq_conninfo)} AS {LAKE_ALIAS} "
                           f"({', '.join(options)})")
    except duckdb.Error as error:
        reason = catalog.masked_reason(error)
        raise DatabaseUnreachable(f"Cannot attach the DuckLake warehouse whose catalog is PostgreSQL database "
                                  f"{catalog.database!r} on {catalog.host}:{catalog.port} as {catalog.user!r} "
                                  f"({catalog.masked_url}): {reason}") from None
    connection.execute(f"USE {LAKE_ALIAS}")


def load_lake_extensions(connection: duckdb.DuckDBPyConnection) -> None:
    """Load DuckLake and postgres from their wheels. DuckDB derives an extension's entry point from its file name, and
    the postgres extension's is `postgres_scanner`: that file is loaded from a copy under that name."""
    import duckdb_extension_ducklake
    import duckdb_extension_postgres

    postgres = renamed_copy(wheel_extension_file(duckdb_extension_postgres), "postgres_scanner")
    for extension in (wheel_extension_file(duckdb_extension_ducklake), postgres):
        connection.execute(f"LOAD {sql_literal(str(extension))}")


def wheel_extension_file(module) -> Path:
    """The .duckdb_extension file an extension wheel ships for the installed DuckDB."""
    folder = Path(module.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    files = sorted(folder.glob("*.duckdb_extension"))
    if not files:
        shipped = sorted(path.name for path in (Path(module.__file__).parent / "extensions").glob("*"))
        raise RuntimeError(f"{module.__name__} has no extension for DuckDB {duckdb.__version__} (it ships {shipped}): "
                           "install the extension wheels of the installed duckdb's version")
    return files[0]


def renamed_copy(source: Path, name: str) -> Path:
    """A copy of `source` named `name`.duckdb_extension in a per-version folder under the temporary directory,
    written once and atomically (several processes may load it at once)."""
    folder = Path(tempfile.gettempdir()) / "fraud_duckdb_extensions" / f"v{duckdb.__version__}"
    target = folder / f"{name}.duckdb_extension"
    if target.exists() and target.stat().st_size == source.stat().st_size:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.{os.getpid()}.partial"
    partial.write_bytes(source.read_bytes())
    os.replace(partial, target)
    return target


def is_write_conflict(error: BaseException) -> bool:
    """A DuckLake commit refused because another transaction changed the same table first (retry it)."""
    return isinstance(error, duckdb.TransactionException) and "conflict" in str(error).lower()


# How libpq and PostgreSQL word a connection that is gone or refused (a restart, a failover, a network cut).
LOST_CONNECTION_MARKERS = ("server closed the connection", "terminating connection", "could not connect",
                           "connection refused", "no connection to the server",
                           "the database system is starting up", "the database system is shutting down")


def is_lost_connection(error: BaseException) -> bool:
    """The warehouse's catalog server could not be reached, or went away in the middle of a statement."""
    message = str(error).lower()
    return any(marker in message for marker in LOST_CONNECTION_MARKERS)


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
