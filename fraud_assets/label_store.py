"""The label store: analysts' label events, appended by the label app, read by the pipeline.

SQLite in WAL mode under the data folder by default. Events are append-only; the latest event per transaction
is the analyst's current label. Before the label app has written anything the store is simply empty.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import dagster as dg
import pandas as pd

from fraud_assets.ml.labels import ANALYST_LABEL_COLUMNS

LATEST_LABELS_SQL = """
    SELECT transaction_id, label FROM (
        SELECT transaction_id, label,
               row_number() OVER (PARTITION BY transaction_id ORDER BY labeled_at DESC, event_id DESC) AS newest_first
        FROM label_events WHERE label IN (0, 1)
    ) WHERE newest_first = 1
"""


class LabelStore(dg.ConfigurableResource):
    """Analyst label events in SQLite (`path`); read-only here."""

    path: str

    def latest_labels(self) -> pd.DataFrame:
        """The current analyst label (0 or 1) of every labeled transaction; empty before any label exists."""
        if not Path(self.path).exists():
            return pd.DataFrame({"transaction_id": pd.Series(dtype=object), "label": pd.Series(dtype="int8")})
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as connection:
            has_events = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'label_events'").fetchone()
            if not has_events:
                return pd.DataFrame({"transaction_id": pd.Series(dtype=object), "label": pd.Series(dtype="int8")})
            frame = pd.read_sql_query(LATEST_LABELS_SQL, connection)
        return frame.astype({"label": "int8"})[ANALYST_LABEL_COLUMNS]
