"""The code location's one Definitions object (`[tool.dagster]`, workspace.yaml), built from the environment."""

from __future__ import annotations

from fraud_assets.core.settings import Settings
from fraud_assets.defs import build_definitions

__all__ = ["build_definitions", "defs"]

defs = build_definitions(Settings.from_env())
