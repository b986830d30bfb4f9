"""The PaySim-calibrated transaction generator.

``simulate_day(day, settings)`` returns one simulation day (24 PaySim steps) in the exact PaySim schema. A day is a
pure function of ``(settings, day)``: its random generator is ``np.random.default_rng([settings.seed, day])``, so any
day regenerates identically on its own, whichever other days were generated before.

How a day is built (all vectorised with numpy; the only loops run over a fixed handful of fields):

1. Volume: each step's genuine row count is Poisson around the volume profile (``profiles``); fraud accounts per
   step are Poisson too, evenly over the hours (or at genuine hours for the drifted "split" pattern).
2. Genuine rows: type from the (possibly drifted) mix; amount and balances from per-type quantile tables; new
   balances follow PaySim's rules and its imperfections (origin balances floor at 0, cent slips, destination
   balances disturbed by other same-step flows); rare look-alikes drain their own account or pay a fresh account.
3. Fraud: each taken-over account is drained by TRANSFERs of at most 10M to a mule, each followed in the same step by
   a CASH_OUT of the same amount from a different account (the transfer's destination is not the cash-out's origin).
   The bank's rule blocks and flags a few large transfers out of monitored accounts (``isFlaggedFraud``).
4. Order: genuine rows in step order, each fraud account's rows kept together at a random position inside its step.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from scipy.special import ndtr

from fraud_assets.schema import HOURS_PER_DAY, PAYSIM_COLUMNS, TRANSACTION_TYPES, steps_of_day
from fraud_assets.simulation import profiles as cal
from fraud_assets.simulation.profiles import VOLUME_PROFILES
from fraud_assets.simulation.scenarios import (
    DRIFT_SCENARIOS,
    SPLIT_FRACTION_RANGE,
    STRUCTURED_AMOUNT_RANGE,
    DayDrift,
    drift_for_day,
)

CASH_IN, CASH_OUT, DEBIT, PAYMENT, TRANSFER = (
    TRANSACTION_TYPES.index(name) for name in ("CASH_IN", "CASH_OUT", "DEBIT", "PAYMENT", "TRANSFER")
)
_TYPE_NAMES = np.array(TRANSACTION_TYPES, dtype=object)


@dataclass(frozen=True)
class SimulationSettings:
    """What to simulate. ``scale`` 1.0 is PaySim's full rate: 6,362,620 rows over 31 days (per-day rate: other
    ``num_days`` keep the same rows per day). ``drift_strength`` 0 means no effect, 1 the documented default."""

    seed: int = 42
    scale: float = 0.1
    num_days: int = 31
    volume_profile: str = "steady"
    scenario: str = "none"
    drift_start_day: int = 20
    drift_strength: float = 1.0

    def __post_init__(self) -> None:
        _require(_is_int(self.seed) and self.seed >= 0, "seed", self.seed, "a non-negative integer")
        _require(_is_real(self.scale) and 0 < self.scale < np.inf, "scale", self.scale, "a finite number > 0")
        _require(_is_int(self.num_days) and self.num_days >= 1, "num_days", self.num_days, "an integer >= 1")
        _require(
            self.volume_profile in VOLUME_PROFILES, "volume_profile", self.volume_profile, f"one of {VOLUME_PROFILES}"
        )
        _require(self.scenario in DRIFT_SCENARIOS, "scenario", self.scenario, f"one of {DRIFT_SCENARIOS}")
        _require(
            _is_int(self.drift_start_day) and self.drift_start_day >= 0,
            "drift_start_day",
            self.drift_start_day,
            "an integer >= 0",
        )
        _require(
            _is_real(self.drift_strength) and 0 <= self.drift_strength < np.inf,
            "drift_strength",
            self.drift_strength,
            "a finite number >= 0",
        )
        if self.volume_profile == "paysim":
            _require(
                self.num_days <= cal.PAYSIM_DAYS,
                "num_days",
                self.num_days,
                f"at most {cal.PAYSIM_DAYS} with volume_profile 'paysim' (the real file's curve covers 31 days)",
            )


def simulate_day(day: int, settings: SimulationSettings) -> pd.DataFrame:
    """One simulation day (PaySim steps 24*day+1 .. 24*day+24) in the PaySim schema, sorted by step."""
    if not (_is_int(day) and 0 <= day < settings.num_days):
        raise ValueError(f"day must be an integer in 0..{settings.num_days - 1} (settings.num_days), got {day!r}")
    rng = np.random.default_rng([settings.seed, int(day)])
    drift = drift_for_day(settings.scenario, day, settings.drift_start_day, settings.drift_strength)
    steps = np.asarray(steps_of_day(day), dtype=np.int64)
    dest_pool = _DestinationPool(settings.seed, settings.scale)

    genuine_per_step = rng.poisson(cal.expected_genuine_rows_per_step(day, settings.volume_profile, settings.scale))
    genuine = _genuine_rows(rng, np.repeat(steps, genuine_per_step), drift, dest_pool)
    account_steps, split = _fraud_account_steps(rng, day, settings, drift)
    fraud, rows_per_account = _fraud_rows(rng, account_steps, split, drift.money_factor, dest_pool)
    genuine_at, fraud_order, fraud_at = _place_rows(rng, genuine_per_step, account_steps, rows_per_account, steps)
    return _to_frame(_Rows.placed([(genuine, genuine_at), (fraud.take(fraud_order), fraud_at)]))


def simulate_days(first_day: int, last_day: int, settings: SimulationSettings,
                  on_day: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Days first_day..last_day (inclusive), concatenated in order with a fresh RangeIndex.

    `on_day(day, rows)` is called after each day is generated (progress reporting)."""
    if not (_is_int(first_day) and _is_int(last_day) and first_day <= last_day):
        raise ValueError(f"need integers first_day <= last_day, got first_day={first_day!r}, last_day={last_day!r}")
    days = []
    for day in range(first_day, last_day + 1):
        days.append(simulate_day(day, settings))
        if on_day is not None:
            on_day(day, len(days[-1]))
    return pd.concat(days, ignore_index=True)


# ---------------------------------------------------------------------------------------------------------------
# Rows under construction
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class _Rows:
    """Column arrays of rows before ids are formatted; money values in exact cents."""

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
    def concat(parts: list[_Rows]) -> _Rows:
        return _Rows(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(_Rows)})

    def take(self, order: np.ndarray) -> _Rows:
        return _Rows(**{f.name: getattr(self, f.name)[order] for f in fields(_Rows)})

    @staticmethod
    def placed(parts: list[tuple[_Rows, np.ndarray]]) -> _Rows:
        """Rows of all `parts`, each row written at its given final position (positions cover 0..total-1)."""
        total = sum(positions.size for _, positions in parts)
        columns = {}
        for field in fields(_Rows):
            column = np.empty(total, dtype=getattr(parts[0][0], field.name).dtype)
            for rows, positions in parts:
                column[positions] = getattr(rows, field.name)
            columns[field.name] = column
        return _Rows(**columns)


def _to_frame(rows: _Rows) -> pd.DataFrame:
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


# ---------------------------------------------------------------------------------------------------------------
# Genuine rows
# ---------------------------------------------------------------------------------------------------------------
def _genuine_rows(rng: np.random.Generator, steps: np.ndarray, drift: DayDrift, pool: _DestinationPool) -> _Rows:
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
    dest_id = np.where(merchant | fresh_payee, _random_account_ids(rng, n), pool.draw(rng, n))
    return _Rows(
        step=steps,
        type_code=type_code,
        amount=amount,
        old_orig=old_orig,
        new_orig=new_orig,
        old_dest=old_dest,
        new_dest=new_dest,
        orig_id=_random_account_ids(rng, n),
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
    return _cents(amount * money_factor)


def _genuine_origin_balances(
    rng: np.random.Generator, type_code: np.ndarray, amount: np.ndarray, probability: np.ndarray, money_factor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Old and new origin balances, and the mask of look-alike rows that drain their own account."""
    n = type_code.size
    is_zero = rng.random(n) < _ORIGIN_ZERO_SHARE[type_code]
    old = np.where(is_zero, 0.0, _cents(_ORIGIN_BALANCE.sample(type_code, probability) * money_factor))
    self_drain = _is_transfer_or_cash_out(type_code) & (rng.random(n) < cal.GENUINE_SELF_DRAIN_SHARE)
    old[self_drain] = amount[self_drain]
    cash_in = type_code == CASH_IN
    covered = ~cash_in & (old >= amount)
    new = _cents(np.where(cash_in, old + amount, np.where(covered, old - amount, 0.0)))
    follows_rule = (cash_in | covered) & ~self_drain & (old > 0) & (new >= 0.01)
    return old, _with_slips(rng, new, old, follows_rule, cal.ORIGIN_SLIP_SHARE), self_drain


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
    origin_band = _band(old_orig / money_factor, cal.ORIGIN_BALANCE_BAND_EDGES)
    zero_share = np.where(origin_empty, 0.0, _DEST_ZERO_SHARE_BY_ORIGIN_BAND[type_code, origin_band])
    is_zero = (rng.random(n) < zero_share) | no_balance
    covered = (type_code == CASH_IN) & (old_orig >= cal.CASH_IN_COVERED_FROM_ORIGIN_BALANCE * money_factor)
    floor = _DEST_BALANCE.probability(CASH_IN, amount[covered] / money_factor)
    probability = probability.copy()
    probability[covered] = floor + probability[covered] * (1 - floor)
    old = np.where(is_zero, 0.0, _cents(_DEST_BALANCE.sample(type_code, probability) * money_factor))
    new = _cents(np.where(type_code == CASH_IN, np.maximum(old - amount, 0.0), old + amount))
    is_disturbed = rng.random(n) < _DEST_DISTURBED_SHARE[type_code]
    disturbed = np.flatnonzero(is_disturbed)
    new[disturbed] = _cents(_disturbed(rng, new[disturbed], old[disturbed], amount[disturbed], type_code[disturbed]))
    new[no_balance] = 0.0
    follows_rule = ~is_disturbed & (old > 0) & (new > 0)
    return old, _with_slips(rng, new, old, follows_rule, cal.DEST_SLIP_SHARE)


def _with_slips(
    rng: np.random.Generator, balance: np.ndarray, size: np.ndarray, eligible: np.ndarray, slip_share: tuple[float, ...]
) -> np.ndarray:
    """`balance` with a 0.01 cent slip (up or down, half each) on a share of the `eligible` rows that depends on the
    size of the balance before (profiles.SLIP_BALANCE_EDGES)."""
    rows = np.flatnonzero(eligible)
    share = np.asarray(slip_share)[_band(size[rows], cal.SLIP_BALANCE_EDGES)]
    draw = rng.random(rows.size)
    slipped = balance.copy()
    slipped[rows] = _cents(balance[rows] + np.where(draw < share / 2, -0.01, np.where(draw < share, 0.01, 0.0)))
    return slipped


def _disturbed(
    rng: np.random.Generator, balance: np.ndarray, old: np.ndarray, amount: np.ndarray, type_code: np.ndarray
) -> np.ndarray:
    """New balance `balance` moved by other same-step flows: +-amount * lognormal, never below 0 (and only upwards
    for an account that held nothing before, which real rows never show emptied to 0/0)."""
    noise = rng.standard_normal(amount.size)
    log_size = _DEST_DISTURBANCE_LOG_MEAN[type_code] + _DEST_DISTURBANCE_LOG_SD[type_code] * noise
    upwards = (rng.random(amount.size) < _DEST_DISTURBANCE_UP_SHARE[type_code]) | (old == 0)
    return np.maximum(balance + np.where(upwards, 1.0, -1.0) * amount * np.exp(log_size), 0.0)


# ---------------------------------------------------------------------------------------------------------------
# Fraud rows
# ---------------------------------------------------------------------------------------------------------------
def _fraud_account_steps(
    rng: np.random.Generator, day: int, settings: SimulationSettings, drift: DayDrift
) -> tuple[np.ndarray, np.ndarray]:
    """Step of each account attacked today (sorted) and whether it is attacked with the split pattern.

    The expected fraud *rows* per step come from the volume profile whatever the scenario: the account rate is
    those rows divided by the expected rows per account of the day's pattern. Drain-pattern accounts spread evenly
    over the hours; split-pattern accounts follow the genuine hour profile.
    """
    steps = np.asarray(steps_of_day(day), dtype=np.int64)
    fraud_rows = cal.expected_fraud_rows_per_step(day, settings.volume_profile, settings.scale)
    hour_share = cal.genuine_hour_share()[steps % HOURS_PER_DAY]
    split_share = drift.split_fraud_share
    drain_rows, split_rows = (1 - split_share) * fraud_rows, split_share * fraud_rows.sum() * hour_share
    drain_rate = drain_rows / expected_fraud_rows_per_account(drift.money_factor, split=False)
    split_rate = split_rows / expected_fraud_rows_per_account(drift.money_factor, split=True)
    drain_steps = np.repeat(steps, rng.poisson(drain_rate))
    split_steps = np.repeat(steps, rng.poisson(split_rate))
    account_steps = np.concatenate([drain_steps, split_steps])
    split = np.concatenate([np.zeros(drain_steps.size, bool), np.ones(split_steps.size, bool)])
    by_step = np.argsort(account_steps, kind="stable")
    return account_steps[by_step], split[by_step]


def _fraud_rows(
    rng: np.random.Generator, account_steps: np.ndarray, split: np.ndarray, money_factor: float, pool: _DestinationPool
) -> tuple[_Rows, np.ndarray]:
    """Fraud rows of the attacked accounts, grouped by account in account order, and the row count per account.

    Drain pattern: TRANSFER pieces of at most the cap empty the victim's balance, each followed by the mule's
    CASH_OUT of the same amount. Split pattern: one TRANSFER of a genuine-looking amount that is 30-90% of the
    victim's balance, and the mule's CASH_OUT of it, both with balances that add up. A blocked (flagged) first
    transfer ends the attack.
    """
    accounts = account_steps.size
    drained_balance = _cents(np.maximum(_fraud_balance(rng.random(accounts)) * money_factor, 0.01))
    split_amount = _split_pattern_amounts(rng, accounts, money_factor)
    split_balance = _cents(split_amount / rng.uniform(*SPLIT_FRACTION_RANGE, accounts))
    balance = np.where(split, split_balance, drained_balance)
    first_amount = np.where(split, split_amount, np.minimum(balance, cal.FRAUD_AMOUNT_CAP))
    blocked = (rng.random(accounts) < cal.FLAG_MONITORED_SHARE) & (first_amount >= cal.FLAG_MIN_AMOUNT)
    pieces = np.where(split | blocked, 1, np.ceil(balance / cal.FRAUD_AMOUNT_CAP).astype(np.int64))

    account = np.repeat(np.arange(accounts), pieces)
    piece = np.arange(account.size) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    remaining = _cents(balance[account] - piece * cal.FRAUD_AMOUNT_CAP)
    amount = np.where(split[account], split_amount[account], np.minimum(remaining, cal.FRAUD_AMOUNT_CAP))
    victim_id = _random_account_ids(rng, accounts)[account]
    steps = account_steps[account]
    transfers = _fraud_transfers(
        rng, steps, victim_id, amount, remaining, split[account], blocked[account], pool, money_factor
    )
    cashing = ~blocked[account]
    cash_outs = _fraud_cash_outs(rng, steps[cashing], amount[cashing], split[account][cashing], pool, money_factor)

    # Each transfer is followed by its cash-out: order rows by (piece, transfer before cash-out).
    position = np.concatenate([2 * np.arange(account.size), 2 * np.flatnonzero(cashing) + 1])
    rows = _Rows.concat([transfers, cash_outs]).take(np.argsort(position, kind="stable"))
    rows_per_account = np.bincount(account, minlength=accounts) + np.bincount(account[cashing], minlength=accounts)
    return rows, rows_per_account


def _split_pattern_amounts(rng: np.random.Generator, accounts: int, money_factor: float) -> np.ndarray:
    """Amounts of split-pattern fraud: structured just below the reporting limit (see STRUCTURED_AMOUNT_RANGE)."""
    return _cents(_structured_amounts(rng.random(accounts)) * money_factor)


def _structured_amounts(probabilities: np.ndarray) -> np.ndarray:
    low, high = STRUCTURED_AMOUNT_RANGE
    return low + (high - low) * probabilities


def _fraud_transfers(
    rng: np.random.Generator,
    steps: np.ndarray,
    victim_id: np.ndarray,
    amount: np.ndarray,
    remaining: np.ndarray,
    split: np.ndarray,
    blocked: np.ndarray,
    pool: _DestinationPool,
    money_factor: float,
) -> _Rows:
    """The victims' TRANSFERs: to fresh mule accounts (0/0 balances) in the drain pattern, to established accounts
    of the destination pool whose balances add up in the split pattern; a blocked transfer leaves every balance
    as it was."""
    n = steps.size
    new_orig = _cents(np.where(blocked, remaining, remaining - amount))
    recorded = rng.random(n) < cal.FRAUD_TRANSFER_DEST_RECORDED_SHARE
    established = _cents(_DEST_BALANCE.sample(np.full(n, TRANSFER), rng.random(n)) * money_factor)
    old_dest = np.where(split & ~blocked, established, 0.0)
    new_dest = np.where(blocked, 0.0, np.where(split | recorded, old_dest + amount, 0.0))
    return _Rows(
        step=steps,
        type_code=np.full(n, TRANSFER),
        amount=amount,
        old_orig=remaining,
        new_orig=new_orig,
        old_dest=old_dest,
        new_dest=_cents(new_dest),
        orig_id=victim_id,
        dest_id=np.where(split, pool.draw(rng, n), _random_account_ids(rng, n)),
        dest_is_merchant=np.zeros(n, bool),
        is_fraud=np.ones(n, np.int8),
        is_flagged=blocked.astype(np.int8),
    )


def _fraud_cash_outs(
    rng: np.random.Generator,
    steps: np.ndarray,
    amount: np.ndarray,
    split: np.ndarray,
    pool: _DestinationPool,
    money_factor: float,
) -> _Rows:
    """The mules' CASH_OUTs: a different account from the transfer's destination, same amount, same step."""
    n = steps.size
    empty_mule = ~split & (rng.random(n) < cal.FRAUD_EMPTY_MULE_SHARE)
    cashed_share = rng.uniform(*SPLIT_FRACTION_RANGE, n)
    old_orig = np.where(split, _cents(amount / cashed_share), np.where(empty_mule, 0.0, amount))
    new_orig = np.where(split, _cents(old_orig - amount), 0.0)
    agent_balance = _cents(_DEST_BALANCE.sample(np.full(n, CASH_OUT), rng.random(n)) * money_factor)
    agent_empty = ~split & (rng.random(n) < cal.FRAUD_CASH_OUT_DEST_ZERO_SHARE)
    old_dest = np.where(agent_empty, 0.0, agent_balance)
    new_dest = _cents(old_dest + amount)
    is_disturbed = ~split & (rng.random(n) < cal.FRAUD_CASH_OUT_DEST_DISTURBED_SHARE)
    disturbed = np.flatnonzero(is_disturbed)
    new_dest[disturbed] = _cents(
        _disturbed(rng, new_dest[disturbed], old_dest[disturbed], amount[disturbed], np.full(disturbed.size, CASH_OUT))
    )
    new_dest = _with_slips(rng, new_dest, old_dest, ~split & ~is_disturbed & (old_dest > 0), cal.DEST_SLIP_SHARE)
    return _Rows(
        step=steps,
        type_code=np.full(n, CASH_OUT),
        amount=amount,
        old_orig=old_orig,
        new_orig=new_orig,
        old_dest=old_dest,
        new_dest=new_dest,
        orig_id=_random_account_ids(rng, n),
        dest_id=pool.draw(rng, n),
        dest_is_merchant=np.zeros(n, bool),
        is_fraud=np.ones(n, np.int8),
        is_flagged=np.zeros(n, np.int8),
    )


@lru_cache(maxsize=64)
def expected_fraud_rows_per_account(money_factor: float, split: bool) -> float:
    """Expected fraud rows one attacked account produces (2 per piece, 1 if the first transfer is blocked).

    Integrated over a fine probability grid of the victim's balance (drain) or of the amount (split).
    """
    probabilities = (np.arange(20_000) + 0.5) / 20_000
    if split:
        first = _structured_amounts(probabilities) * money_factor
        pieces = np.ones_like(first)
    else:
        balance = _fraud_balance(probabilities) * money_factor
        first = np.minimum(balance, cal.FRAUD_AMOUNT_CAP)
        pieces = np.ceil(balance / cal.FRAUD_AMOUNT_CAP)
    blocked = cal.FLAG_MONITORED_SHARE * (first >= cal.FLAG_MIN_AMOUNT)
    return float(np.mean(blocked * 1 + (1 - blocked) * 2 * pieces))


# ---------------------------------------------------------------------------------------------------------------
# Row order
# ---------------------------------------------------------------------------------------------------------------
def _place_rows(
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


# ---------------------------------------------------------------------------------------------------------------
# Account ids
# ---------------------------------------------------------------------------------------------------------------
class _DestinationPool:
    """A fixed (per seed and scale) pool of destination customers: account k has id MIN + (k*MULT + offset) % SPAN,
    a bijection, so the pool's ids are distinct and stable across days."""

    _MULTIPLIER = 1_000_000_007  # prime, coprime with the id span
    _SPAN = cal.ACCOUNT_ID_END - cal.ACCOUNT_ID_MIN

    def __init__(self, seed: int, scale: float) -> None:
        self.size = max(1, round(cal.DEST_POOL_ACCOUNTS_AT_FULL_SCALE * scale))
        self.offset = int(np.random.SeedSequence(seed).generate_state(1, np.uint64)[0] % self._SPAN)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        account = rng.integers(0, self.size, n, dtype=np.int64)
        return cal.ACCOUNT_ID_MIN + (account * self._MULTIPLIER + self.offset) % self._SPAN


def _random_account_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(cal.ACCOUNT_ID_MIN, cal.ACCOUNT_ID_END, n, dtype=np.int64)


def _group_table(texts: list[str]) -> np.ndarray:
    """Four-character ASCII texts as little-endian uint32 words (one word = one 4-byte slot of an id's text)."""
    return np.frombuffer("".join(texts).encode("ascii"), dtype="<u4")


_FOUR_DIGITS = _group_table([f"{value:04d}" for value in range(10_000)])
_HEADS = {  # prefix and first one or two digits, right-aligned in 4 characters, for numbers // 10**8 in 1..42
    prefix: _group_table([f"{prefix}{value}".rjust(4) if value else "    " for value in range(43)]) for prefix in "CM"
}
_SEPARATOR = _group_table(["    "])[0]


def format_account_ids(prefixes: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """Object array of Python str ids ``chr(prefixes[i]) + str(numbers[i])``, prefixes "C" or "M" (as byte codes),
    for 10**8 <= numbers < 2**32 (PaySim's 9-10 digit ids).

    Vectorised: each id's text is built as four 4-byte words (separator, prefix with the leading digits, two groups
    of four digits) from lookup tables; the buffer is decoded once and split on whitespace, which creates the
    Python strings in C instead of one formatting call per id.
    """
    number = numbers.astype(np.uint32)
    high, low = np.divmod(number, np.uint32(10_000))
    head, middle = np.divmod(high, np.uint32(10_000))
    words = np.empty((number.size, 4), dtype="<u4")
    words[:, 0] = _SEPARATOR
    words[:, 1] = np.where(prefixes == ord("M"), _HEADS["M"][head], _HEADS["C"][head])
    words[:, 2] = _FOUR_DIGITS[middle]
    words[:, 3] = _FOUR_DIGITS[low]
    ids = np.empty(number.size, dtype=object)
    ids[:] = words.tobytes().decode("ascii").split()
    return ids


# ---------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------
class _TypeQuantiles:
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


def _fraud_balance(u: np.ndarray) -> np.ndarray:
    """Balance of taken-over accounts at probabilities `u` (log-linear quantile table)."""
    return np.exp(np.interp(u, cal.FRAUD_BALANCE_GRID, np.log(cal.FRAUD_BALANCE_KNOTS)))


def _per_type(values: Mapping[str, float]) -> np.ndarray:
    """Array indexed by type code; types absent from `values` get 0."""
    return np.array([values.get(name, 0.0) for name in TRANSACTION_TYPES])


_GENUINE_AMOUNT = _TypeQuantiles(cal.GENUINE_AMOUNT_KNOTS, cal.QUANTILE_GRID)
_ORIGIN_BALANCE = _TypeQuantiles(cal.ORIGIN_BALANCE_KNOTS, cal.QUANTILE_GRID)
_DEST_BALANCE = _TypeQuantiles(cal.DEST_BALANCE_KNOTS, cal.QUANTILE_GRID)
_ORIGIN_ZERO_SHARE = _per_type(cal.ORIGIN_ZERO_SHARE)
_DEST_ZERO_SHARE_BY_ORIGIN_BAND = np.array(
    [cal.DEST_ZERO_SHARE_BY_ORIGIN_BAND.get(name, (0.0, 0.0, 0.0)) for name in TRANSACTION_TYPES]
)
_EMPTY_ORIGIN_SHARE_AMONG_FUNDED_DEST = _ORIGIN_ZERO_SHARE / (1 - _per_type(cal.DEST_ZERO_SHARE))
_DEST_LATENT_AMOUNT_WEIGHT = _per_type(cal.DEST_LATENT_AMOUNT_WEIGHT)
_DEST_LATENT_EMPTY_ORIGIN_WEIGHT = _per_type(cal.DEST_LATENT_EMPTY_ORIGIN_WEIGHT)
_DEST_LATENT_ORIGIN_WEIGHT = _per_type(cal.DEST_LATENT_ORIGIN_WEIGHT)
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
_DEST_DISTURBED_SHARE = _per_type(cal.DEST_DISTURBED_SHARE)
_DEST_DISTURBANCE_UP_SHARE = _per_type(cal.DEST_DISTURBANCE_UP_SHARE)
_DEST_DISTURBANCE_LOG_MEAN = _per_type(cal.DEST_DISTURBANCE_LOG_MEAN)
_DEST_DISTURBANCE_LOG_SD = _per_type(cal.DEST_DISTURBANCE_LOG_SD)


def _band(values: np.ndarray, edges: tuple[float, ...]) -> np.ndarray:
    """Index of the band each value falls in: the number of `edges` at or below it."""
    band = np.zeros(values.size, dtype=np.intp)
    for edge in edges:
        band += values >= edge
    return band


def _is_transfer_or_cash_out(type_code: np.ndarray) -> np.ndarray:
    return (type_code == TRANSFER) | (type_code == CASH_OUT)


def _cents(values: np.ndarray) -> np.ndarray:
    return np.round(values, 2)


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _require(ok: bool, field: str, value: object, allowed: str) -> None:
    if not ok:
        raise ValueError(f"SimulationSettings.{field} must be {allowed}, got {value!r}")
