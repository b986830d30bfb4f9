"""The service's settings, read from the environment."""

from __future__ import annotations

import pytest

from bento.settings import service_settings_from_env


def test_service_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FRAUD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("BENTOML_HOME", raising=False)
    monkeypatch.setenv("FRAUD_SERVICE_POLL_SECONDS", "2.5")
    monkeypatch.setenv("FRAUD_SERVICE_MAX_BATCH", "500")
    settings = service_settings_from_env()
    assert settings.model_store_home == tmp_path / "bentoml"
    assert settings.decision_log_path == tmp_path / "decisions.sqlite"
    assert settings.reload_marker_path == tmp_path / "fraud_service.reload"
    assert (settings.poll_seconds, settings.max_batch_size, settings.workers, settings.api_key) == (2.5, 500, 1, "")
    monkeypatch.setenv("FRAUD_SERVICE_POLL_SECONDS", "0")
    with pytest.raises(ValueError, match="FRAUD_SERVICE_POLL_SECONDS"):
        service_settings_from_env()
