"""The label app's settings from the environment."""

from __future__ import annotations

import pytest

from label_app.settings import LabelAppSettings


def test_settings_from_the_environment(monkeypatch, tmp_path):
    for name in ["FRAUD_LABEL_APP_HOST", "FRAUD_LABEL_APP_PORT", "FRAUD_LABEL_APP_USERS", "FRAUD_LABEL_APP_USERS_FILE"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FRAUD_DATA_DIR", str(tmp_path))
    settings = LabelAppSettings.from_env()
    assert (settings.host, settings.port, settings.users, settings.users_file) == ("127.0.0.1", 7860, "", "")
    assert settings.exports_dir == tmp_path.resolve() / "exports"
    assert settings.label_store_path == tmp_path.resolve() / "labels.sqlite"
    monkeypatch.setenv("FRAUD_LABEL_APP_PORT", "http")
    with pytest.raises(ValueError, match="FRAUD_LABEL_APP_PORT='http' is not a TCP port"):
        LabelAppSettings.from_env()
