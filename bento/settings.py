"""The service's settings, read from the environment on top of the system's (`fraud_assets.core.settings`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fraud_assets.core.settings import Settings, env_number, env_str


@dataclass(frozen=True)
class ServiceSettings:
    """The service's configuration. Environment variables (defaults in brackets):

    FRAUD_DATA_DIR [data] and BENTOML_HOME [$FRAUD_DATA_DIR/bentoml], as for the whole system;
    FRAUD_SERVICE_API_KEY [unset]: key of POST /reload (header X-API-Key); unset, the endpoint is disabled (403);
    FRAUD_SERVICE_POLL_SECONDS [5]: how often each worker checks the model store for a new champion;
    FRAUD_SERVICE_MAX_BATCH [10000]: most transactions in one POST /predict;
    FRAUD_SERVICE_WORKERS [1]: worker processes of `bentoml serve`.
    """

    model_store_home: Path
    decision_log_path: Path
    reload_marker_path: Path
    api_key: str = ""
    poll_seconds: float = 5.0
    max_batch_size: int = 10_000
    workers: int = 1


def service_settings_from_env() -> ServiceSettings:
    """The service's settings from the environment (see ServiceSettings for the variables and defaults)."""
    base = Settings.from_env()
    settings = ServiceSettings(
        model_store_home=base.model_store_home,
        decision_log_path=base.decision_log_path,
        reload_marker_path=base.data_dir / "fraud_service.reload",
        api_key=env_str("FRAUD_SERVICE_API_KEY", ""),
        poll_seconds=env_number("FRAUD_SERVICE_POLL_SECONDS", 5.0, float),
        max_batch_size=env_number("FRAUD_SERVICE_MAX_BATCH", 10_000, int),
        workers=env_number("FRAUD_SERVICE_WORKERS", 1, int),
    )
    for name, value, low in [("FRAUD_SERVICE_POLL_SECONDS", settings.poll_seconds, 0.1),
                             ("FRAUD_SERVICE_MAX_BATCH", settings.max_batch_size, 1),
                             ("FRAUD_SERVICE_WORKERS", settings.workers, 1)]:
        if not value >= low:  # also catches NaN
            raise ValueError(f"environment variable {name}={value!r} must be at least {low}; unset it for the default")
    return settings
