"""The team deployment's database server: `FRAUD_DATABASE_URL`, parsed, checked and shown without its password.

Unset, every store is embedded (SQLite and DuckDB files under the data folder). Set to
`postgresql://user:password@host:port/dbname`, Dagster's instance keeps its runs, event log and schedules in that
PostgreSQL database (`fraud_assets.cli.instance`). The URL's password is read from the environment wherever it is
needed and never written to a file or a log: errors and logs show `masked_url`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

DATABASE_URL_ENV = "FRAUD_DATABASE_URL"
POSTGRES_SCHEMES = ("postgresql", "postgres")
DEFAULT_POSTGRES_PORT = 5432


class DatabaseUnreachable(RuntimeError):
    """The database server named by FRAUD_DATABASE_URL refused or did not answer; the message is for people."""


@dataclass(frozen=True)
class DatabaseUrl:
    """A PostgreSQL URL, split into its parts."""

    url: str = field(repr=False)  # it holds the password
    user: str
    password: str = field(repr=False)
    host: str
    port: int
    database: str

    @classmethod
    def parse(cls, url: str) -> DatabaseUrl:
        """Parse `postgresql://user:password@host:port/dbname`; a ValueError names what is missing (never the
        password)."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port or DEFAULT_POSTGRES_PORT
        except ValueError as error:
            raise ValueError(f"{DATABASE_URL_ENV} is not a valid URL ({error}); expected "
                             "postgresql://user:password@host:port/dbname") from None
        problems = []
        if parts.scheme not in POSTGRES_SCHEMES:
            problems.append(f"the scheme must be postgresql://, not {parts.scheme + '://' if parts.scheme else 'none'}")
        if not parts.hostname:
            problems.append("it names no host")
        if not parts.username:
            problems.append("it names no user")
        if not parts.path.strip("/"):
            problems.append("it names no database")
        if problems:
            raise ValueError(f"{DATABASE_URL_ENV} must look like postgresql://user:password@host:port/dbname: "
                             f"{'; '.join(problems)}")
        return cls(url=url.strip(), user=unquote(parts.username), password=unquote(parts.password or ""),
                   host=parts.hostname, port=port, database=parts.path.strip("/"))

    @property
    def masked_url(self) -> str:
        """The URL with its password replaced by ***: what errors and logs show."""
        password = ":***" if self.password else ""
        return f"postgresql://{self.user}{password}@{self.host}:{self.port}/{self.database}"

    @property
    def libpq_conninfo(self) -> str:
        """The URL as libpq's `key=value` connection string (what DuckDB's postgres extension takes)."""
        def quoted(value: str | int) -> str:
            return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"

        return " ".join(f"{key}={quoted(value)}" for key, value in (
            ("host", self.host), ("port", self.port), ("dbname", self.database), ("user", self.user),
            ("password", self.password)))

    def masked_reason(self, error: BaseException) -> str:
        """A driver's error message on one line, with this URL's password replaced by ***."""
        reason = " ".join(str(error).split()) or type(error).__name__
        return reason.replace(self.password, "***") if self.password else reason

    def unreachable(self, error: BaseException) -> DatabaseUnreachable:
        """A DatabaseUnreachable for a failed connection: host, port, database and user, and the driver's reason
        with the password masked out of it."""
        return DatabaseUnreachable(
            f"Cannot connect to PostgreSQL database {self.database!r} on {self.host}:{self.port} as "
            f"{self.user!r} ({DATABASE_URL_ENV}={self.masked_url}): {self.masked_reason(error)}")

    def sqlalchemy_url(self, search_path: str) -> str:
        """The URL for SQLAlchemy with psycopg2, its tables in schema `search_path` (MLflow's backend store: Dagster
        and MLflow both have a table `runs`, so MLflow gets a schema of its own)."""
        from urllib.parse import quote

        credentials = quote(self.user, safe="") + (":" + quote(self.password, safe="") if self.password else "")
        return (f"postgresql+psycopg2://{credentials}@{self.host}:{self.port}/{quote(self.database, safe='')}"
                f"?options=-csearch_path%3D{search_path}")

    def check_reachable(self, timeout_seconds: int = 10) -> None:
        """Connect once and run `SELECT 1`; a DatabaseUnreachable that names the host, port, database and user
        (never the password) when the server refuses or does not answer."""
        import psycopg2  # the driver of Dagster's PostgreSQL storage (dagster-postgres)

        try:
            connection = psycopg2.connect(self.url, connect_timeout=timeout_seconds)
        except psycopg2.Error as error:
            raise self.unreachable(error) from None
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        finally:
            connection.close()


def database_url_from_env() -> DatabaseUrl | None:
    """The parsed FRAUD_DATABASE_URL, or None when it is unset or empty (the embedded deployment)."""
    raw = os.environ.get("FRAUD_DATABASE_URL", "").strip()
    return DatabaseUrl.parse(raw) if raw else None
