"""Reads simulation days from the real PaySim CSV with DuckDB, never loading the whole file into pandas.

The Kaggle file (`PS_20174392719_1491204439457_log.csv`, 470 MB) has the exact header in
`fraud_assets.core.schema.PAYSIM_COLUMNS`. Some published copies write `isFraud`/`isFlaggedFraud` as `0.0`/`1.0`,
so every column is read as text and converted with TRY_CAST: a value that is not a number becomes NULL and the
cleaning step rejects the row with a reason, instead of the whole read failing.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from fraud_assets.core.schema import AMOUNT_COLUMNS, HOURS_PER_DAY, LABEL_COLUMNS, PAYSIM_COLUMNS

_NUMERIC_COLUMNS = AMOUNT_COLUMNS + LABEL_COLUMNS


class PaySimCsvError(ValueError):
    """The configured PaySim CSV is missing or is not in the PaySim format."""


def read_csv_header(path: Path) -> list[str]:
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        return [name.strip() for name in handle.readline().rstrip("\r\n").split(",")]


def check_paysim_csv(path: str | Path) -> Path:
    """The path as a `Path`, after checking that the file exists and carries PaySim's exact header."""
    csv_path = Path(path)
    if not csv_path.is_file():
        raise PaySimCsvError(
            f"PaySim CSV not found at {str(csv_path)!r}: set FRAUD_PAYSIM_CSV to the path of the Kaggle file "
            "PS_20174392719_1491204439457_log.csv, or use FRAUD_SOURCE=simulator"
        )
    header = read_csv_header(csv_path)
    if header != PAYSIM_COLUMNS:
        raise PaySimCsvError(
            f"{csv_path} does not have PaySim's header: expected {','.join(PAYSIM_COLUMNS)}, found {','.join(header)}"
        )
    return csv_path


def read_paysim_days(path: str | Path, first_day: int, last_day: int) -> pd.DataFrame:
    """Rows of simulation days first_day..last_day (inclusive) in file order, PaySim columns, typed.

    Money and label columns are float64 (NaN where the text was not a number); `step` is int64. Rows whose step
    is not a number belong to no day and are not returned; `count_rows_without_step` reports them.
    """
    csv_path = check_paysim_csv(path)
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
    """Rows of the file whose step is not a whole number, so they belong to no simulation day."""
    csv_path = check_paysim_csv(path)
    with duckdb.connect() as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM read_csv(?, header = true, all_varchar = true) "
            "WHERE TRY_CAST(TRY_CAST(step AS DOUBLE) AS BIGINT) IS NULL",
            [str(csv_path)],
        ).fetchone()
    return int(count)
