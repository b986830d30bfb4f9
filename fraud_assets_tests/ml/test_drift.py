from __future__ import annotations

import pytest

from fraud_assets.ml.drift import measure_drift, monitored_frame, sample_rows
from fraud_assets.simulation import SimulationSettings, simulate_day, simulate_days

SCALE = 0.03


def share_drifted(scenario: str, day: int) -> tuple[float, list[str]]:
    settings = SimulationSettings(scale=SCALE, scenario=scenario, drift_start_day=5)
    reference = monitored_frame(sample_rows(simulate_days(0, 3, settings), 5000, 0), None)
    current = monitored_frame(simulate_day(day, settings), None)
    result = measure_drift(current, reference, day)
    return result.share_drifted, result.table.loc[result.table["drifted"], "column"].tolist()


def test_a_stationary_day_shows_no_drift_and_values_come_from_the_report():
    share, drifted = share_drifted("none", 6)
    assert share == 0.0 and drifted == []


@pytest.mark.parametrize("scenario, expected", [("amount_inflation", {"amount", "oldbalanceOrg"}),
                                                ("type_mix_shift", {"type", "dest_is_merchant"})])
def test_covariate_drift_scenarios_drift_many_features_from_their_start(scenario, expected):
    before, _ = share_drifted(scenario, 4)
    after, drifted = share_drifted(scenario, 6)
    assert before < 0.3 <= after
    assert expected <= set(drifted)


def test_a_fraud_pattern_shift_is_invisible_to_population_drift():
    share, _ = share_drifted("fraud_pattern_shift", 6)
    assert share < 0.3  # why the score-drift and recall checks exist
