"""The service's settings, read from the environment on top of the system's (`fraud_assets.core.settings`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.settings import Settings, StoreLocation, env_number, env_str

SWITCH_VALUES = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False,
                 "off": False}


def env_switch(name: str) -> bool:
    """An on/off environment variable: 1/true/yes/on or 0/false/no/off (any case); unset or empty is off."""
    raw = env_str(name, "0").lower()
    if raw not in SWITCH_VALUES:
        raise ValueError(f"environment variable {name}={raw!r} must be one of 1, true, yes, on, 0, false, no, off; "
                         "unset it for off")
    return SWITCH_VALUES[raw]


@dataclass(frozen=True)
class ServiceSettings:
    """The service's configuration. Environment variables (defaults in brackets):

    FRAUD_DATA_DIR [data] and BENTOML_HOME [$FRAUD_DATA_DIR/bentoml], as for the whole system (per host);
    FRAUD_DATABASE_URL [unset]: the team database (postgresql://user:password@host:port/db); set, the champion is
    its newest promotion (fraud_online.champion_promotions, cached in this host's BentoML store) and decisions go
    to its fraud_online.decisions; unset, the BentoML store and $FRAUD_DATA_DIR/decisions.sqlite;
    FRAUD_SERVICE_API_KEY [unset]: key of POST /reload (header X-API-Key); unset, the endpoint is disabled (403);
    FRAUD_SERVICE_POLL_SECONDS [5]: how often each worker checks the model store (or the team database) for a new
    champion;
    FRAUD_SERVICE_DECISION_BUFFER [100000]: most decisions a worker holds while the decision log cannot be written
    (the database down); beyond it new decisions are dropped, counted in /metrics and logged;
    FRAUD_SERVICE_MAX_BATCH [10000]: most transactions in one POST /predict;
    FRAUD_SERVICE_WORKERS [1]: worker processes of `bentoml serve`;
    FRAUD_SERVICE_ACCESS_LOG [0]: 1 logs a line per HTTP request (BentoML's access log);
    FRAUD_SERVED_MODELS_KEPT [5]: the champions this host's cache of the team database's promotions keeps (the
    newest ones; older entries are deleted after each new promotion is cached);
    FRAUD_SERVICE_TRACE_SCORING [0]: 1 lets BentoML's tracing see the scoring endpoints (configure its exporter and
    sample rate in BentoML's configuration); otherwise they skip its OpenTelemetry middleware.
    """

    model_store_home: Path
    reload_marker_path: Path
    decision_log: StoreLocation  # $FRAUD_DATA_DIR/decisions.sqlite, or the team database
    database: DatabaseUrl | None = None
    api_key: str = ""
    poll_seconds: float = 5.0
    decision_buffer_rows: int = 100_000
    max_batch_size: int = 10_000
    workers: int = 1
    access_log: bool = False
    trace_scoring: bool = False
    served_models_kept: int = 5


def service_settings_from_env() -> ServiceSettings:
    """The service's settings from the environment (see ServiceSettings for the variables and defaults)."""
    base = Settings.from_env()
    settings = ServiceSettings(
        model_store_home=base.model_store_home,
        reload_marker_path=base.data_dir / "fraud_service.reload",
        decision_log=base.decision_log,
        database=base.database,
        api_key=env_str("FRAUD_SERVICE_API_KEY", ""),
        poll_seconds=env_number("FRAUD_SERVICE_POLL_SECONDS", 5.0, float),
        decision_buffer_rows=env_number("FRAUD_SERVICE_DECISION_BUFFER", 100_000, int),
        max_batch_size=env_number("FRAUD_SERVICE_MAX_BATCH", 10_000, int),
        workers=env_number("FRAUD_SERVICE_WORKERS", 1, int),
        access_log=env_switch("FRAUD_SERVICE_ACCESS_LOG"),
        trace_scoring=env_switch("FRAUD_SERVICE_TRACE_SCORING"),
        served_models_kept=base.retention.served_models_kept,
    )
    for name, value, low in [("FRAUD_SERVICE_POLL_SECONDS", settings.poll_seconds, 0.1),
                             ("FRAUD_SERVICE_MAX_BATCH", settings.max_batch_size, 1),
                             ("FRAUD_SERVICE_DECISION_BUFFER", settings.decision_buffer_rows, 1),
                             ("FRAUD_SERVICE_WORKERS", settings.workers, 1)]:
        if not value >= low:  # also catches NaN
            raise ValueError(f"environment variable {name}={value!r} must be at least {low}; unset it for the default")
    return settings
