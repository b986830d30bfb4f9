"""Every setting of the system, read from the environment in this one place, with its documented default.

Asset bodies never read the environment: `build_definitions(settings)` builds typed resources from a `Settings`,
and the README's configuration table lists the same variables with the same defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from fraud_assets.core.database import DatabaseUrl, database_url_from_env
from fraud_assets.core.retention import RetentionPolicy
from fraud_assets.simulation.settings import SimulationSettings

if TYPE_CHECKING:  # the scoring service reads these settings and never opens the warehouse (nor imports DuckDB)
    from fraud_assets.core.warehouse_engine import WarehouseLocation

# Day 0 of the simulation: a fixed date in the past, so partition keys never move.
SIMULATION_START_DATE = date(2025, 1, 1)


def simulation_epoch() -> datetime:
    """Midnight of day 0 as a naive timestamp (DuckDB TIMESTAMP columns are naive)."""
    return datetime.combine(SIMULATION_START_DATE, datetime.min.time())


DEFAULT_LABEL_DELAY_DAYS = 1  # a day's ground truth (chargebacks) is known once the day is this many days old
# The alerts analysts review: per 1,000 transactions of a day, so the budget follows the volume (60 a day at the
# demo's 20,500 transactions, 600 at PaySim's full 205,000).
DEFAULT_ALERTS_PER_1000_TRANSACTIONS = 2.92
DEFAULT_FALSE_RETRAININGS_PER_YEAR = 1.0  # what the watched checks may request by chance in a year without drift
DEFAULT_WAREHOUSE_MEMORY_LIMIT = "512MB"
# The days of cases the label app shows and reads (today and the days before it): its reads are bounded by these
# days, not by the deployment's age; retention never removes an export inside the window.
DEFAULT_REVIEW_WINDOW_DAYS = 30
DEFAULT_RETENTION_CRON = "30 3 * * *"  # the retention job: every night at 03:30 (the daemon's time zone, UTC)
DEFAULT_MLFLOW_PORT = 5000  # the MLflow UI, or the tracking server of the team deployment (FRAUD_MLFLOW_PORT)
MLFLOW_SCHEMA = "mlflow"  # the tracking server's tables in the team database

# A store of the online side (label events, decision log): a SQLite file, or the team's PostgreSQL database.
StoreLocation = Path | DatabaseUrl


def describe_store(location: StoreLocation) -> str:
    """Where a store is, for people and logs: the file, or the team database's URL with its password masked."""
    return location.masked_url if isinstance(location, DatabaseUrl) else str(location)


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
    source: str = "simulator"  # or "paysim_csv"
    paysim_csv_path: str = ""
    simulation: SimulationSettings = SimulationSettings()  # the simulator's settings, also the number of days
    label_delay_days: int = DEFAULT_LABEL_DELAY_DAYS
    alerts_per_1000_transactions: float = DEFAULT_ALERTS_PER_1000_TRANSACTIONS
    mlflow_tracking_uri: str = ""
    mlflow_port: int = DEFAULT_MLFLOW_PORT  # the MLflow UI's, or the team deployment's local tracking server's
    bentoml_home: Path | None = None
    retrain_cooldown_seconds: float = 600.0
    # The retrainings a year the watched checks may request by chance in a world without drift: each check's level on
    # a day is this over 365 days and the watched checks (fraud_assets/ml/evidence.py).
    false_retrainings_per_year: float = DEFAULT_FALSE_RETRAININGS_PER_YEAR
    # DuckDB's cache of the warehouse in a run's process; without a limit it grows with every day written (up to 80%
    # of the machine's memory) and a month's backfill would hold the month.
    warehouse_memory_limit: str = DEFAULT_WAREHOUSE_MEMORY_LIMIT
    # The team deployment's PostgreSQL database (FRAUD_DATABASE_URL): Dagster's instance and the warehouse's catalog.
    database: DatabaseUrl | None = None
    # What several machines share (drift reports, review exports, the warehouse's files in the team deployment);
    # the data folder when unset.
    shared_dir: Path | None = None
    review_window_days: int = DEFAULT_REVIEW_WINDOW_DAYS
    # What each growing store keeps (fraud_assets/core/retention.py) and when the retention job runs.
    retention: RetentionPolicy = RetentionPolicy()
    retention_cron: str = DEFAULT_RETENTION_CRON
    clock_tick_seconds: int = 120  # the simulation clock sensor's tick (seconds for a benchmark of a year)

    def __post_init__(self) -> None:
        if not self.alerts_per_1000_transactions > 0:
            raise ValueError(f"FRAUD_ALERTS_PER_1000_TRANSACTIONS must be a number > 0 (alerts per 1,000 transactions "
                             f"of a day), got {self.alerts_per_1000_transactions}")
        if self.label_delay_days < 0:
            raise ValueError(f"FRAUD_LABEL_DELAY_DAYS must be 0 or more, got {self.label_delay_days}")
        if not 0 < self.false_retrainings_per_year < 365:
            raise ValueError("FRAUD_FALSE_RETRAININGS_PER_YEAR must be a number above 0 and below 365 (expected false "
                             f"retrainings in a year without drift), got {self.false_retrainings_per_year}")
        if self.clock_tick_seconds < 1:
            raise ValueError(f"FRAUD_CLOCK_TICK_SECONDS must be 1 or more, got {self.clock_tick_seconds}")
        if self.review_window_days < 1:
            raise ValueError("FRAUD_REVIEW_WINDOW_DAYS must be 1 or more (the days of cases the label app shows, "
                             f"today included), got {self.review_window_days}")

    @property
    def simulation_days(self) -> int:
        """Days of the simulation: the partitions of every daily asset (PaySim's 31 by default)."""
        return self.simulation.num_days

    @property
    def tracking_uri(self) -> str:
        """FRAUD_MLFLOW_TRACKING_URI; unset, MLflow's SQLite file under the data folder, or in the team deployment
        the tracking server `make up` (and the main job) start on this machine."""
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        if self.database is not None:
            return f"http://127.0.0.1:{self.mlflow_port}"
        return f"sqlite:///{(self.data_dir / 'mlflow.db').resolve()}"

    @property
    def mlflow_backend_store_uri(self) -> str:
        """Where the tracking server keeps experiments, runs and the registry: schema `mlflow` of the team
        database, or the embedded SQLite file."""
        if self.database is not None:
            return self.database.sqlalchemy_url(MLFLOW_SCHEMA)
        return f"sqlite:///{(self.data_dir / 'mlflow.db').resolve()}"

    @property
    def model_store_home(self) -> Path:
        return self.bentoml_home or self.data_dir / "bentoml"

    @property
    def mlflow_artifacts_dir(self) -> Path:
        """The models and files MLflow runs log (the tracking server serves them in the team deployment)."""
        return self.shared_path / "mlartifacts"

    @property
    def label_store_path(self) -> Path:
        return self.data_dir / "labels.sqlite"

    @property
    def decision_log_path(self) -> Path:
        return self.data_dir / "decisions.sqlite"

    @property
    def label_store(self) -> StoreLocation:
        """Where the analysts' label events are: the SQLite file, or the team database."""
        return self.database or self.label_store_path

    @property
    def decision_log(self) -> StoreLocation:
        """Where the service's decisions are logged: the SQLite file, or the team database."""
        return self.database or self.decision_log_path

    @property
    def shared_path(self) -> Path:
        return self.shared_dir or self.data_dir

    @property
    def exports_dir(self) -> Path:
        return self.shared_path / "exports"

    @property
    def reports_dir(self) -> Path:
        return self.shared_path / "reports"

    @property
    def warehouse_path(self) -> Path:
        """The embedded warehouse's DuckDB file (unused when the warehouse is a DuckLake)."""
        return self.data_dir / "warehouse.duckdb"

    @property
    def warehouse_location(self) -> WarehouseLocation:
        """The DuckDB file, or with a database the DuckLake whose files are under the shared path."""
        from fraud_assets.core.warehouse_engine import WarehouseLocation

        if self.database is None:
            return WarehouseLocation(self.warehouse_path)
        return WarehouseLocation(self.warehouse_path, self.database, self.shared_path / "warehouse_lake")

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster_home"

    @classmethod
    def from_env(cls) -> Settings:
        defaults = SimulationSettings()
        shared_dir = env_str("FRAUD_SHARED_DIR", "")
        return cls(
            data_dir=Path(env_str("FRAUD_DATA_DIR", "data")).resolve(),
            source=env_str("FRAUD_SOURCE", "simulator"),
            paysim_csv_path=env_str("FRAUD_PAYSIM_CSV", ""),
            simulation=SimulationSettings(
                seed=env_number("FRAUD_SIMULATION_SEED", defaults.seed, int),
                scale=env_number("FRAUD_SIMULATION_SCALE", defaults.scale, float),
                num_days=env_number("FRAUD_SIMULATION_DAYS", defaults.num_days, int),
                volume_profile=env_str("FRAUD_VOLUME_PROFILE", defaults.volume_profile),
                scenario=env_str("FRAUD_DRIFT_SCENARIO", defaults.scenario),
                drift_start_day=env_number("FRAUD_DRIFT_START_DAY", defaults.drift_start_day, int),
                drift_strength=env_number("FRAUD_DRIFT_STRENGTH", defaults.drift_strength, float),
            ),
            label_delay_days=env_number("FRAUD_LABEL_DELAY_DAYS", DEFAULT_LABEL_DELAY_DAYS, int),
            alerts_per_1000_transactions=env_number("FRAUD_ALERTS_PER_1000_TRANSACTIONS",
                                                    DEFAULT_ALERTS_PER_1000_TRANSACTIONS, float),
            mlflow_tracking_uri=env_str("FRAUD_MLFLOW_TRACKING_URI", ""),
            mlflow_port=env_number("FRAUD_MLFLOW_PORT", DEFAULT_MLFLOW_PORT, int),
            bentoml_home=Path(os.environ["BENTOML_HOME"]).resolve() if os.environ.get("BENTOML_HOME") else None,
            retrain_cooldown_seconds=env_number("FRAUD_RETRAIN_COOLDOWN_SECONDS", 600.0, float),
            false_retrainings_per_year=env_number("FRAUD_FALSE_RETRAININGS_PER_YEAR",
                                                  DEFAULT_FALSE_RETRAININGS_PER_YEAR, float),
            warehouse_memory_limit=env_str("FRAUD_WAREHOUSE_MEMORY_LIMIT", DEFAULT_WAREHOUSE_MEMORY_LIMIT),
            database=database_url_from_env(),
            shared_dir=Path(shared_dir).resolve() if shared_dir else None,
            review_window_days=env_number("FRAUD_REVIEW_WINDOW_DAYS", DEFAULT_REVIEW_WINDOW_DAYS, int),
            retention=retention_from_env(),
            retention_cron=env_str("FRAUD_RETENTION_CRON", DEFAULT_RETENTION_CRON),
            clock_tick_seconds=env_number("FRAUD_CLOCK_TICK_SECONDS", 120, int),
        )


def retention_from_env() -> RetentionPolicy:
    """The retention of every store: FRAUD_*_RETENTION_DAYS, FRAUD_SERVED_MODELS_KEPT, FRAUD_REGISTRY_VERSIONS_KEPT,
    FRAUD_OLD_DECISIONS."""
    defaults = RetentionPolicy()
    return RetentionPolicy(
        decision_log_days=env_number("FRAUD_DECISION_LOG_RETENTION_DAYS", defaults.decision_log_days, int),
        export_days=env_number("FRAUD_EXPORT_RETENTION_DAYS", defaults.export_days, int),
        report_days=env_number("FRAUD_REPORT_RETENTION_DAYS", defaults.report_days, int),
        served_models_kept=env_number("FRAUD_SERVED_MODELS_KEPT", defaults.served_models_kept, int),
        lake_snapshot_days=env_number("FRAUD_LAKE_SNAPSHOT_RETENTION_DAYS", defaults.lake_snapshot_days, int),
        registry_versions_kept=env_number("FRAUD_REGISTRY_VERSIONS_KEPT", defaults.registry_versions_kept, int),
        old_decisions=env_str("FRAUD_OLD_DECISIONS", defaults.old_decisions).lower(),
    )
