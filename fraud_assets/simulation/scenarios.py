"""Drift scenarios: how the simulated population changes from a start day on.

A scenario turns (day, start day, strength) into a ``DayDrift``, the handful of knobs the generator reads. Before the
start day every scenario returns ``NO_DRIFT``, so those days are identical to scenario "none" for the same seed.
``strength`` scales the effect: 0 changes nothing, 1 is the documented default below, larger is stronger.

- "none": stationary.
- "amount_inflation" (covariate drift): every amount and balance, genuine and fraud, is multiplied by
  ``1 + 1.5 * strength`` (x2.5 at the default). Types, labels and balance relations are unchanged; the fraud cap of
  10M stays, so inflated victims are drained in more pieces.
- "type_mix_shift" (prior/categorical drift): a share ``min(1, 0.5 * strength)`` of genuine PAYMENT traffic moves to
  TRANSFER and CASH_OUT, half each (at the default PAYMENT falls from 33.8% to 16.9% of rows, TRANSFER doubles).
  The moved rows take their new type's distributions; fraud is unchanged.
- "fraud_pattern_shift" (concept drift): a share ``min(1, strength)`` of fraud accounts (all of them at the
  default) switch to a "split" pattern: structuring. The fraudster transfers an amount just below the 200,000 that
  transfers are widely (and wrongly) believed to be flagged above, drawn uniformly in ``STRUCTURED_AMOUNT_RANGE``,
  which is a random 30-90% of the victim's balance (so the origin keeps money and the amount is not the balance),
  to an established account whose balances add up; the mule cashes out the same amount, 30-90% of its own balance,
  again adding up. These transactions happen at the hours of genuine traffic instead of evenly over the day, so
  every feature the drain pattern taught a model (drained origin, empty destination, night hours) is gone. The
  pattern stays learnable once its labels arrive: amounts in a narrow band below the limit, from origins that keep
  10-70% of a balance covering the amount, with balances adding up exactly, are rare in genuine traffic.
"""

from __future__ import annotations

from dataclasses import dataclass

from fraud_assets.core.schema import TRANSACTION_TYPES
from fraud_assets.simulation.profiles import genuine_type_shares

DRIFT_SCENARIOS: tuple[str, ...] = ("none", "amount_inflation", "type_mix_shift", "fraud_pattern_shift")

AMOUNT_INFLATION_PER_STRENGTH = 1.5  # money factor 1 + 1.5 * strength
MOVED_PAYMENT_SHARE_PER_STRENGTH = 0.5  # share of PAYMENT traffic moved, capped at 1
MOVED_PAYMENT_TO_TRANSFER = 0.5  # the rest of the moved traffic becomes CASH_OUT
SPLIT_FRAUD_SHARE_PER_STRENGTH = 1.0  # share of fraud accounts using the split pattern, capped at 1
SPLIT_FRACTION_RANGE: tuple[float, float] = (0.3, 0.9)  # share of a balance moved by one split-pattern transaction
STRUCTURED_AMOUNT_RANGE: tuple[float, float] = (180_000.0, 199_999.99)  # split-pattern amounts, below the limit


@dataclass(frozen=True)
class DayDrift:
    """What a scenario changes on one day.

    money_factor: multiplies every amount and balance.
    genuine_type_shares: probability of each type among genuine rows, aligned with TRANSACTION_TYPES.
    split_fraud_share: share of fraud accounts attacked with the split pattern instead of the drain pattern.
    """

    money_factor: float
    genuine_type_shares: tuple[float, ...]
    split_fraud_share: float


NO_DRIFT = DayDrift(
    money_factor=1.0, genuine_type_shares=tuple(genuine_type_shares().tolist()), split_fraud_share=0.0
)


def drift_for_day(scenario: str, day: int, start_day: int, strength: float) -> DayDrift:
    """The drift of `scenario` on `day`: NO_DRIFT before `start_day`, the scenario's effect from it on."""
    if scenario not in DRIFT_SCENARIOS:
        raise ValueError(f"scenario must be one of {DRIFT_SCENARIOS}, got {scenario!r}")
    if scenario == "none" or day < start_day:
        return NO_DRIFT
    if scenario == "amount_inflation":
        return DayDrift(1.0 + AMOUNT_INFLATION_PER_STRENGTH * strength, NO_DRIFT.genuine_type_shares, 0.0)
    if scenario == "type_mix_shift":
        return DayDrift(1.0, _shifted_type_shares(strength), 0.0)
    return DayDrift(1.0, NO_DRIFT.genuine_type_shares, min(1.0, SPLIT_FRAUD_SHARE_PER_STRENGTH * strength))


def _shifted_type_shares(strength: float) -> tuple[float, ...]:
    """Genuine type shares after moving part of PAYMENT to TRANSFER and CASH_OUT."""
    shares = genuine_type_shares()
    index = {name: i for i, name in enumerate(TRANSACTION_TYPES)}
    moved = shares[index["PAYMENT"]] * min(1.0, MOVED_PAYMENT_SHARE_PER_STRENGTH * strength)
    shifted = shares.copy()
    shifted[index["PAYMENT"]] -= moved
    shifted[index["TRANSFER"]] += moved * MOVED_PAYMENT_TO_TRANSFER
    shifted[index["CASH_OUT"]] += moved * (1 - MOVED_PAYMENT_TO_TRANSFER)
    return tuple(shifted.tolist())
