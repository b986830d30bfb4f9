"""Metadata tables the ingest assets attach to their materializations."""

import dagster as dg
import pandas as pd

from fraud_assets.core.transactions import rows_per_day


def preview_table(frame: pd.DataFrame, rows: int = 10) -> dg.MetadataValue:
    """The first rows of a frame as a Markdown table, for materialization metadata."""
    return dg.MetadataValue.md(frame.head(rows).to_markdown(index=False))


def rows_per_day_table(frame: pd.DataFrame, days: list[int]) -> dg.MetadataValue:
    """Rows and frauds of each day of a run, as a Markdown table."""
    return dg.MetadataValue.md(rows_per_day(frame, days).to_markdown(index=False))
