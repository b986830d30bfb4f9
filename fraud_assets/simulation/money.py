"""Money values shared by the genuine and the fraud rows: exact cents, per-type log-linear quantile tables (the
destination balances' among them), and PaySim's balance imperfections (cent slips, other same-step flows)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from fraud_assets.core.schema import TRANSACTION_TYPES
from fraud_assets.simulation import profiles as cal


class TypeQuantiles:
    """Log-linear quantile tables of one money variable, one per type.

    Sampling reads a precomputed lookup of each table's quantile function at 4,096 equal probability steps (exact
    at those steps, linear in between, where log-linear and linear differ by far less than a cent in a thousand),
    which is several times faster than a binary search through the knots for each row.
    """

    _STEPS = 4096

    def __init__(self, knots_by_type: Mapping[str, tuple[float, ...]], grid: tuple[float, ...]) -> None:
        self._grid = np.asarray(grid)
        self._log_knots = {
            code: np.log(knots_by_type[name]) for code, name in enumerate(TRANSACTION_TYPES) if name in knots_by_type
        }
        steps = np.linspace(0.0, 1.0, self._STEPS + 1)
        values = np.ones((len(TRANSACTION_TYPES), self._STEPS + 2))
        for code, log_knots in self._log_knots.items():
            values[code, :-1] = np.exp(np.interp(steps, self._grid, log_knots))
            values[code, -1] = values[code, -2]
        self._start = values[:, :-1].ravel()  # per type and step: the value at the step
        self._rise = np.diff(values, axis=1).ravel()  # and the rise to the next step

    def sample(self, type_code: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Values at probabilities `u` (in [0, 1]) of each row's type table (junk for types without one)."""
        position = u * self._STEPS
        step = position.astype(np.intp)
        flat_step = type_code * (self._STEPS + 1) + step
        return np.take(self._start, flat_step) + (position - step) * np.take(self._rise, flat_step)

    def probability(self, type_code: int, values: np.ndarray) -> np.ndarray:
        """The table's CDF: probability of a value below `values` for type `type_code` (the inverse of sample)."""
        return np.interp(np.log(np.maximum(values, 1e-9)), self._log_knots[type_code], self._grid)


def per_type(values: Mapping[str, float]) -> np.ndarray:
    """Array indexed by type code; types absent from `values` get 0."""
    return np.array([values.get(name, 0.0) for name in TRANSACTION_TYPES])


DEST_BALANCE = TypeQuantiles(cal.DEST_BALANCE_KNOTS, cal.QUANTILE_GRID)
_DEST_DISTURBANCE_UP_SHARE = per_type(cal.DEST_DISTURBANCE_UP_SHARE)
_DEST_DISTURBANCE_LOG_MEAN = per_type(cal.DEST_DISTURBANCE_LOG_MEAN)
_DEST_DISTURBANCE_LOG_SD = per_type(cal.DEST_DISTURBANCE_LOG_SD)


def cents(values: np.ndarray) -> np.ndarray:
    """`values` rounded to exact cents."""
    return np.round(values, 2)


def band_index(values: np.ndarray, edges: tuple[float, ...]) -> np.ndarray:
    """Index of the band each value falls in: the number of `edges` at or below it."""
    band = np.zeros(values.size, dtype=np.intp)
    for edge in edges:
        band += values >= edge
    return band


def with_slips(
    rng: np.random.Generator, balance: np.ndarray, size: np.ndarray, eligible: np.ndarray, slip_share: tuple[float, ...]
) -> np.ndarray:
    """`balance` with a 0.01 cent slip (up or down, half each) on a share of the `eligible` rows that depends on the
    size of the balance before (profiles.SLIP_BALANCE_EDGES)."""
    rows = np.flatnonzero(eligible)
    share = np.asarray(slip_share)[band_index(size[rows], cal.SLIP_BALANCE_EDGES)]
    draw = rng.random(rows.size)
    slipped = balance.copy()
    slipped[rows] = cents(balance[rows] + np.where(draw < share / 2, -0.01, np.where(draw < share, 0.01, 0.0)))
    return slipped


def disturbed_balance(
    rng: np.random.Generator, balance: np.ndarray, old: np.ndarray, amount: np.ndarray, type_code: np.ndarray
) -> np.ndarray:
    """New balance `balance` moved by other same-step flows: +-amount * lognormal, never below 0 (and only upwards
    for an account that held nothing before, which real rows never show emptied to 0/0)."""
    noise = rng.standard_normal(amount.size)
    log_size = _DEST_DISTURBANCE_LOG_MEAN[type_code] + _DEST_DISTURBANCE_LOG_SD[type_code] * noise
    upwards = (rng.random(amount.size) < _DEST_DISTURBANCE_UP_SHARE[type_code]) | (old == 0)
    return np.maximum(balance + np.where(upwards, 1.0, -1.0) * amount * np.exp(log_size), 0.0)
