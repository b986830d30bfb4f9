"""PaySim-calibrated transaction simulator with drift scenarios.

    from fraud_assets.simulation import SimulationSettings, simulate_day, simulate_days

    day = simulate_day(3, SimulationSettings(seed=7, scale=0.1))
"""

from fraud_assets.simulation.profiles import VOLUME_PROFILES
from fraud_assets.simulation.scenarios import DRIFT_SCENARIOS
from fraud_assets.simulation.simulator import SimulationSettings, simulate_day, simulate_days

__all__ = ["DRIFT_SCENARIOS", "VOLUME_PROFILES", "SimulationSettings", "simulate_day", "simulate_days"]
