"""What to simulate: ``SimulationSettings``, checked when created.

Cheap to import (numpy and the calibration tables, no scipy or pandas), so that the project's settings can take the
simulator's defaults from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fraud_assets.simulation.profiles import PAYSIM_DAYS, VOLUME_PROFILES
from fraud_assets.simulation.scenarios import DRIFT_SCENARIOS


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
        _require(is_int(self.seed) and self.seed >= 0, "seed", self.seed, "a non-negative integer")
        _require(_is_real(self.scale) and 0 < self.scale < np.inf, "scale", self.scale, "a finite number > 0")
        _require(is_int(self.num_days) and self.num_days >= 1, "num_days", self.num_days, "an integer >= 1")
        _require(
            self.volume_profile in VOLUME_PROFILES, "volume_profile", self.volume_profile, f"one of {VOLUME_PROFILES}"
        )
        _require(self.scenario in DRIFT_SCENARIOS, "scenario", self.scenario, f"one of {DRIFT_SCENARIOS}")
        _require(
            is_int(self.drift_start_day) and self.drift_start_day >= 0,
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
                self.num_days <= PAYSIM_DAYS,
                "num_days",
                self.num_days,
                f"at most {PAYSIM_DAYS} with volume_profile 'paysim' (the real file's curve covers 31 days)",
            )


def is_int(value: object) -> bool:
    """Whether `value` is a Python or numpy integer (a bool is not)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _require(ok: bool, field: str, value: object, allowed: str) -> None:
    if not ok:
        raise ValueError(f"SimulationSettings.{field} must be {allowed}, got {value!r}")
