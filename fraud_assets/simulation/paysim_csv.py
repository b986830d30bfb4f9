"""Reads simulation days from the real PaySim CSV with DuckDB, never loading the whole file into pandas.

The Kaggle file (`PS_20174392719_1491204439457_log.csv`, 470 MB) has the exact header in
`fraud_assets.core.schema.PAYSIM_COLUMNS`. Some published copies write `isFraud`/`isFlaggedFraud` as `0.0`/`1.0`,
so every column is read as text and converted with TRY_CAST: a value that is not a number becomes NULL and the
cleaning step rejects the row with a reason, instead of the whole read failing.

A deployment whose days keep arriving points FRAUD_PAYSIM_CSV at a folder instead, one file per day named
`day=NNN.csv` (same header): a day's ingestion reads that day's file only, so the cost of a day does not grow with
the days before it (a single file is scanned whole for every day it is asked for).
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd

from fraud_assets.core.schema import AMOUNT_COLUMNS, HOURS_PER_DAY, LABEL_COLUMNS, PAYSIM_COLUMNS

_NUMERIC_COLUMNS = AMOUNT_COLUMNS + LABEL_COLUMNS
DAY_FILE = re.compile(r"^day=(\d+)\.csv$")


class PaySimCsvError(ValueError):
    """The configured PaySim CSV is missing or is not in the PaySim format."""


def read_csv_header(path: Path) -> list[str]:
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        return [name.strip() for name in handle.readline().rstrip("\r\n").split(",")]


def check_paysim_csv(path: str | Path) -> Path:
    """The path as a `Path`, after checking that the file exists and carries PaySim's exact header (a folder of day
    files: that it exists; each day file is checked when its day is read)."""
    csv_path = Path(path)
    if csv_path.is_dir():
        return csv_path
    if not csv_path.is_file():
        raise PaySimCsvError(
            f"PaySim CSV not found at {str(csv_path)!r}: set FRAUD_PAYSIM_CSV to the path of the Kaggle file "
            "PS_20174392719_1491204439457_log.csv (or to a folder of day=NNN.csv files), or use FRAUD_SOURCE=simulator"
        )
    header = read_csv_header(csv_path)
    if header != PAYSIM_COLUMNS:
        raise PaySimCsvError(
            f"{csv_path} does not have PaySim's header: expected {','.join(PAYSIM_COLUMNS)}, found {','.join(header)}"
        )
    return csv_path


def paysim_day_files(folder: Path) -> dict[int, Path]:
    """The day files of a folder source, by day (the number in `day=NNN.csv`, so day 1000 follows day 999)."""
    return {int(match.group(1)): folder / name for name in sorted(path.name for path in folder.iterdir())
            if (match := DAY_FILE.match(name))}


def read_paysim_days(path: str | Path, first_day: int, last_day: int) -> pd.DataFrame:
    """Rows of simulation days first_day..last_day (inclusive) in file order, PaySim columns, typed.

    Money and label columns are float64 (NaN where the text was not a number); `step` is int64. Rows whose step
    is not a number belong to no day and are not returned; `count_rows_without_step` reports them. From a folder,
    each day is its own file (`read_paysim_day_file`).
    """
    csv_path = check_paysim_csv(path)
    if csv_path.is_dir():
        files = paysim_day_files(csv_path)
        days = [read_paysim_day_file(csv_path, files, day) for day in range(first_day, last_day + 1)]
        return pd.concat(days, ignore_index=True)
    return _read_steps(csv_path, first_day, last_day)


def read_paysim_day_file(folder: Path, files: dict[int, Path], day: int) -> pd.DataFrame:
    """The rows of `day` from its file of the folder. A day without its file has not arrived, and a file with rows
    of another day (or with a step that is not a number) is not that day's: both are errors that name the file, so
    the run fails and the stored days stay as they were, instead of rows being filed under the wrong day or lost."""
    if day not in files:
        raise PaySimCsvError(f"no file day={day:03d}.csv in {folder} for simulation day {day}: the day has not "
                             f"arrived yet (the folder's newest day is {max(files, default='none')})")
    file = check_paysim_csv(files[day])
    rows = _read_steps(file, day, day)
    with duckdb.connect() as connection:
        (total,) = connection.execute("SELECT count(*) FROM read_csv(?, header = true, all_varchar = true)",
                                      [str(file)]).fetchone()
    if total != len(rows):
        raise PaySimCsvError(f"{file}: {total - len(rows)} of its {total} rows have a step outside day {day} (steps "
                             f"{day * HOURS_PER_DAY + 1}..{(day + 1) * HOURS_PER_DAY}) or no step at all; a day's "
                             "file holds that day's rows only")
    return rows


def _read_steps(csv_path: Path, first_day: int, last_day: int) -> pd.DataFrame:
    first_step, last_step = first_day * HOURS_PER_DAY + 1, (last_day + 1) * HOURS_PER_DAY
    numeric = ",\n".join(f"TRY_CAST({col} AS DOUBLE) AS {col}" for col in _NUMERIC_COLUMNS)
    query = f"""
        WITH source AS (
            SELECT *, TRY_CAST(TRY_CAST(step AS DOUBLE) AS BIGINT) AS step_number
            FROM read_csv(?, header = true, all_varchar = true)
        )
        SELECT step_number AS step, type, nameOrig, nameDest, {numeric}
        FROM source
        WHERE step_number BETWEEN ? AND ?
    """
    with duckdb.connect() as connection:
        frame = connection.execute(query, [str(csv_path), first_step, last_step]).fetchdf()
    return frame[PAYSIM_COLUMNS]


def count_rows_without_step(path: str | Path) -> int:
    """Rows of the file whose step is not a whole number, so they belong to no simulation day (0 for a folder,
    whose day files refuse such rows when their day is read)."""
    csv_path = check_paysim_csv(path)
    if csv_path.is_dir():
        return 0
    with duckdb.connect() as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM read_csv(?, header = true, all_varchar = true) "
            "WHERE TRY_CAST(TRY_CAST(step AS DOUBLE) AS BIGINT) IS NULL",
            [str(csv_path)],
        ).fetchone()
    return int(count)
