"""The simulator's entry points: ``simulate_day`` and ``simulate_days``.

``simulate_day(day, settings)`` returns one simulation day (24 PaySim steps) in the exact PaySim schema. A day is a
pure function of ``(settings, day)``: its random generator is ``np.random.default_rng([settings.seed, day])``, so any
day regenerates identically on its own, whichever other days were generated before.

How a day is built (all vectorised with numpy; the only loops run over a fixed handful of fields):

1. Volume: each step's genuine row count is Poisson around the volume profile (``profiles``); fraud accounts per
   step are Poisson too, evenly over the hours (or at genuine hours for the drifted "split" pattern).
2. Genuine rows (``genuine_rows``): type from the (possibly drifted) mix; amount and balances from per-type quantile
   tables; new balances follow PaySim's rules and its imperfections (origin balances floor at 0, cent slips,
   destination balances disturbed by other same-step flows); rare look-alikes drain their own account or pay a
   fresh account.
3. Fraud (``fraud_rows``): each taken-over account is drained by TRANSFERs of at most 10M to a mule, each followed in
   the same step by a CASH_OUT of the same amount from a different account (the transfer's destination is not the
   cash-out's origin). The bank's rule blocks and flags a few large transfers out of monitored accounts
   (``isFlaggedFraud``).
4. Order (``rows``): genuine rows in step order, each fraud account's rows kept together at a random position inside
   its step.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from fraud_assets.core.schema import steps_of_day
from fraud_assets.simulation import profiles as cal
from fraud_assets.simulation.account_ids import DestinationPool
from fraud_assets.simulation.fraud_rows import fraud_account_steps, fraud_rows
from fraud_assets.simulation.genuine_rows import genuine_rows
from fraud_assets.simulation.rows import Rows, place_rows, to_frame
from fraud_assets.simulation.scenarios import drift_for_day
from fraud_assets.simulation.settings import SimulationSettings, is_int


def simulate_day(day: int, settings: SimulationSettings) -> pd.DataFrame:
    """One simulation day (PaySim steps 24*day+1 .. 24*day+24) in the PaySim schema, sorted by step."""
    if not (is_int(day) and 0 <= day < settings.num_days):
        raise ValueError(f"day must be an integer in 0..{settings.num_days - 1} (settings.num_days), got {day!r}")
    rng = np.random.default_rng([settings.seed, int(day)])
    drift = drift_for_day(settings.scenario, day, settings.drift_start_day, settings.drift_strength)
    steps = np.asarray(steps_of_day(day), dtype=np.int64)
    dest_pool = DestinationPool(settings.seed, settings.scale)

    genuine_per_step = rng.poisson(cal.expected_genuine_rows_per_step(day, settings.volume_profile, settings.scale))
    genuine = genuine_rows(rng, np.repeat(steps, genuine_per_step), drift, dest_pool)
    account_steps, split = fraud_account_steps(rng, day, settings, drift)
    fraud, rows_per_account = fraud_rows(rng, account_steps, split, drift.money_factor, dest_pool)
    genuine_at, fraud_order, fraud_at = place_rows(rng, genuine_per_step, account_steps, rows_per_account, steps)
    return to_frame(Rows.placed([(genuine, genuine_at), (fraud.take(fraud_order), fraud_at)]))


def simulate_days(
    first_day: int, last_day: int, settings: SimulationSettings, on_day: Callable[[int, int], None] | None = None
) -> pd.DataFrame:
    """Days first_day..last_day (inclusive), concatenated in order with a fresh RangeIndex.

    `on_day(day, rows)` is called after each day is generated (progress reporting)."""
    if not (is_int(first_day) and is_int(last_day) and first_day <= last_day):
        raise ValueError(f"need integers first_day <= last_day, got first_day={first_day!r}, last_day={last_day!r}")
    days = []
    for day in range(first_day, last_day + 1):
        days.append(simulate_day(day, settings))
        if on_day is not None:
            on_day(day, len(days[-1]))
    return pd.concat(days, ignore_index=True)
