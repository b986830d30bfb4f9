"""Fraud rows: which accounts are attacked at which step, and their rows. Drain pattern: TRANSFERs of at most 10M
empty the victim's account to a mule, each followed by the mule's CASH_OUT; split pattern (drift): one structured
TRANSFER and its CASH_OUT, with balances that add up. The bank's rule blocks and flags a few large transfers."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from fraud_assets.core.schema import HOURS_PER_DAY, steps_of_day
from fraud_assets.simulation import profiles as cal
from fraud_assets.simulation.account_ids import DestinationPool, random_account_ids
from fraud_assets.simulation.money import DEST_BALANCE, cents, disturbed_balance, with_slips
from fraud_assets.simulation.rows import CASH_OUT, TRANSFER, Rows
from fraud_assets.simulation.scenarios import SPLIT_FRACTION_RANGE, STRUCTURED_AMOUNT_RANGE, DayDrift
from fraud_assets.simulation.settings import SimulationSettings


def fraud_account_steps(
    rng: np.random.Generator, day: int, settings: SimulationSettings, drift: DayDrift
) -> tuple[np.ndarray, np.ndarray]:
    """Step of each account attacked today (sorted) and whether it is attacked with the split pattern.

    The expected fraud *rows* per step come from the volume profile whatever the scenario: the account rate is
    those rows divided by the expected rows per account of the day's pattern. Drain-pattern accounts spread evenly
    over the hours; split-pattern accounts follow the genuine hour profile.
    """
    steps = np.asarray(steps_of_day(day), dtype=np.int64)
    rows_per_step = cal.expected_fraud_rows_per_step(day, settings.volume_profile, settings.scale)
    hour_share = cal.genuine_hour_share()[steps % HOURS_PER_DAY]
    split_share = drift.split_fraud_share
    drain_rows, split_rows = (1 - split_share) * rows_per_step, split_share * rows_per_step.sum() * hour_share
    drain_rate = drain_rows / expected_fraud_rows_per_account(drift.money_factor, split=False)
    split_rate = split_rows / expected_fraud_rows_per_account(drift.money_factor, split=True)
    drain_steps = np.repeat(steps, rng.poisson(drain_rate))
    split_steps = np.repeat(steps, rng.poisson(split_rate))
    account_steps = np.concatenate([drain_steps, split_steps])
    split = np.concatenate([np.zeros(drain_steps.size, bool), np.ones(split_steps.size, bool)])
    by_step = np.argsort(account_steps, kind="stable")
    return account_steps[by_step], split[by_step]


def fraud_rows(
    rng: np.random.Generator, account_steps: np.ndarray, split: np.ndarray, money_factor: float, pool: DestinationPool
) -> tuple[Rows, np.ndarray]:
    """Fraud rows of the attacked accounts, grouped by account in account order, and the row count per account.

    Drain pattern: TRANSFER pieces of at most the cap empty the victim's balance, each followed by the mule's
    CASH_OUT of the same amount. Split pattern: one TRANSFER of a genuine-looking amount that is 30-90% of the
    victim's balance, and the mule's CASH_OUT of it, both with balances that add up. A blocked (flagged) first
    transfer ends the attack.
    """
    accounts = account_steps.size
    drained_balance = cents(np.maximum(_fraud_balance(rng.random(accounts)) * money_factor, 0.01))
    split_amount = _split_pattern_amounts(rng, accounts, money_factor)
    split_balance = cents(split_amount / rng.uniform(*SPLIT_FRACTION_RANGE, accounts))
    balance = np.where(split, split_balance, drained_balance)
    first_amount = np.where(split, split_amount, np.minimum(balance, cal.FRAUD_AMOUNT_CAP))
    blocked = (rng.random(accounts) < cal.FLAG_MONITORED_SHARE) & (first_amount >= cal.FLAG_MIN_AMOUNT)
    pieces = np.where(split | blocked, 1, np.ceil(balance / cal.FRAUD_AMOUNT_CAP).astype(np.int64))

    account = np.repeat(np.arange(accounts), pieces)
    piece = np.arange(account.size) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    remaining = cents(balance[account] - piece * cal.FRAUD_AMOUNT_CAP)
    amount = np.where(split[account], split_amount[account], np.minimum(remaining, cal.FRAUD_AMOUNT_CAP))
    victim_id = random_account_ids(rng, accounts)[account]
    steps = account_steps[account]
    transfers = _fraud_transfers(
        rng, steps, victim_id, amount, remaining, split[account], blocked[account], pool, money_factor
    )
    cashing = ~blocked[account]
    cash_outs = _fraud_cash_outs(rng, steps[cashing], amount[cashing], split[account][cashing], pool, money_factor)

    # Each transfer is followed by its cash-out: order rows by (piece, transfer before cash-out).
    position = np.concatenate([2 * np.arange(account.size), 2 * np.flatnonzero(cashing) + 1])
    rows = Rows.concat([transfers, cash_outs]).take(np.argsort(position, kind="stable"))
    rows_per_account = np.bincount(account, minlength=accounts) + np.bincount(account[cashing], minlength=accounts)
    return rows, rows_per_account


def _split_pattern_amounts(rng: np.random.Generator, accounts: int, money_factor: float) -> np.ndarray:
    """Amounts of split-pattern fraud: structured just below the reporting limit (see STRUCTURED_AMOUNT_RANGE)."""
    return cents(_structured_amounts(rng.random(accounts)) * money_factor)


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
    pool: DestinationPool,
    money_factor: float,
) -> Rows:
    """The victims' TRANSFERs: to fresh mule accounts (0/0 balances) in the drain pattern, to established accounts
    of the destination pool whose balances add up in the split pattern; a blocked transfer leaves every balance
    as it was."""
    n = steps.size
    new_orig = cents(np.where(blocked, remaining, remaining - amount))
    recorded = rng.random(n) < cal.FRAUD_TRANSFER_DEST_RECORDED_SHARE
    established = cents(DEST_BALANCE.sample(np.full(n, TRANSFER), rng.random(n)) * money_factor)
    old_dest = np.where(split & ~blocked, established, 0.0)
    new_dest = np.where(blocked, 0.0, np.where(split | recorded, old_dest + amount, 0.0))
    return Rows(
        step=steps,
        type_code=np.full(n, TRANSFER),
        amount=amount,
        old_orig=remaining,
        new_orig=new_orig,
        old_dest=old_dest,
        new_dest=cents(new_dest),
        orig_id=victim_id,
        dest_id=np.where(split, pool.draw(rng, n), random_account_ids(rng, n)),
        dest_is_merchant=np.zeros(n, bool),
        is_fraud=np.ones(n, np.int8),
        is_flagged=blocked.astype(np.int8),
    )


def _fraud_cash_outs(
    rng: np.random.Generator,
    steps: np.ndarray,
    amount: np.ndarray,
    split: np.ndarray,
    pool: DestinationPool,
    money_factor: float,
) -> Rows:
    """The mules' CASH_OUTs: a different account from the transfer's destination, same amount, same step."""
    n = steps.size
    empty_mule = ~split & (rng.random(n) < cal.FRAUD_EMPTY_MULE_SHARE)
    cashed_share = rng.uniform(*SPLIT_FRACTION_RANGE, n)
    old_orig = np.where(split, cents(amount / cashed_share), np.where(empty_mule, 0.0, amount))
    new_orig = np.where(split, cents(old_orig - amount), 0.0)
    agent_balance = cents(DEST_BALANCE.sample(np.full(n, CASH_OUT), rng.random(n)) * money_factor)
    agent_empty = ~split & (rng.random(n) < cal.FRAUD_CASH_OUT_DEST_ZERO_SHARE)
    old_dest = np.where(agent_empty, 0.0, agent_balance)
    new_dest = cents(old_dest + amount)
    is_disturbed = ~split & (rng.random(n) < cal.FRAUD_CASH_OUT_DEST_DISTURBED_SHARE)
    disturbed = np.flatnonzero(is_disturbed)
    new_dest[disturbed] = cents(
        disturbed_balance(
            rng, new_dest[disturbed], old_dest[disturbed], amount[disturbed], np.full(disturbed.size, CASH_OUT)
        )
    )
    new_dest = with_slips(rng, new_dest, old_dest, ~split & ~is_disturbed & (old_dest > 0), cal.DEST_SLIP_SHARE)
    return Rows(
        step=steps,
        type_code=np.full(n, CASH_OUT),
        amount=amount,
        old_orig=old_orig,
        new_orig=new_orig,
        old_dest=old_dest,
        new_dest=new_dest,
        orig_id=random_account_ids(rng, n),
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


def _fraud_balance(u: np.ndarray) -> np.ndarray:
    """Balance of taken-over accounts at probabilities `u` (log-linear quantile table)."""
    return np.exp(np.interp(u, cal.FRAUD_BALANCE_GRID, np.log(cal.FRAUD_BALANCE_KNOTS)))
