"""Locust load test of the fraud-scoring service (Locust is in the project's `dev` extra).

Start the service (see bento/README.md), then, from the repository root:

    .venv/bin/locust -f bench/locustfile.py --host http://127.0.0.1:3001 --headless -u 200 -r 100 -t 60s \
        --only-summary AuthorizationUser          # 200 users x 1 request/s: single transactions at 200 req/s
    .venv/bin/locust -f bench/locustfile.py --host http://127.0.0.1:3001 --headless -u 64 -r 16 -t 60s \
        --only-summary MixedTrafficUser           # 64 users as fast as the service answers: a burst of mixed traffic
    .venv/bin/locust -f bench/locustfile.py --host http://127.0.0.1:3001   # web UI on http://127.0.0.1:8089

`AuthorizationUser` sends one transaction to /score per second per user, each user at its own random phase (open
loop at users x 1 req/s, the shape of payment authorizations). `MixedTrafficUser` loops without pause: mostly single
transactions to /score, some to /score/batched (adaptive batching), now and then a batch of 1,000 to /predict, and
rarely reads /model. Transactions come from the project's simulator (one simulated day, generated once per Locust
process), so they look like real PaySim traffic; a few are altered to be invalid on purpose and must be answered
with a 400, which Locust then counts as a success. Set FRAUD_LOCUST_BATCH (default 1000) to change the /predict batch
size. Figures: bench/README.md, "BentoML service"; Locust's client runs on the same 2-core machine as the service.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from functools import lru_cache
from pathlib import Path

from locust import FastHttpUser, constant_throughput, task

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


JSON_HEADERS = {"content-type": "application/json"}


def post_json(client, path: str, body: dict, name: str, **kwargs):
    """POST `body` as JSON bytes: Locust's `json=` hands geventhttpclient a str, which it sends after the headers in
    a second write, and that write waits for the server's delayed ACK (Nagle): 40 ms added to each request."""
    return client.post(path, data=json.dumps(body).encode(), headers=JSON_HEADERS, name=name, **kwargs)


def post_invalid(client) -> None:
    """A transaction with a negative amount: the service must answer 400, which counts as a success here."""
    broken = {**random.choice(transactions()), "amount": -1.0}
    with post_json(client, "/score", {"transactions": [broken]}, "/score (invalid)", catch_response=True) as response:
        if response.status_code == 400:
            response.success()
        else:
            response.failure(f"expected 400, got {response.status_code}")


class AuthorizationUser(FastHttpUser):
    """One single-transaction authorization per second on /score."""

    wait_time = constant_throughput(1.0)

    def on_start(self) -> None:
        # Users start together; without a random phase each would send at the same instant every second, a
        # synchronized burst of -u requests instead of a steady -u requests/s.
        time.sleep(random.random())

    @task
    def score_one(self) -> None:
        post_json(self.client, "/score", {"transactions": [random.choice(transactions())]}, "/score")


class MixedTrafficUser(FastHttpUser):
    """Requests back to back: single transactions, batches, invalid input and the model card."""

    @task(40)
    def score_one(self) -> None:
        post_json(self.client, "/score", {"transactions": [random.choice(transactions())]}, "/score")

    @task(10)
    def score_one_batched(self) -> None:
        post_json(self.client, "/score/batched", {"transactions": [random.choice(transactions())]}, "/score/batched")

    @task(1)
    def predict_batch(self) -> None:
        rows = transactions()
        start = random.randrange(0, len(rows) - BATCH_SIZE)
        post_json(self.client, "/predict", {"transactions": rows[start:start + BATCH_SIZE]}, f"/predict x{BATCH_SIZE}")

    @task(2)
    def invalid_input_is_a_400(self) -> None:
        post_invalid(self.client)

    @task(1)
    def model(self) -> None:
        self.client.get("/model")
