"""Re-running the main job on unchanged data changes nothing: no new model version, no promotion, no new entry in
the BentoML store, no day re-scored and no drift report measured again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
from mlflow import MlflowClient

from fraud_assets.core.served_models import served_model_store
from fraud_assets.core.settings import Settings
from fraud_assets.defs.resources.model_registry import ModelRegistry

SCALE, DAYS = "0.02", "20"  # days 0-14 train the first model, 16-19 are scored unseen


def run_main_job(data_dir: Path) -> str:
    environment = {**{name: value for name, value in os.environ.items() if not name.startswith("FRAUD_")},
                   "FRAUD_DATA_DIR": str(data_dir), "FRAUD_SIMULATION_SCALE": SCALE, "FRAUD_SIMULATION_DAYS": DAYS}
    environment.pop("DAGSTER_HOME", None)
    result = subprocess.run([sys.executable, "-m", "fraud_assets.cli.run_pipeline"], env=environment,
                            capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def stored_state(settings: Settings) -> dict:
    """What a re-run must leave as it was: the predictions (with when they were scored), the drift reports (with
    their files' modification times), the registered versions and the BentoML store's entries."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        predictions = connection.execute("SELECT transaction_id, score, model_version, scored_at "
                                         "FROM fraud.scored_predictions ORDER BY transaction_id").fetchall()
        reports = connection.execute("SELECT day, \"column\", score, data_fingerprint, report_path "
                                     "FROM fraud.drift_report ORDER BY day, \"column\"").fetchall()
    registry = ModelRegistry.from_settings(settings)
    versions = MlflowClient(settings.tracking_uri).search_model_versions(f"name = '{registry.registered_model_name}'")
    store = served_model_store(settings.model_store_home)
    return {
        "predictions": predictions,
        "reports": reports,
        "report_files": {path: Path(path).stat().st_mtime_ns for *_, path in reports},
        "versions": sorted(str(version.version) for version in versions),
        "champion": registry.champion_version(),
        "store": sorted(str(model.tag) for model in store.list()),
    }


def test_a_second_main_job_on_unchanged_data_registers_and_rescores_nothing(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    run_main_job(settings.data_dir)
    first = stored_state(settings)
    assert first["versions"] == ["1"] and first["champion"] == "1" and len(first["store"]) == 1
    assert len(first["predictions"]) > 50_000 and len({row[3] for row in first["predictions"]}) == 1
    assert {row[0] for row in first["reports"]} == set(range(int(DAYS)))

    output = run_main_job(settings.data_dir)
    second = stored_state(settings)

    assert "unchanged" in output and "already scored by v1" in output and "kept them" in output
    assert second == first
