"""Genuine (non-fraud) rows: type from the day's mix; amount and balances from per-type quantile tables, tied
together by normal scores; new balances by PaySim's rules and its imperfections; rare look-alikes that drain their
own account or pay a fresh account."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from fraud_assets.core.schema import HOURS_PER_DAY, TRANSACTION_TYPES
from fraud_assets.simulation import profiles as cal
from fraud_assets.simulation.account_ids import DestinationPool, random_account_ids
from fraud_assets.simulation.money import (
    DEST_BALANCE,
    TypeQuantiles,
    band_index,
    cents,
    disturbed_balance,
    per_type,
    with_slips,
)
from fraud_assets.simulation.rows import CASH_IN, CASH_OUT, PAYMENT, TRANSFER, Rows
from fraud_assets.simulation.scenarios import DayDrift


def genuine_rows(rng: np.random.Generator, steps: np.ndarray, drift: DayDrift, pool: DestinationPool) -> Rows:
    """One genuine row per entry of `steps`, under the day's `drift`; customer destinations come from `pool`."""
    n = steps.size
    cumulative_share = np.cumsum(drift.genuine_type_shares)
    type_code = np.searchsorted(cumulative_share, rng.random(n), side="right")
    type_code = np.minimum(type_code, len(TRANSACTION_TYPES) - 1)
    z_amount = (
        _AMOUNT_NOISE_SD[type_code] * rng.standard_normal(n)
        + _AMOUNT_HOUR_SHIFT[type_code, _HOUR_BUCKET[steps % HOURS_PER_DAY]]
    )
    z_origin = rng.standard_normal(n)
    amount = _genuine_amounts(rng, type_code, ndtr(z_amount), drift.money_factor)
    old_orig, new_orig, self_drain = _genuine_origin_balances(
        rng, type_code, amount, ndtr(z_origin), drift.money_factor
    )
    fresh_payee = (self_drain & (type_code == TRANSFER)) | (
        _is_transfer_or_cash_out(type_code) & (rng.random(n) < cal.GENUINE_FRESH_PAYEE_SHARE)
    )
    origin_empty = old_orig == 0
    z_dest = _destination_latent(rng, type_code, z_amount, z_origin, origin_empty)
    old_dest, new_dest = _genuine_destination_balances(
        rng, type_code, amount, old_orig, ndtr(z_dest), fresh_payee, drift.money_factor
    )
    merchant = type_code == PAYMENT
    dest_id = np.where(merchant | fresh_payee, random_account_ids(rng, n), pool.draw(rng, n))
    return Rows(
        step=steps,
        type_code=type_code,
        amount=amount,
        old_orig=old_orig,
        new_orig=new_orig,
        old_dest=old_dest,
        new_dest=new_dest,
        orig_id=random_account_ids(rng, n),
        dest_id=dest_id,
        dest_is_merchant=merchant,
        is_fraud=np.zeros(n, np.int8),
        is_flagged=np.zeros(n, np.int8),
    )


def _genuine_amounts(
    rng: np.random.Generator, type_code: np.ndarray, probability: np.ndarray, money_factor: float
) -> np.ndarray:
    amount = _GENUINE_AMOUNT.sample(type_code, probability)
    at_cap = (type_code == TRANSFER) & (rng.random(type_code.size) < cal.GENUINE_TRANSFER_AT_CAP_SHARE)
    amount[at_cap] = cal.FRAUD_AMOUNT_CAP
    return cents(amount * money_factor)


def _genuine_origin_balances(
    rng: np.random.Generator, type_code: np.ndarray, amount: np.ndarray, probability: np.ndarray, money_factor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Old and new origin balances, and the mask of look-alike rows that drain their own account."""
    n = type_code.size
    is_zero = rng.random(n) < _ORIGIN_ZERO_SHARE[type_code]
    old = np.where(is_zero, 0.0, cents(_ORIGIN_BALANCE.sample(type_code, probability) * money_factor))
    self_drain = _is_transfer_or_cash_out(type_code) & (rng.random(n) < cal.GENUINE_SELF_DRAIN_SHARE)
    old[self_drain] = amount[self_drain]
    cash_in = type_code == CASH_IN
    covered = ~cash_in & (old >= amount)
    new = cents(np.where(cash_in, old + amount, np.where(covered, old - amount, 0.0)))
    follows_rule = (cash_in | covered) & ~self_drain & (old > 0) & (new >= 0.01)
    return old, with_slips(rng, new, old, follows_rule, cal.ORIGIN_SLIP_SHARE), self_drain


def _destination_latent(
    rng: np.random.Generator,
    type_code: np.ndarray,
    z_amount: np.ndarray,
    z_origin: np.ndarray,
    origin_empty: np.ndarray,
) -> np.ndarray:
    """Standard-normal score of the destination balance, tied to the amount and the origin (profiles)."""
    empty_centered = origin_empty - _EMPTY_ORIGIN_SHARE_AMONG_FUNDED_DEST[type_code]
    explained = (
        _DEST_LATENT_AMOUNT_WEIGHT[type_code] * z_amount
        + _DEST_LATENT_EMPTY_ORIGIN_WEIGHT[type_code] * empty_centered
        + _DEST_LATENT_ORIGIN_WEIGHT[type_code] * np.where(origin_empty, 0.0, z_origin)
    )
    return explained + _DEST_LATENT_NOISE_SD[type_code] * rng.standard_normal(type_code.size)


def _genuine_destination_balances(
    rng: np.random.Generator,
    type_code: np.ndarray,
    amount: np.ndarray,
    old_orig: np.ndarray,
    probability: np.ndarray,
    fresh_payee: np.ndarray,
    money_factor: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Old and new destination balances: merchants and fresh payees 0/0, others by PaySim's rules plus noise."""
    n = type_code.size
    origin_empty = old_orig == 0
    no_balance = (type_code == PAYMENT) | fresh_payee
    origin_band = band_index(old_orig / money_factor, cal.ORIGIN_BALANCE_BAND_EDGES)
    zero_share = np.where(origin_empty, 0.0, _DEST_ZERO_SHARE_BY_ORIGIN_BAND[type_code, origin_band])
    is_zero = (rng.random(n) < zero_share) | no_balance
    covered = (type_code == CASH_IN) & (old_orig >= cal.CASH_IN_COVERED_FROM_ORIGIN_BALANCE * money_factor)
    floor = DEST_BALANCE.probability(CASH_IN, amount[covered] / money_factor)
    probability = probability.copy()
    probability[covered] = floor + probability[covered] * (1 - floor)
    old = np.where(is_zero, 0.0, cents(DEST_BALANCE.sample(type_code, probability) * money_factor))
    new = cents(np.where(type_code == CASH_IN, np.maximum(old - amount, 0.0), old + amount))
    is_disturbed = rng.random(n) < _DEST_DISTURBED_SHARE[type_code]
    disturbed = np.flatnonzero(is_disturbed)
    new[disturbed] = cents(
        disturbed_balance(rng, new[disturbed], old[disturbed], amount[disturbed], type_code[disturbed])
    )
    new[no_balance] = 0.0
    follows_rule = ~is_disturbed & (old > 0) & (new > 0)
    return old, with_slips(rng, new, old, follows_rule, cal.DEST_SLIP_SHARE)


def _is_transfer_or_cash_out(type_code: np.ndarray) -> np.ndarray:
    return (type_code == TRANSFER) | (type_code == CASH_OUT)


_GENUINE_AMOUNT = TypeQuantiles(cal.GENUINE_AMOUNT_KNOTS, cal.QUANTILE_GRID)
_ORIGIN_BALANCE = TypeQuantiles(cal.ORIGIN_BALANCE_KNOTS, cal.QUANTILE_GRID)
_ORIGIN_ZERO_SHARE = per_type(cal.ORIGIN_ZERO_SHARE)
_DEST_ZERO_SHARE_BY_ORIGIN_BAND = np.array(
    [cal.DEST_ZERO_SHARE_BY_ORIGIN_BAND.get(name, (0.0, 0.0, 0.0)) for name in TRANSACTION_TYPES]
)
_EMPTY_ORIGIN_SHARE_AMONG_FUNDED_DEST = _ORIGIN_ZERO_SHARE / (1 - per_type(cal.DEST_ZERO_SHARE))
_DEST_LATENT_AMOUNT_WEIGHT = per_type(cal.DEST_LATENT_AMOUNT_WEIGHT)
_DEST_LATENT_EMPTY_ORIGIN_WEIGHT = per_type(cal.DEST_LATENT_EMPTY_ORIGIN_WEIGHT)
_DEST_LATENT_ORIGIN_WEIGHT = per_type(cal.DEST_LATENT_ORIGIN_WEIGHT)
_DEST_LATENT_NOISE_SD = np.sqrt(
    1
    - _DEST_LATENT_AMOUNT_WEIGHT**2
    - _DEST_LATENT_EMPTY_ORIGIN_WEIGHT**2
    * _EMPTY_ORIGIN_SHARE_AMONG_FUNDED_DEST
    * (1 - _EMPTY_ORIGIN_SHARE_AMONG_FUNDED_DEST)
    - _DEST_LATENT_ORIGIN_WEIGHT**2 * (1 - _EMPTY_ORIGIN_SHARE_AMONG_FUNDED_DEST)
)
_HOUR_BUCKET = np.searchsorted(cal.AMOUNT_HOUR_BUCKET_LAST_HOURS, np.arange(HOURS_PER_DAY))


def _centred_hour_shifts() -> tuple[np.ndarray, np.ndarray]:
    """Amount hour shifts centred over the genuine hour profile, and the noise sd that keeps the amount's normal
    score at mean 0 and variance 1, so that the quantile tables' marginals (and the facts' means) hold."""
    bucket_share = np.bincount(_HOUR_BUCKET, weights=cal.genuine_hour_share())
    shifts = np.array([cal.AMOUNT_HOUR_SHIFT[name] for name in TRANSACTION_TYPES])
    shifts = shifts - (shifts @ bucket_share)[:, None]
    return shifts, np.sqrt(1 - (shifts**2) @ bucket_share)


_AMOUNT_HOUR_SHIFT, _AMOUNT_NOISE_SD = _centred_hour_shifts()
_DEST_DISTURBED_SHARE = per_type(cal.DEST_DISTURBED_SHARE)
