"""How the retraining sensor behaves."""

from __future__ import annotations

import dagster as dg


class RetrainPolicy(dg.ConfigurableResource):
    """`cooldown_seconds` (FRAUD_RETRAIN_COOLDOWN_SECONDS): the least time between two retraining requests."""

    cooldown_seconds: float = 600.0
