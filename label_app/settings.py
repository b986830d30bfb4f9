"""The label app's settings, read from the environment in one place."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.settings import DEFAULT_REVIEW_WINDOW_DAYS, Settings, StoreLocation


@dataclasses.dataclass(frozen=True)
class LabelAppSettings:
    """The label app's configuration; `from_env()` reads it (where the stores are comes from
    fraud_assets.core.settings: SQLite files under the data folder, or with FRAUD_DATABASE_URL the team database; the
    review window from FRAUD_REVIEW_WINDOW_DAYS)."""

    exports_dir: Path
    label_store: StoreLocation
    decision_log: StoreLocation
    review_window_days: int = DEFAULT_REVIEW_WINDOW_DAYS  # the days of cases the app shows and reads, today included
    host: str = "127.0.0.1"
    port: int = 7860
    users: str = ""
    users_file: str = ""

    @property
    def database(self) -> DatabaseUrl | None:
        """The team database when the stores live there; None in the embedded deployment."""
        for location in (self.label_store, self.decision_log):
            if isinstance(location, DatabaseUrl):
                return location
        return None

    @classmethod
    def from_env(cls) -> LabelAppSettings:
        system = Settings.from_env()
        port_text = os.environ.get("FRAUD_LABEL_APP_PORT", "").strip() or "7860"
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"FRAUD_LABEL_APP_PORT={port_text!r} is not a TCP port (1-65535); unset it to use 7860")
        return cls(
            exports_dir=system.exports_dir,
            label_store=system.label_store,
            decision_log=system.decision_log,
            review_window_days=system.review_window_days,
            host=os.environ.get("FRAUD_LABEL_APP_HOST", "").strip() or "127.0.0.1",
            port=int(port_text),
            users=os.environ.get("FRAUD_LABEL_APP_USERS", ""),
            users_file=os.environ.get("FRAUD_LABEL_APP_USERS_FILE", "").strip(),
        )

