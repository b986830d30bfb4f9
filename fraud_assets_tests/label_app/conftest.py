"""The hand-made scenario of test_data.py as the label app's tests use it: read as a snapshot, or behind a service."""

from __future__ import annotations

import pytest

from fraud_assets_tests.label_app.test_data import write_scenario
from label_app.review_service import ReviewService
from label_app.settings import LabelAppSettings
from label_app.snapshot import Snapshot, load_snapshot


@pytest.fixture
def snapshot(tmp_path) -> Snapshot:
    exports, labels = write_scenario(tmp_path)
    return load_snapshot(exports, labels, tmp_path / "decisions.sqlite")


@pytest.fixture
def service(tmp_path) -> ReviewService:
    exports, labels = write_scenario(tmp_path)
    return ReviewService(LabelAppSettings(exports_dir=exports, label_store=labels,
                                          decision_log=tmp_path / "decisions.sqlite"))
