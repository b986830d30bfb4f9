"""The model card: what a trained model is, how it decides and what it promised on its validation days.

Written once by `fraud_model` (as `model_card.json` in the MLflow run), completed with version, promotion time and
MLflow run id when the model is promoted (as the metadata of its BentoML store entry), and read by every part that
needs one of its figures: batch scoring, the checks, the retraining sensor, rollback and the scoring service.
Unknown keys in a stored card are ignored, so an older or newer card still loads.
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from typing import Any

PROMOTION_FIELDS = ("version", "promoted_at", "mlflow_run_id")


@dataclass(frozen=True)
class ModelCard:
    threshold: float  # scores at or above it are alerts
    threshold_strategy: str  # "alert_budget" or "net_value"
    expected_precision: float  # at the threshold, on the validation days
    expected_recall: float
    expected_alerts_per_day: float
    alert_budget_per_day: float  # the budget on the validation days, a day on average
    high_score_level: float  # the score above which validation precision was 0.9 (the score-drift check's tail)
    alerts_per_1000_transactions: float  # the analysts' budget the threshold and the recall check use
    feature_columns: list[str]
    training_window: dict[str, int]  # TrainingWindow.as_dict(): as_of, train and validation days
    label_delay_days: int
    metrics: dict[str, float]  # validation metrics (auprc, roc_auc, recall_at_budget, ...)
    n_analyst_labels: int
    best_iteration: int
    # The score-drift check's reference: validation rows, and the tail's rows and fraud events (distinct day and
    # amount) at or above high_score_level; None on cards written before the checks judged by evidence.
    high_score_reference: dict[str, int] | None = None
    # Set at promotion (None on the card logged with the run):
    version: str | None = None
    promoted_at: str | None = None
    mlflow_run_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # keys a newer writer added

    @property
    def last_validation_day(self) -> int:
        return int(self.training_window["last_validation_day"])

    @property
    def alerts_over_budget_per_day(self) -> float:
        """Alerts beyond the budget on the validation days (a tied top group alerted whole); 0 within it."""
        return max(0.0, self.expected_alerts_per_day - self.alert_budget_per_day)

    def promoted(self, version: str, promoted_at: str) -> ModelCard:
        """This card as the champion's: with its registered version and promotion time."""
        return replace(self, version=str(version), promoted_at=promoted_at)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (MLflow artifact, BentoML metadata); promotion fields only once set."""
        values = asdict(self)
        extra = values.pop("extra")
        return {**extra, **{key: value for key, value in values.items() if value is not None}}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ModelCard:
        """A card as stored; raises ValueError naming the fields a card must have and this one lacks."""
        known = {item.name for item in fields(cls)} - {"extra"}
        required = [item.name for item in fields(cls) if item.default is MISSING and item.default_factory is MISSING]
        absent = [name for name in required if name not in values]
        if absent:
            raise ValueError(f"model card lacks {', '.join(absent)}: it was not written by fraud_model")
        card = {name: values[name] for name in known if name in values}
        card["version"] = str(card["version"]) if card.get("version") is not None else None
        return cls(**card, extra={key: value for key, value in values.items() if key not in known})
