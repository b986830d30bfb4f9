"""The label app's settings from the environment."""

from __future__ import annotations

import pytest

from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.settings import describe_store
from label_app.settings import LabelAppSettings


def test_settings_from_the_environment(monkeypatch, tmp_path):
    for name in ["FRAUD_LABEL_APP_HOST", "FRAUD_LABEL_APP_PORT", "FRAUD_LABEL_APP_USERS", "FRAUD_LABEL_APP_USERS_FILE",
                 "FRAUD_DATABASE_URL", "FRAUD_SHARED_DIR"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FRAUD_DATA_DIR", str(tmp_path))
    settings = LabelAppSettings.from_env()
    assert (settings.host, settings.port, settings.users, settings.users_file) == ("127.0.0.1", 7860, "", "")
    assert settings.exports_dir == tmp_path.resolve() / "exports"
    assert settings.label_store == tmp_path.resolve() / "labels.sqlite"
    assert settings.decision_log == tmp_path.resolve() / "decisions.sqlite"
    assert settings.database is None and describe_store(settings.label_store) == str(settings.label_store)
    monkeypatch.setenv("FRAUD_LABEL_APP_PORT", "http")
    with pytest.raises(ValueError, match="FRAUD_LABEL_APP_PORT='http' is not a TCP port"):
        LabelAppSettings.from_env()


def test_the_team_deployment_keeps_labels_and_decisions_in_the_database(monkeypatch, tmp_path):
    """Each replica has its own data folder; the exports are under the shared path, the stores in the database."""
    monkeypatch.delenv("FRAUD_LABEL_APP_PORT", raising=False)
    monkeypatch.setenv("FRAUD_DATA_DIR", str(tmp_path / "host-a"))
    monkeypatch.setenv("FRAUD_SHARED_DIR", str(tmp_path / "shared"))
    monkeypatch.setenv("FRAUD_DATABASE_URL", "postgresql://fraud:s3cret@db.example:5433/fraud")
    settings = LabelAppSettings.from_env()
    database = DatabaseUrl.parse("postgresql://fraud:s3cret@db.example:5433/fraud")
    assert settings.label_store == settings.decision_log == settings.database == database
    assert settings.exports_dir == tmp_path.resolve() / "shared" / "exports"
    assert describe_store(settings.label_store) == "postgresql://fraud:***@db.example:5433/fraud"
    monkeypatch.setenv("FRAUD_DATABASE_URL", "mysql://fraud@db.example/fraud")
    with pytest.raises(ValueError, match="must look like postgresql://"):
        LabelAppSettings.from_env()
