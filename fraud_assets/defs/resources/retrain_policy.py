"""How the retraining sensor behaves, and how much evidence the checks it watches need."""

from __future__ import annotations

import dagster as dg

from fraud_assets.core.settings import DEFAULT_FALSE_RETRAININGS_PER_YEAR
from fraud_assets.defs.names import RETRAINING_CHECKS
from fraud_assets.ml.evidence import EvidenceBudget


class RetrainPolicy(dg.ConfigurableResource):
    """`cooldown_seconds` (FRAUD_RETRAIN_COOLDOWN_SECONDS): the least time between two retraining requests.
    `false_retrainings_per_year` (FRAUD_FALSE_RETRAININGS_PER_YEAR): the retrainings a year the watched checks may
    request by chance in a world without drift; each watched check judges a day at the level it leaves."""

    cooldown_seconds: float = 600.0
    false_retrainings_per_year: float = DEFAULT_FALSE_RETRAININGS_PER_YEAR

    @property
    def level_per_check_day(self) -> float:
        """The significance level of one watched check on one day."""
        return EvidenceBudget(self.false_retrainings_per_year, len(RETRAINING_CHECKS)).level_per_check_day
