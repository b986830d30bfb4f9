"""Metadata the daily assets attach to their materializations, gathered a day at a time."""

import dagster as dg
import pandas as pd

from fraud_assets.core.transactions import rows_per_day
from fraud_assets.defs.dagster_compat import TableMetadataSet
from fraud_assets.defs.resources.warehouse import WAREHOUSE_SCHEMA


def preview_table(frame: pd.DataFrame, rows: int = 10) -> dg.MetadataValue:
    """The first rows of a frame as a Markdown table, for materialization metadata."""
    return dg.MetadataValue.md(frame.head(rows).to_markdown(index=False))


class DailyTally:
    """Rows and frauds of each day a step wrote, and a preview of the first day's rows: what the materialization
    reports about a range that was never in memory at once."""

    def __init__(self) -> None:
        self.days: list[pd.DataFrame] = []
        self.preview: pd.DataFrame | None = None

    def add(self, day: int, frame: pd.DataFrame) -> None:
        self.days.append(rows_per_day(frame, [day]))
        if self.preview is None and len(frame):
            self.preview = frame.head(10)

    def table(self) -> pd.DataFrame:
        return pd.concat(self.days, ignore_index=True) if self.days else pd.DataFrame(columns=["day", "rows",
                                                                                              "fraud_rows"])

    @property
    def rows(self) -> int:
        return int(self.table()["rows"].sum())

    @property
    def fraud_rows(self) -> int:
        return int(self.table()["fraud_rows"].sum())

    def metadata(self) -> dict:
        return {
            "row_count": self.rows,
            "fraud_count": self.fraud_rows,
            "rows_per_day": dg.MetadataValue.md(self.table().to_markdown(index=False)),
            "preview": preview_table(self.preview if self.preview is not None else pd.DataFrame()),
        }


def stored_table(table: str) -> dict:
    """The warehouse table an asset is stored in, as the Dagster UI shows it."""
    return {**TableMetadataSet(table_name=f"{WAREHOUSE_SCHEMA}.{table}")}


def describe_days(days: list[int]) -> str:
    """Days as ranges: [3, 4, 5, 9] -> '3..5, 9'; 'none' for no day."""
    ranges: list[list[int]] = []
    for day in sorted(days):
        if ranges and day == ranges[-1][1] + 1:
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    return ", ".join(f"{first}..{last}" if first != last else str(first) for first, last in ranges) or "none"
