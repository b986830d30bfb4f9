"""Every setting of the system, read from the environment in this one place, with its documented default.

Asset bodies never read the environment: `definitions.py` builds typed resources from a `Settings` object,
and the README's configuration table lists the same variables with the same defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

# Day 0 of the simulation: a fixed date in the past, so partition keys never move.
SIMULATION_START_DATE = date(2025, 1, 1)

DEFAULT_SIMULATION_DAYS = 31
DEFAULT_SIMULATION_SCALE = 0.1  # about 636,000 rows over 31 days: the demo finishes in minutes


def env_str(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def env_number(name: str, default: float, cast: type):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return cast(raw)
    except ValueError:
        raise ValueError(
            f"environment variable {name}={raw!r} is not a valid {cast.__name__}; unset it to use the default {default}"
        ) from None


@dataclass(frozen=True)
class Settings:
    """The system's configuration; `Settings.from_env()` reads it from the environment."""

    data_dir: Path = Path("data")
    simulation_days: int = DEFAULT_SIMULATION_DAYS
    source: str = "simulator"
    paysim_csv_path: str = ""
    simulation_seed: int = 42
    simulation_scale: float = DEFAULT_SIMULATION_SCALE
    volume_profile: str = "steady"
    drift_scenario: str = "none"
    drift_start_day: int = 20
    drift_strength: float = 1.0
    mlflow_tracking_uri: str = ""
    bentoml_home: Path | None = None
    retrain_cooldown_seconds: float = 600.0

    @property
    def tracking_uri(self) -> str:
        return self.mlflow_tracking_uri or f"sqlite:///{(self.data_dir / 'mlflow.db').resolve()}"

    @property
    def model_store_home(self) -> Path:
        return self.bentoml_home or self.data_dir / "bentoml"

    @property
    def mlflow_artifacts_dir(self) -> Path:
        return self.data_dir / "mlartifacts"

    @property
    def label_store_path(self) -> Path:
        return self.data_dir / "labels.sqlite"

    @property
    def decision_log_path(self) -> Path:
        return self.data_dir / "decisions.sqlite"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster_home"

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            data_dir=Path(env_str("FRAUD_DATA_DIR", "data")).resolve(),
            simulation_days=env_number("FRAUD_SIMULATION_DAYS", DEFAULT_SIMULATION_DAYS, int),
            source=env_str("FRAUD_SOURCE", "simulator"),
            paysim_csv_path=env_str("FRAUD_PAYSIM_CSV", ""),
            simulation_seed=env_number("FRAUD_SIMULATION_SEED", 42, int),
            simulation_scale=env_number("FRAUD_SIMULATION_SCALE", DEFAULT_SIMULATION_SCALE, float),
            volume_profile=env_str("FRAUD_VOLUME_PROFILE", "steady"),
            drift_scenario=env_str("FRAUD_DRIFT_SCENARIO", "none"),
            drift_start_day=env_number("FRAUD_DRIFT_START_DAY", 20, int),
            drift_strength=env_number("FRAUD_DRIFT_STRENGTH", 1.0, float),
            mlflow_tracking_uri=env_str("FRAUD_MLFLOW_TRACKING_URI", ""),
            bentoml_home=Path(os.environ["BENTOML_HOME"]).resolve() if os.environ.get("BENTOML_HOME") else None,
            retrain_cooldown_seconds=env_number("FRAUD_RETRAIN_COOLDOWN_SECONDS", 600.0, float),
        )
