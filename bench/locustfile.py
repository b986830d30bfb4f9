"""Locust load test of the fraud-scoring service, for people who use Locust (it is not a project dependency).

Start the service (see bento/README.md), then, with Locust installed (`pip install locust`):

    locust -f bench/locustfile.py --host http://127.0.0.1:3001 --headless -u 64 -r 16 -t 60s
    locust -f bench/locustfile.py --host http://127.0.0.1:3001       # web UI on http://127.0.0.1:8089

Each simulated user mostly sends single transactions to /score (adaptive batching merges concurrent calls), now and
then a batch of 1,000 to /predict, and rarely reads /model. Transactions come from the project's simulator
(one simulated day, generated once per Locust process), so they look like real PaySim traffic; a few are altered
to be invalid on purpose and must be answered with a 400, which Locust then counts as a success.
Set FRAUD_LOCUST_BATCH (default 1000) to change the /predict batch size.
"""

from __future__ import annotations

import json
import os
import random
import sys
from functools import lru_cache
from pathlib import Path

from locust import HttpUser, between, task

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

REQUEST_COLUMNS = ["step", "type", "amount", "nameOrig", "oldbalanceOrg", "newbalanceOrig", "nameDest",
                   "oldbalanceDest", "newbalanceDest"]
BATCH_SIZE = int(os.environ.get("FRAUD_LOCUST_BATCH", "1000"))


@lru_cache(maxsize=1)
def transactions() -> list[dict]:
    """One simulated day (scale 0.1, about 20,000 transactions) as request transactions."""
    from fraud_assets.simulation import SimulationSettings, simulate_days

    day = simulate_days(20, 20, SimulationSettings(seed=7, scale=0.1))
    return [{column: (value.item() if hasattr(value, "item") else value) for column, value in row.items()}
            for row in day[REQUEST_COLUMNS].to_dict(orient="records")]


class FraudScoringUser(HttpUser):
    wait_time = between(0.0, 0.05)

    def on_start(self) -> None:
        self.rows = transactions()

    @task(50)
    def score_one(self) -> None:
        self.client.post("/score", json={"transactions": [random.choice(self.rows)]}, name="/score")

    @task(1)
    def predict_batch(self) -> None:
        start = random.randrange(0, len(self.rows) - BATCH_SIZE)
        self.client.post("/predict", json={"transactions": self.rows[start:start + BATCH_SIZE]},
                         name=f"/predict x{BATCH_SIZE}")

    @task(2)
    def invalid_input_is_a_400(self) -> None:
        broken = {**random.choice(self.rows), "amount": -1.0}
        body = json.dumps({"transactions": [broken]})
        with self.client.post("/score", data=body, headers={"content-type": "application/json"},
                              name="/score (invalid)", catch_response=True) as response:
            if response.status_code == 400:
                response.success()
            else:
                response.failure(f"expected 400, got {response.status_code}")

    @task(1)
    def model(self) -> None:
        self.client.get("/model")
