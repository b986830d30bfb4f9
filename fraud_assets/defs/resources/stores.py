"""The stores Dagster shares with the apps and with people: review exports, drift reports and analyst labels."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd

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
    """Analyst label events in SQLite at `path` (see fraud_assets/core/label_store.py)."""

    path: str

    def latest_labels(self) -> pd.DataFrame:
        """The current analyst label of every labeled transaction (REVIEWED_LABEL_COLUMNS)."""
        return read_latest_labels(self.path)
