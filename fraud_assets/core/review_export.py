"""Parquet exports for the apps: written by Dagster to a temporary name and renamed, so a reader never sees a
half-written file, and read by the label app without ever opening the DuckDB warehouse.

Layout under the exports folder (default `data/exports/`):
    review/day=NNN.parquet   per day: every alerted transaction, plus every fraud transaction the model missed
                             (so the app can count false negatives once labels mature); REVIEW_COLUMNS
    summary/day=NNN.parquet  per day and model version: rows, alerts, the day's alert budget, threshold and a
                             score histogram; SUMMARY_COLUMNS
Ground truth (`isFraud`) is exported with `label_matures_on_day`; the app shows it only from that day on.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

REVIEW_COLUMNS = ["transaction_id", "day", "step", "event_ts", "type", "amount", "nameOrig", "oldbalanceOrg",
                  "newbalanceOrig", "nameDest", "oldbalanceDest", "newbalanceDest", "score", "is_alert", "threshold",
                  "model_version", "scored_at", "reasons", "isFraud", "label_matures_on_day"]
SCORE_BIN_EDGES = np.round(np.linspace(0.0, 1.0, 21), 2)
SUMMARY_COLUMNS = ["day", "model_version", "threshold", "n_rows", "n_alerts", "alert_budget",
                   *[f"score_bin_{i:02d}" for i in range(20)]]


def review_rows(predictions: pd.DataFrame, transactions: pd.DataFrame, label_delay_days: int) -> pd.DataFrame:
    """Alerted and fraud rows of scored predictions joined with their transactions (REVIEW_COLUMNS).

    The few rows kept (about 0.1-1%) are chosen before the join, so a month at full scale joins thousands of rows,
    not millions."""
    fraud_ids = transactions.loc[transactions["isFraud"] == 1, "transaction_id"]
    candidates = predictions[predictions["is_alert"].to_numpy()
                             | predictions["transaction_id"].isin(fraud_ids).to_numpy()]
    balances = transactions.loc[transactions["transaction_id"].isin(candidates["transaction_id"]),
                                ["transaction_id", "oldbalanceOrg", "newbalanceOrig", "oldbalanceDest",
                                 "newbalanceDest", "isFraud"]]
    kept = candidates.merge(balances, on="transaction_id", how="inner", validate="one_to_one")
    return kept.assign(label_matures_on_day=kept["day"] + label_delay_days)[REVIEW_COLUMNS].reset_index(drop=True)


def daily_summary(predictions: pd.DataFrame, alert_budget_of_day: Callable[[int], int]) -> pd.DataFrame:
    """Per day and model version: row and alert counts, the day's alert budget (`alert_budget_of_day(rows of the
    day)`), threshold and a 20-bin score histogram (SUMMARY_COLUMNS)."""
    rows = []
    rows_per_day = predictions.groupby("day").size()
    for (day, version), group in predictions.groupby(["day", "model_version"], sort=True):
        counts, _ = np.histogram(group["score"].to_numpy(), bins=SCORE_BIN_EDGES)
        rows.append([int(day), str(version), float(group["threshold"].iloc[0]), len(group),
                     int(group["is_alert"].sum()), alert_budget_of_day(int(rows_per_day[day])), *counts.tolist()])
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def write_parquet_atomically(frame: pd.DataFrame, path: Path) -> Path:
    """Write `frame` to `path` through a temporary file in the same folder and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_parquet(temporary, index=False)
    os.replace(temporary, path)
    return path


def day_file(exports_dir: Path, kind: str, day: int) -> Path:
    return exports_dir / kind / f"day={day:03d}.parquet"


def read_exports(exports_dir: Path, kind: str) -> pd.DataFrame:
    """Every day's export of `kind` ('review' or 'summary'), concatenated, with the contract's columns (a column an
    older export lacks, such as the summary's `alert_budget`, is NaN on its days); empty when nothing is exported."""
    files = sorted((exports_dir / kind).glob("day=*.parquet"))
    columns = REVIEW_COLUMNS if kind == "review" else SUMMARY_COLUMNS
    if not files:
        return pd.DataFrame(columns=columns)
    return pd.concat([pd.read_parquet(file) for file in files], ignore_index=True).reindex(columns=columns)


DAY_FILE_NAME = re.compile(r"^day=(\d+)\.parquet$")


def exported_days(exports_dir: Path, kind: str) -> list[int]:
    """The days exported as `kind` ('review' or 'summary'), ascending by number (day 1000 after day 999), found from
    the file names alone: one directory listing, no file opened. [] when nothing is exported."""
    folder = Path(exports_dir) / kind
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted(int(match.group(1)) for match in map(DAY_FILE_NAME.match, names) if match)


class ExportFileCache:
    """Day files already read, keyed per file by its path, modification time and size: a file is read again only
    when it was replaced. It holds the files of the last read of each folder only, so it stays the size of one
    window however many days are exported."""

    def __init__(self):
        self._frames: dict[Path, tuple[tuple[int, int], pd.DataFrame]] = {}
        self._lock = threading.Lock()

    def read(self, files: list[Path]) -> list[pd.DataFrame]:
        """The frames of `files` (each read at most once while unchanged); a file that vanished is left out."""
        frames, kept = [], {}
        for file in files:
            try:
                stat = file.stat()
            except FileNotFoundError:  # replaced or removed between the listing and the stat
                continue
            signature = (stat.st_mtime_ns, stat.st_size)
            with self._lock:
                cached = self._frames.get(file)
            if cached is not None and cached[0] == signature:
                frame = cached[1]
            else:
                try:
                    frame = pd.read_parquet(file)
                except FileNotFoundError:
                    continue
            kept[file] = (signature, frame)
            frames.append(frame)
        folders = {file.parent for file in files}
        with self._lock:
            for file in [file for file in self._frames if file.parent in folders and file not in kept]:
                del self._frames[file]
            self._frames.update(kept)
        return frames


def read_export_days(exports_dir: Path, kind: str, days: Iterable[int],
                     cache: ExportFileCache | None = None) -> pd.DataFrame:
    """The exports of `kind` ('review' or 'summary') of the given days, concatenated with the contract's columns (a
    column an older export lacks is NaN on its days); a day not exported is skipped.

    Reads only the files of `days` (through `cache` when given, re-reading only the files that changed), never
    lists or opens another day's file."""
    if kind not in ("review", "summary"):
        raise ValueError(f"an export kind is 'review' or 'summary', got {kind!r}")
    columns = REVIEW_COLUMNS if kind == "review" else SUMMARY_COLUMNS
    files = [file for file in (day_file(Path(exports_dir), kind, int(day)) for day in sorted(set(days)))
             if file.exists()]
    if cache is not None:
        frames = cache.read(files)
    else:
        frames = []
        for file in files:
            try:
                frames.append(pd.read_parquet(file))
            except FileNotFoundError:  # removed between the check and the read
                continue
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True).reindex(columns=columns)
