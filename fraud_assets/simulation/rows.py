"""Rows under construction: their column arrays (``Rows``, types as codes, ids as numbers, money in exact cents),
where a day's rows go (``place_rows``), and the PaySim-schema DataFrame they become (``to_frame``)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from fraud_assets.core.schema import PAYSIM_COLUMNS, TRANSACTION_TYPES
from fraud_assets.simulation.account_ids import format_account_ids

CASH_IN, CASH_OUT, PAYMENT, TRANSFER = (
    TRANSACTION_TYPES.index(name) for name in ("CASH_IN", "CASH_OUT", "PAYMENT", "TRANSFER")
)
_TYPE_NAMES = np.array(TRANSACTION_TYPES, dtype=object)


@dataclass
class Rows:
    """Column arrays of rows before ids are formatted: types as codes (positions in TRANSACTION_TYPES, as the
    constants above), ids as numbers, money values in exact cents."""

    step: np.ndarray
    type_code: np.ndarray
    amount: np.ndarray
    old_orig: np.ndarray
    new_orig: np.ndarray
    old_dest: np.ndarray
    new_dest: np.ndarray
    orig_id: np.ndarray
    dest_id: np.ndarray
    dest_is_merchant: np.ndarray
    is_fraud: np.ndarray
    is_flagged: np.ndarray

    @staticmethod
    def concat(parts: list[Rows]) -> Rows:
        """The rows of all `parts`, in order."""
        return Rows(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Rows)})

    def take(self, order: np.ndarray) -> Rows:
        """The rows at positions `order`."""
        return Rows(**{f.name: getattr(self, f.name)[order] for f in fields(Rows)})

    @staticmethod
    def placed(parts: list[tuple[Rows, np.ndarray]]) -> Rows:
        """Rows of all `parts`, each row written at its given final position (positions cover 0..total-1)."""
        total = sum(positions.size for _, positions in parts)
        columns = {}
        for field in fields(Rows):
            column = np.empty(total, dtype=getattr(parts[0][0], field.name).dtype)
            for rows, positions in parts:
                column[positions] = getattr(rows, field.name)
            columns[field.name] = column
        return Rows(**columns)


def to_frame(rows: Rows) -> pd.DataFrame:
    """The PaySim-schema DataFrame of `rows` (ids formatted as PaySim strings)."""
    n = rows.step.size
    dest_prefixes = np.where(rows.dest_is_merchant, ord("M"), ord("C")).astype(np.uint8)
    prefixes = np.concatenate([np.full(n, ord("C"), np.uint8), dest_prefixes])
    names = format_account_ids(prefixes, np.concatenate([rows.orig_id, rows.dest_id]))
    columns = {
        "step": rows.step.astype(np.int64),
        "type": _TYPE_NAMES[rows.type_code],
        "amount": rows.amount,
        "nameOrig": names[:n],
        "oldbalanceOrg": rows.old_orig,
        "newbalanceOrig": rows.new_orig,
        "nameDest": names[n:],
        "oldbalanceDest": rows.old_dest,
        "newbalanceDest": rows.new_dest,
        "isFraud": rows.is_fraud.astype(np.int8),
        "isFlaggedFraud": rows.is_flagged.astype(np.int8),
    }
    return pd.DataFrame(columns, columns=PAYSIM_COLUMNS, copy=False)


def place_rows(
    rng: np.random.Generator,
    genuine_per_step: np.ndarray,
    account_steps: np.ndarray,
    rows_per_account: np.ndarray,
    steps: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the day's rows go: step order, each account's fraud rows kept together and inserted before a uniformly
    chosen genuine row of its step (or at the step's end).

    Returns the final positions of the genuine rows, the order in which to take the fraud rows (accounts by
    insertion point) and the final positions of the fraud rows in that order.
    """
    genuine = int(genuine_per_step.sum())
    step_index = account_steps - steps[0]
    step_start = np.cumsum(genuine_per_step) - genuine_per_step
    insert_at = step_start[step_index] + np.floor(rng.random(account_steps.size) * (genuine_per_step[step_index] + 1))
    by_position = np.argsort(insert_at, kind="stable")
    fraud_rows_sorted = rows_per_account[by_position]
    row_insert_at = np.repeat(insert_at[by_position].astype(np.int64), fraud_rows_sorted)
    first_row_of_account = np.cumsum(rows_per_account) - rows_per_account
    fraud_order = _expand_runs(first_row_of_account[by_position], fraud_rows_sorted)
    fraud_at = row_insert_at + np.arange(row_insert_at.size)
    genuine_index = np.arange(genuine)
    genuine_at = genuine_index + np.searchsorted(row_insert_at, genuine_index, side="right")
    return genuine_at, fraud_order, fraud_at


def _expand_runs(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of the ranges starts[i] .. starts[i] + lengths[i] - 1."""
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + offsets
