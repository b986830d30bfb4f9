"""The review queue: alerts nobody has labeled yet (no analyst label, and no matured ground truth: once a day's
chargebacks are in, reviewing its alerts teaches nothing new), highest score first."""

from __future__ import annotations

import numpy as np
import pandas as pd

from label_app.snapshot import Snapshot, exported_alert_budget, filter_cases


def review_queue(snapshot: Snapshot, day: int | None = None, transaction_type: str | None = None,
                 model_version: str | None = None, min_score: float | None = None) -> pd.DataFrame:
    """Alerts whose label nobody knows yet (no analyst label, ground truth not matured) that pass the filters,
    highest score first."""
    cases = snapshot.cases
    waiting = cases[cases["is_alert"] & np.isnan(cases["label"].to_numpy())]
    waiting = filter_cases(waiting, day, transaction_type, model_version, min_score)
    return waiting.sort_values(["score", "day", "transaction_id"], ascending=[False, False, True], kind="stable")


def left_today(snapshot: Snapshot) -> int:
    """Alerts of today (the newest exported day) still in the queue."""
    if snapshot.today is None:
        return 0
    return len(review_queue(snapshot, day=snapshot.today))


def today_alerts_and_budget(snapshot: Snapshot) -> tuple[int, int | None]:
    """Today's alerts and the analysts' budget for today's volume (None from an export that did not record it)."""
    served = snapshot.summary[snapshot.summary["day"] == snapshot.today]
    return int(served["n_alerts"].sum()), exported_alert_budget(served)


def next_alert(queue: pd.DataFrame, skipped: list[str] | None = None) -> str | None:
    """The first queued transaction not skipped in this session; when every one was skipped, the first one."""
    if not len(queue):
        return None
    ids = queue["transaction_id"].tolist()
    fresh = [transaction_id for transaction_id in ids if transaction_id not in set(skipped or [])]
    return (fresh or ids)[0]
