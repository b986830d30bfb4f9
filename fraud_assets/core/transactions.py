"""Pure functions over transaction frames: stable ids and timestamps for raw rows, validation into cleaned
and rejected rows, and the figures each materialization reports."""

from __future__ import annotations

import binascii
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fraud_assets.core.schema import (
    ACCOUNT_COLUMNS,
    AMOUNT_COLUMNS,
    LABEL_COLUMNS,
    PAYSIM_COLUMNS,
    PAYSIM_DTYPES,
    TRANSACTION_TYPES,
    day_of_step,
)

RAW_COLUMNS: list[str] = ["transaction_id", "event_ts", "day", *PAYSIM_COLUMNS]
CLEANED_COLUMNS: list[str] = RAW_COLUMNS
REJECTED_COLUMNS: list[str] = [*RAW_COLUMNS, "rejection_reason"]

# The data contract of `cleaned_transactions`: column -> pandas dtype. DuckDB stores them as
# VARCHAR, TIMESTAMP, INTEGER, BIGINT, DOUBLE and TINYINT.
CLEANED_DTYPES: dict[str, str] = {
    "transaction_id": "object",
    "event_ts": "datetime64[ns]",
    "day": "int32",
    **PAYSIM_DTYPES,
}

_ACCOUNT_PATTERNS = {"nameOrig": "C[0-9]+", "nameDest": "[CM][0-9]+"}
_ACCOUNT_FORMS = {"nameOrig": "C followed by digits", "nameDest": "C or M followed by digits"}


def transaction_ids(frame: pd.DataFrame) -> np.ndarray:
    """A stable id per row: 16 hex digits of a hash of the row's PaySim fields.

    The same transaction always gets the same id, whichever run or source delivers it, so re-running a day
    keeps ids stable, and an exact replay of a row is caught as a duplicate id.
    """
    # categorize=False: the id columns are nearly unique, so factorizing them first would only cost time
    hashes = pd.util.hash_pandas_object(frame[PAYSIM_COLUMNS], index=False, categorize=False).to_numpy()
    hex_digits = binascii.hexlify(hashes.astype(">u8").tobytes())
    return np.frombuffer(hex_digits, dtype="S16").astype(str).astype(object)


def event_timestamps(steps: pd.Series, epoch: datetime) -> pd.Series:
    """Timestamps for PaySim steps: step s starts at epoch + (s - 1) hours; the rows of one step are spread
    evenly over its hour in row order, so they sort the way they arrived."""
    rank_in_step = steps.groupby(steps).cumcount().to_numpy()
    rows_in_step = steps.map(steps.value_counts()).to_numpy()
    seconds = (steps.to_numpy() - 1) * 3600 + (rank_in_step * 3600) // rows_in_step
    return pd.Series(pd.Timestamp(epoch) + pd.to_timedelta(seconds, unit="s"), index=steps.index, name="event_ts")


def prepare_raw_transactions(source_rows: pd.DataFrame, epoch: datetime) -> pd.DataFrame:
    """Source rows in the PaySim schema -> raw rows with `transaction_id`, `event_ts` and `day`.

    Values are kept as the source gave them (money and labels as float64, NaN where a source value was not a
    number); judging them is the cleaning step's job.
    """
    rows = source_rows[PAYSIM_COLUMNS].reset_index(drop=True)
    for column in [*AMOUNT_COLUMNS, *LABEL_COLUMNS]:
        rows[column] = rows[column].astype("float64")
    rows["step"] = rows["step"].astype("int64")
    raw = pd.DataFrame(
        {
            "transaction_id": transaction_ids(rows),
            "event_ts": event_timestamps(rows["step"], epoch),
            "day": day_of_step(rows["step"]).astype("int32"),
        }
    )
    return pd.concat([raw, rows], axis=1)[RAW_COLUMNS]


def rejection_reasons(raw: pd.DataFrame) -> pd.Series:
    """Why each raw row is invalid, as a '; '-joined sentence, or '' for a valid row.

    Each rule is a vectorised test over all rows; messages are built only for the rows that fail it.
    """
    reasons = pd.Series("", index=raw.index, dtype=object)

    def add(mask: pd.Series | np.ndarray, message) -> None:
        """`message` is a string, or a function of the failing rows' values giving one string per row."""
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            text = message(raw.loc[mask]) if callable(message) else message
            reasons[mask] = reasons[mask] + "; " + text

    types = raw["type"]
    add(~types.isin(TRANSACTION_TYPES),
        lambda rows: "unknown type " + rows["type"].astype(str).map(repr)
        + f" (expected one of {', '.join(TRANSACTION_TYPES)})")
    for column in AMOUNT_COLUMNS:
        values = raw[column].to_numpy(dtype=np.float64)
        add(np.isnan(values), f"{column} is missing or not a number")
        add(np.isinf(values), f"{column} is not finite")
        add(values < 0, f"{column} is negative")
    for column in ACCOUNT_COLUMNS:
        accounts = pa.array(raw[column].to_numpy(dtype=object), type=pa.string(), from_pandas=True)
        missing = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(accounts), ""), True).to_numpy(zero_copy_only=False)
        add(missing, f"{column} (account) is missing")
        well_formed = pc.fill_null(pc.match_substring_regex(accounts, f"^{_ACCOUNT_PATTERNS[column]}$"), False)
        malformed = ~missing & ~well_formed.to_numpy(zero_copy_only=False)
        add(malformed, lambda rows, column=column: f"{column} " + rows[column].astype(str).map(repr)
            + f" is not a PaySim account id ({_ACCOUNT_FORMS[column]})")
    for column in LABEL_COLUMNS:
        add(~raw[column].isin([0, 1]),
            lambda rows, column=column: f"{column} is " + rows[column].astype(str) + " (expected 0 or 1)")
    add(raw["transaction_id"].duplicated(keep="first"), "duplicate transaction_id: an exact repeat of an earlier row")
    return reasons.str.removeprefix("; ")


def validate_transactions(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split raw rows into (cleaned, rejected). Cleaned rows follow `CLEANED_DTYPES`; rejected rows keep their
    raw values and a `rejection_reason`. Every raw row lands in exactly one of the two."""
    reasons = rejection_reasons(raw)
    is_valid = reasons.eq("")
    if is_valid.all():  # the usual case: type the raw frame in place instead of copying millions of rows
        cleaned = raw[CLEANED_COLUMNS] if list(raw.columns) != CLEANED_COLUMNS else raw
        cleaned = cleaned.astype(CLEANED_DTYPES, copy=False).reset_index(drop=True)
    else:
        cleaned = raw.loc[is_valid, CLEANED_COLUMNS].astype(CLEANED_DTYPES).reset_index(drop=True)
    return cleaned, rejected_rows(raw, reasons)


def rejected_rows(raw: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    """The raw rows with a rejection reason (`rejection_reasons`), their raw values kept, with the reason."""
    invalid = reasons.ne("")
    return raw.loc[invalid, RAW_COLUMNS].assign(rejection_reason=reasons[invalid]).reset_index(drop=True)


def empty_cleaned_frame() -> pd.DataFrame:
    """No rows, with the cleaned-transactions contract's columns and dtypes (what creates its table)."""
    return pd.DataFrame({column: pd.Series(dtype=dtype) for column, dtype in CLEANED_DTYPES.items()})


def contract_violations(frame: pd.DataFrame) -> list[str]:
    """How a frame breaks the cleaned-transactions data contract (columns, order and dtypes); empty when it holds."""
    problems = []
    if list(frame.columns) != CLEANED_COLUMNS:
        problems.append(f"columns are {list(frame.columns)}, expected {CLEANED_COLUMNS}")
    for column, dtype in CLEANED_DTYPES.items():
        if column in frame.columns and str(frame[column].dtype) != dtype:
            problems.append(f"{column} has dtype {frame[column].dtype}, expected {dtype}")
    return problems


def rows_per_day(frame: pd.DataFrame, days: list[int]) -> pd.DataFrame:
    """Rows and fraud rows per day (days without rows included, with zeros)."""
    labels = pd.to_numeric(frame["isFraud"], errors="coerce").fillna(0)
    grouped = labels.groupby(frame["day"]).agg(["size", "sum"])
    grouped = grouped.reindex(days, fill_value=0)
    return pd.DataFrame({"day": days, "rows": grouped["size"].astype(int).to_numpy(),
                         "fraud_rows": grouped["sum"].astype(int).to_numpy()})

