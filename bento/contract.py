"""The service's HTTP contract: what a transaction must look like, and what a decision says.

Validation happens here, before anything reaches the model: a request that breaks a rule gets a 400 whose
`detail` names the field (`loc`, e.g. ["transactions", 3, "amount"]) and the problem (`msg`), and the model
never sees a NaN, an infinity, an unknown transaction type or a malformed account id.

Rules (PaySim schema, see fraud_assets/core/schema.py):
- `type` is one of CASH_IN, CASH_OUT, DEBIT, PAYMENT, TRANSFER (exact case);
- amounts and balances are JSON numbers, finite, from 0 to 1e12 (PaySim's largest is about 1e8; the cap keeps
  every derived feature finite); NaN and Infinity tokens, strings and booleans are rejected;
- `nameOrig` is "C" + 1-10 digits, `nameDest` is "C" or "M" + 1-10 digits (PaySim ids are below 2**32);
- `step` (optional) is an integer from 1 to 743, PaySim's hour index; without it the hour features are missing;
- `transaction_id` (optional) is the caller's id, 1-64 characters of letters, digits and `_ . : -`; without it
  the service derives a deterministic id from the transaction's fields (the same transaction, the same id:
  bento.decisions.derived_transaction_ids);
- no other field is accepted (a misspelt optional field would otherwise be silently ignored).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from fraud_assets.core.schema import LAST_PAYSIM_STEP, TRANSACTION_TYPES

MAX_MONEY = 1e12
ORIGIN_ACCOUNT_PATTERN = r"^C[0-9]{1,10}$"
DESTINATION_ACCOUNT_PATTERN = r"^[CM][0-9]{1,10}$"
TRANSACTION_ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,64}$"

Money = Annotated[
    float,
    Field(ge=0, le=MAX_MONEY, allow_inf_nan=False, description="A finite amount from 0 to 1e12."),
]

EXAMPLE_TRANSACTION: dict = {
    "transaction_id": "demo-0001",
    "step": 212,
    "type": "TRANSFER",
    "amount": 181000.0,
    "nameOrig": "C1305486145",
    "oldbalanceOrg": 181000.0,
    "newbalanceOrig": 0.0,
    "nameDest": "C553264065",
    "oldbalanceDest": 0.0,
    "newbalanceDest": 0.0,
}


class Transaction(BaseModel):
    """One mobile-money transaction in the PaySim schema (labels such as isFraud are not part of a request)."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"example": EXAMPLE_TRANSACTION})

    transaction_id: str | None = Field(
        default=None, pattern=TRANSACTION_ID_PATTERN,
        description="The caller's id for this transaction; derived from its fields when absent.")
    step: int | None = Field(
        default=None, ge=1, le=LAST_PAYSIM_STEP, description="PaySim hour index (1-743); optional.")
    type: Literal[TRANSACTION_TYPES] = Field(description="Transaction type.")
    amount: Money
    nameOrig: str = Field(pattern=ORIGIN_ACCOUNT_PATTERN, description='Paying customer, "C" + digits.')
    oldbalanceOrg: Money
    newbalanceOrig: Money
    nameDest: str = Field(pattern=DESTINATION_ACCOUNT_PATTERN,
                          description='Receiving account, "C" (customer) or "M" (merchant) + digits.')
    oldbalanceDest: Money
    newbalanceDest: Money


class Reason(BaseModel):
    """A feature that pushed the score up: its value and its contribution to the log-odds (XGBoost TreeSHAP)."""

    feature: str
    value: float | None = Field(description="The feature's value; null when missing (e.g. the hour without a step).")
    contribution: float
    description: str


class Decision(BaseModel):
    """The service's decision on one transaction."""

    transaction_id: str
    request_id: str = Field(description="Id of the model call that decided it, as stored in the decision log.")
    score: float = Field(ge=0, le=1, description="Fraud probability from the champion model.")
    is_alert: bool = Field(description="score >= threshold.")
    threshold: float
    model_version: str
    reasons: list[Reason] = Field(
        description="Top 3 reasons for alerted transactions (as in batch scoring); empty when not alerted.")


class ModelInfo(BaseModel):
    """The champion the answering worker serves."""

    name: str
    version: str
    bentoml_tag: str
    threshold: float
    training_window: dict | None = None
    metrics: dict | None = None
    promoted_at: str | None = None
    mlflow_run_id: str | None = None
    feature_columns: list[str]
    loaded_at: str


class ReloadResult(BaseModel):
    """Outcome of a forced reload in the answering worker (other workers follow within a second)."""

    changed: bool
    previous_version: str | None
    version: str | None
    bentoml_tag: str | None


class ErrorBody(BaseModel):
    """Body of the service's own error responses (503, 401, 403, 413, 415)."""

    error: str
