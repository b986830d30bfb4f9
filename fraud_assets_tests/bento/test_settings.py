"""The service's settings, read from the environment."""

from __future__ import annotations

import pytest

from bento.settings import service_settings_from_env
from fraud_assets.core.database import DatabaseUrl


def test_service_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FRAUD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("BENTOML_HOME", raising=False)
    monkeypatch.setenv("FRAUD_SERVICE_POLL_SECONDS", "2.5")
    monkeypatch.setenv("FRAUD_SERVICE_MAX_BATCH", "500")
    settings = service_settings_from_env()
    assert settings.model_store_home == tmp_path / "bentoml"
    assert settings.decision_log == tmp_path / "decisions.sqlite" and settings.database is None
    assert settings.reload_marker_path == tmp_path / "fraud_service.reload"
    assert (settings.poll_seconds, settings.max_batch_size, settings.workers, settings.api_key) == (2.5, 500, 1, "")
    monkeypatch.setenv("FRAUD_SERVICE_POLL_SECONDS", "0")
    with pytest.raises(ValueError, match="FRAUD_SERVICE_POLL_SECONDS"):
        service_settings_from_env()


def test_the_team_database_holds_the_decision_log_and_the_buffer_is_at_least_one_decision(monkeypatch, tmp_path):
    monkeypatch.setenv("FRAUD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FRAUD_DATABASE_URL", raising=False)
    monkeypatch.delenv("FRAUD_SERVICE_DECISION_BUFFER", raising=False)
    settings = service_settings_from_env()
    assert (settings.decision_log, settings.database, settings.decision_buffer_rows) == (
        tmp_path / "decisions.sqlite", None, 100_000)
    monkeypatch.setenv("FRAUD_DATABASE_URL", "postgresql://fraud:pw@db.example:5433/fraud")
    monkeypatch.setenv("FRAUD_SERVICE_DECISION_BUFFER", "250")
    settings = service_settings_from_env()
    assert settings.decision_log == settings.database == DatabaseUrl.parse("postgresql://fraud:pw@db.example:5433/fraud")
    assert settings.decision_buffer_rows == 250
    monkeypatch.setenv("FRAUD_SERVICE_DECISION_BUFFER", "0")
    with pytest.raises(ValueError, match="FRAUD_SERVICE_DECISION_BUFFER"):
        service_settings_from_env()
