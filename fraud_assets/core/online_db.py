"""The online stores' tables in the team deployment's PostgreSQL database (FRAUD_DATABASE_URL).

The label events, the service's decision log and the served champion live in schema `fraud_online` of the same
database as Dagster's instance; each store module declares its tables (`CREATE ... IF NOT EXISTS`) and opens its
connections here. psycopg2 is imported inside the functions: the embedded deployment never loads it.
"""

from __future__ import annotations

import threading
import zlib
from typing import TYPE_CHECKING

from fraud_assets.core.database import DatabaseUnreachable, DatabaseUrl

if TYPE_CHECKING:
    import pandas as pd
    import psycopg2.extensions

ONLINE_SCHEMA = "fraud_online"
APPLICATION_NAME = "fraud_assets"

_ensured: set[tuple[str, str]] = set()  # (database URL, tables' name) already created by this process
_ensured_lock = threading.Lock()


def connect_online(database: DatabaseUrl, tables_name: str, tables_sql: str,
                   timeout_seconds: int = 10) -> psycopg2.extensions.connection:
    """A connection (not autocommit) to `database`, with `tables_sql` run once per process first.

    A server that refuses or does not answer raises DatabaseUnreachable, whose message names host, port, database
    and user, never the password. The tables are created under an advisory lock: two replicas starting together
    would otherwise race on `CREATE TABLE IF NOT EXISTS`, which PostgreSQL does not make atomic.
    """
    import psycopg2

    try:
        connection = psycopg2.connect(database.url, connect_timeout=timeout_seconds,
                                      application_name=APPLICATION_NAME)
    except psycopg2.Error as error:
        raise database.unreachable(error) from None
    key = (database.url, tables_name)
    if key not in _ensured:
        with _ensured_lock:
            if key not in _ensured:
                try:
                    with connection, connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (schema_lock_key(tables_name),))
                        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {ONLINE_SCHEMA}")
                        cursor.execute(tables_sql)
                except BaseException:
                    connection.close()
                    raise
                _ensured.add(key)
    return connection


def fetch_frame(connection: psycopg2.extensions.connection, sql: str, parameters=None) -> pd.DataFrame:
    """The rows of a query (its `%s` placeholders bound to `parameters`) as a DataFrame, named by the query's
    columns; the read-only transaction is ended."""
    import pandas as pd

    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        frame = pd.DataFrame(cursor.fetchall(), columns=[column.name for column in cursor.description])
    connection.rollback()
    return frame


def schema_lock_key(tables_name: str) -> int:
    """A stable 32-bit advisory-lock key for creating one store's tables."""
    return zlib.crc32(f"{ONLINE_SCHEMA}.{tables_name}".encode())


def is_connection_error(error: BaseException) -> bool:
    """Whether `error` means the server went away or could not be reached (worth retrying later), rather than a
    refused statement."""
    import psycopg2

    return isinstance(error, (DatabaseUnreachable, psycopg2.OperationalError, psycopg2.InterfaceError))
