"""The main job on real PaySim rows (`FRAUD_SOURCE=paysim_csv`), as a user with the real file runs it: every day with
fraud after the first model has alerts, recall at the threshold holds on the days after training, and where the
tied top scores exceed the analysts' budget, the summary and the model card say by how much instead of alerting
nothing (the threshold used to fail open to zero alerts there)."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

from fraud_assets.cli.run_pipeline import FIRST_MODEL_AS_OF_DAY
from fraud_assets.core.settings import Settings
from fraud_assets.defs.resources.model_registry import ModelRegistry
from fraud_assets_tests.conftest import shared_file


@pytest.fixture(scope="module")
def real_csv_run(tmp_path_factory) -> tuple[Settings, str]:
    """`python -m fraud_assets.cli.run_pipeline` on the 10,000 real rows over steps 1-741 (5% fraud: oversampled)."""
    csv = shared_file("data/paysim_random_10k.csv")
    data_dir = tmp_path_factory.mktemp("real_csv")
    environment = {**os.environ, "FRAUD_SOURCE": "paysim_csv", "FRAUD_PAYSIM_CSV": str(csv),
                   "FRAUD_DATA_DIR": str(data_dir)}
    environment.pop("DAGSTER_HOME", None)
    result = subprocess.run([sys.executable, "-m", "fraud_assets.cli.run_pipeline"], env=environment,
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return Settings(data_dir=data_dir, source="paysim_csv", paysim_csv_path=str(csv)), result.stdout


def per_day(settings: Settings, first_day: int) -> list[tuple[int, int, int, int]]:
    """(day, frauds, alerts, frauds alerted) of each scored day from first_day on."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        return connection.execute("""
            SELECT p.day, sum(c.isFraud)::INT, sum(p.is_alert::INT)::INT, sum((p.is_alert AND c.isFraud = 1)::INT)::INT
            FROM fraud.scored_predictions p JOIN fraud.cleaned_transactions c USING (transaction_id)
            WHERE p.day >= ? GROUP BY p.day ORDER BY p.day""", [first_day]).fetchall()


def test_every_day_with_fraud_after_the_first_model_has_alerts_and_recall_holds(real_csv_run):
    settings, _ = real_csv_run
    days = per_day(settings, FIRST_MODEL_AS_OF_DAY + 1)
    assert len(days) == 15  # days 16-30 of the file
    assert [day for day, fraud, alerts, _ in days if fraud and not alerts] == []
    fraud = sum(row[1] for row in days)
    caught = sum(row[3] for row in days)
    assert fraud > 100 and caught / fraud >= 0.9


def test_the_summary_and_the_card_say_by_how_much_the_tied_top_group_exceeds_the_budget(real_csv_run):
    settings, output = real_csv_run
    assert "no alerts" not in output.split("Per day (model_performance):")[0]
    assert "nan" not in output.lower()
    card = ModelRegistry.from_settings(settings).load_champion().card
    assert card.expected_alerts_per_day > card.alert_budget_per_day > 0 and card.expected_recall >= 0.9
    over = f"over the budget by {card.alerts_over_budget_per_day:.1f} a day, because the rows tied at the top score"
    assert "over the budget on" in output and over in output
