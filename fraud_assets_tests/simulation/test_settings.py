"""``SimulationSettings``: its defaults, its checks, and an import cheap enough for the project's settings."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from fraud_assets.simulation import DRIFT_SCENARIOS, VOLUME_PROFILES, SimulationSettings


def test_public_constants():
    assert DRIFT_SCENARIOS == ("none", "amount_inflation", "type_mix_shift", "fraud_pattern_shift")
    assert VOLUME_PROFILES == ("steady", "paysim")
    assert SimulationSettings() == SimulationSettings(
        seed=42,
        scale=0.1,
        num_days=31,
        volume_profile="steady",
        scenario="none",
        drift_start_day=20,
        drift_strength=1.0,
    )


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("volume_profile", "weekly", "('steady', 'paysim')"),
        ("scenario", "flood", "('none', 'amount_inflation', 'type_mix_shift', 'fraud_pattern_shift')"),
        ("scale", 0, "> 0"),
        ("scale", -0.5, "> 0"),
        ("num_days", 0, ">= 1"),
        ("drift_start_day", -1, ">= 0"),
        ("drift_strength", -0.1, ">= 0"),
        ("seed", -3, "non-negative"),
    ],
)
def test_invalid_settings_name_the_field_the_value_and_what_is_allowed(field, value, allowed):
    with pytest.raises(ValueError) as error:
        SimulationSettings(**{field: value})
    message = str(error.value)
    assert field in message and repr(value) in message and allowed in message


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SimulationSettings().scale = 2.0  # type: ignore[misc]


def test_paysim_profile_covers_at_most_the_real_files_31_days():
    with pytest.raises(ValueError, match="num_days.*31"):
        SimulationSettings(volume_profile="paysim", num_days=32)


def test_importing_the_settings_loads_neither_scipy_nor_pandas():
    """The project's settings import SimulationSettings; the generator's heavy dependencies load only when used."""
    code = (
        "import sys, fraud_assets.simulation.settings; "
        "print(sorted({name.split('.')[0] for name in sys.modules} & {'scipy', 'pandas'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
