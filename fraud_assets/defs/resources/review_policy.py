"""How ground truth and the analysts' attention work, shared by training, scoring, exports and checks."""

from __future__ import annotations

import dagster as dg

from fraud_assets.core.settings import DEFAULT_ALERTS_PER_1000_TRANSACTIONS, DEFAULT_LABEL_DELAY_DAYS, Settings
from fraud_assets.ml.thresholds import daily_alert_budget


class ReviewPolicy(dg.ConfigurableResource):
    """`label_delay_days`: a day's ground truth (`isFraud`, standing for chargebacks) counts once the day is this many
    days old (FRAUD_LABEL_DELAY_DAYS). `alerts_per_1000_transactions`: the alerts the analysts review, per 1,000
    transactions of a day (FRAUD_ALERTS_PER_1000_TRANSACTIONS): thresholds are chosen for it, recall is judged at
    it, and the label app shows each day's budget."""

    label_delay_days: int = DEFAULT_LABEL_DELAY_DAYS
    alerts_per_1000_transactions: float = DEFAULT_ALERTS_PER_1000_TRANSACTIONS

    @classmethod
    def from_settings(cls, settings: Settings) -> ReviewPolicy:
        return cls(label_delay_days=settings.label_delay_days,
                   alerts_per_1000_transactions=settings.alerts_per_1000_transactions)

    def daily_alert_budget(self, transactions: int) -> int:
        """The alerts of a day of `transactions` transactions."""
        return daily_alert_budget(transactions, self.alerts_per_1000_transactions)

