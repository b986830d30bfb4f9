"""How ground truth and the analysts' attention work, shared by training, scoring, exports and checks."""

from __future__ import annotations

import dagster as dg

from fraud_assets.core.settings import DEFAULT_ALERT_BUDGET_PER_DAY, DEFAULT_LABEL_DELAY_DAYS, Settings


class ReviewPolicy(dg.ConfigurableResource):
    """`label_delay_days`: a day's ground truth (`isFraud`, standing for chargebacks) counts once the day is this many
    days old (FRAUD_LABEL_DELAY_DAYS). `alert_budget_per_day`: the alerts the analysts review a day
    (FRAUD_ALERT_BUDGET_PER_DAY): thresholds are chosen for it and recall is judged at it."""

    label_delay_days: int = DEFAULT_LABEL_DELAY_DAYS
    alert_budget_per_day: int = DEFAULT_ALERT_BUDGET_PER_DAY

    @classmethod
    def from_settings(cls, settings: Settings) -> ReviewPolicy:
        return cls(label_delay_days=settings.label_delay_days, alert_budget_per_day=settings.alert_budget_per_day)

