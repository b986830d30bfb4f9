"""Settings from the environment: the simulator's defaults are SimulationSettings', bad values are named."""

from __future__ import annotations

import pytest

from fraud_assets.core.settings import Settings
from fraud_assets.simulation.settings import SimulationSettings


def test_the_simulators_defaults_come_from_simulation_settings(monkeypatch):
    for name in ("FRAUD_SIMULATION_SCALE", "FRAUD_SIMULATION_DAYS", "FRAUD_DRIFT_SCENARIO"):
        monkeypatch.delenv(name, raising=False)
    assert Settings.from_env().simulation == SimulationSettings()
    monkeypatch.setenv("FRAUD_SIMULATION_DAYS", "10")
    monkeypatch.setenv("FRAUD_ALERTS_PER_1000_TRANSACTIONS", "5.5")
    settings = Settings.from_env()
    assert (settings.simulation_days, settings.alerts_per_1000_transactions) == (10, 5.5)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("FRAUD_ALERTS_PER_1000_TRANSACTIONS", "0", "FRAUD_ALERTS_PER_1000_TRANSACTIONS must be a number > 0"),
    ("FRAUD_ALERTS_PER_1000_TRANSACTIONS", "many", "FRAUD_ALERTS_PER_1000_TRANSACTIONS='many' is not a valid float"),
    ("FRAUD_LABEL_DELAY_DAYS", "-1", "FRAUD_LABEL_DELAY_DAYS must be 0 or more"),
    ("FRAUD_SIMULATION_DAYS", "0", "num_days"),
])
def test_a_bad_value_is_named(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        Settings.from_env()
