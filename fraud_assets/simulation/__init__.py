"""PaySim-calibrated transaction simulator with drift scenarios.

    from fraud_assets.simulation import SimulationSettings, simulate_day, simulate_days

    day = simulate_day(3, SimulationSettings(seed=7, scale=0.1))

``simulate_day`` and ``simulate_days`` load the generator (scipy, pandas) on first use, so importing the settings
stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from fraud_assets.simulation.profiles import VOLUME_PROFILES
from fraud_assets.simulation.scenarios import DRIFT_SCENARIOS
from fraud_assets.simulation.settings import SimulationSettings

if TYPE_CHECKING:
    from fraud_assets.simulation.simulator import simulate_day, simulate_days

__all__ = ["DRIFT_SCENARIOS", "VOLUME_PROFILES", "SimulationSettings", "simulate_day", "simulate_days"]


def __getattr__(name: str) -> object:
    """Load the generator on first use of `simulate_day` or `simulate_days`."""
    if name in ("simulate_day", "simulate_days"):
        return getattr(importlib.import_module("fraud_assets.simulation.simulator"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
