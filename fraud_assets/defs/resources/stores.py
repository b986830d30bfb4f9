"""The stores Dagster shares with the apps and with people: review exports, drift reports and analyst labels."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import dagster as dg
import pandas as pd
from pydantic import Field

from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.label_store import read_latest_labels


class AppExports(dg.ConfigurableResource):
    """The folder of Parquet exports the label app reads (`data/exports` by default)."""

    exports_dir: str

    @property
    def path(self) -> Path:
        return Path(self.exports_dir)


class DriftReports(dg.ConfigurableResource):
    """Where the Evidently HTML reports go (`data/reports` by default)."""

    reports_dir: str


class LabelStore(dg.ConfigurableResource):
    """Analyst label events (see fraud_assets/core/label_store.py): in SQLite at `path`, or in the team database
    when `database_url` is set."""

    path: str
    database_url: Optional[str] = Field(
        default=None, description="The team database (postgresql://...; give it as an EnvVar so the UI never shows "
                                  "the password); unset, the SQLite file at `path`.")

    def latest_labels(self) -> pd.DataFrame:
        """The current analyst label of every labeled transaction (REVIEWED_LABEL_COLUMNS)."""
        return read_latest_labels(DatabaseUrl.parse(self.database_url) if self.database_url else Path(self.path))
