"""The export files read by day: the days found from the file names in numeric order, only the asked days read, each
file once while it is unchanged."""

from __future__ import annotations

import os
import time

import pandas as pd
import pytest

from fraud_assets.core.review_export import (
    REVIEW_COLUMNS,
    ExportFileCache,
    day_file,
    exported_days,
    read_export_days,
    write_parquet_atomically,
)


def write_review_day(exports, day: int) -> None:
    frame = pd.DataFrame([{"transaction_id": f"t{day}", "day": day, "score": 0.9, "is_alert": True}])
    write_parquet_atomically(frame.reindex(columns=REVIEW_COLUMNS), day_file(exports, "review", day))


def test_exported_days_are_numbers_in_numeric_order(tmp_path, parquet_reads):
    exports = tmp_path / "exports"
    for day in (1000, 5, 999, 42):
        write_review_day(exports, day)
    (exports / "review" / "notes.txt").write_text("not a day")
    (exports / "review" / ".day=007.parquet.123.tmp").write_text("a write under way")
    assert exported_days(exports, "review") == [5, 42, 999, 1000]
    assert sorted(path.name for path in (exports / "review").glob("day=*.parquet"))[-1] == "day=999.parquet"
    assert exported_days(exports, "summary") == [] and parquet_reads == []  # names only: no file opened


def test_only_the_asked_days_are_read_each_file_once_until_replaced(tmp_path, parquet_reads):
    exports = tmp_path / "exports"
    for day in range(10):
        write_review_day(exports, day)
    cache = ExportFileCache()
    frame = read_export_days(exports, "review", [7, 8, 9, 12], cache)  # day 12 is not exported: skipped
    assert frame["transaction_id"].tolist() == ["t7", "t8", "t9"] and list(frame.columns) == REVIEW_COLUMNS
    assert sorted(parquet_reads) == ["day=007.parquet", "day=008.parquet", "day=009.parquet"]
    read_export_days(exports, "review", [7, 8, 9], cache)
    assert len(parquet_reads) == 3  # unchanged files come from the cache
    write_review_day(exports, 8)  # the pipeline exported day 8 again
    later = time.time() + 5
    os.utime(day_file(exports, "review", 8), (later, later))
    read_export_days(exports, "review", [8, 9, 10], cache)
    assert parquet_reads[3:] == ["day=008.parquet"]  # only the replaced file (day 10 is not exported)
    read_export_days(exports, "review", [7], cache)  # day 7 left the cache with the last read: the cache stays small
    assert parquet_reads[4:] == ["day=007.parquet"]


def test_an_unknown_kind_is_refused(tmp_path):
    with pytest.raises(ValueError, match="'review' or 'summary', got 'reviews'"):
        read_export_days(tmp_path, "reviews", [1])
    assert read_export_days(tmp_path, "summary", [1]).empty
