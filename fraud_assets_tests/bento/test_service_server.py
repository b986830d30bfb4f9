"""The service as people run it: `bentoml serve bento.service:FraudScoring` in a subprocess on 127.0.0.1.

Two servers start once for the module, side by side: one with a champion (two workers, an API key, a 3 s poll) and
one with an empty store. The tests run in file order; the last one stops the first server gracefully (SIGINT) and
checks that the decision log holds every decision the clients received.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from fraud_assets.core.processes import kill_processes, process_tree
from fraud_assets.ml.batch_scoring import score_transactions
from fraud_assets_tests.bento.conftest import (
    REPOSITORY_ROOT,
    TEST_THRESHOLD,
    request_rows,
    service_env,
    valid_transaction,
)

API_KEY = "test-reload-key"
POLL_SECONDS = 3.0
LOAD_ALLOWANCE_SECONDS = 12.0  # loading and warming a model on a busy 2-core machine
START_TIMEOUT_SECONDS = 240.0
HOW_TO_TRAIN = "run `make run` (the main job) to train and promote the first model"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One `bentoml serve` subprocess, with the count of decisions its clients received."""

    def __init__(self, name: str, home: Path, data_dir: Path, log_dir: Path, **env: str) -> None:
        self.home, self.data_dir = home, data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        self.decisions_received = 0
        self._lock = threading.Lock()
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("bentoml")), "serve", "bento.service:FraudScoring",
             "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=REPOSITORY_ROOT, env={**os.environ, **service_env(home, data_dir, **env)},
            stdout=self.log_path.open("w"), stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, path: str, timeout: float = START_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"bentoml serve exited with {self.process.returncode}:\n{self.log()[-4000:]}")
            try:
                if httpx.get(self.url + path, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        pytest.fail(f"{self.url}{path} did not answer 200 within {timeout} s:\n{self.log()[-4000:]}")

    def post(self, path: str, transactions: list[dict], client: httpx.Client | None = None) -> httpx.Response:
        """POST transactions (a new connection unless `client` is given), counting the decisions received."""
        response = (client or httpx).post(self.url + path, json={"transactions": transactions}, timeout=30)
        if response.status_code == 200:
            with self._lock:
                self.decisions_received += len(response.json())
        return response

    def stop(self, timeout: float = 90.0) -> int:
        """Graceful stop: SIGINT to `bentoml serve` (which stops its workers); a kill after `timeout`."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                pytest.fail(f"bentoml serve did not stop within {timeout} s after SIGINT")
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL to `bentoml serve` and every process under it (its workers run in sessions of their own)."""
        kill_processes(process_tree(self.process.pid))
        self.process.wait(10)


@pytest.fixture(scope="module")
def servers(tmp_path_factory, trained_champion):
    root = tmp_path_factory.mktemp("served")
    trained_champion.save(root / "bentoml", "1")
    main = Server("main", root / "bentoml", root / "data", root, FRAUD_SERVICE_API_KEY=API_KEY,
                  FRAUD_SERVICE_POLL_SECONDS=str(POLL_SECONDS), FRAUD_SERVICE_WORKERS="2")
    empty = Server("empty", root / "empty_bentoml", root / "empty_data", root, FRAUD_SERVICE_POLL_SECONDS="1")
    try:
        main.wait_for("/readyz")
        empty.wait_for("/livez")
        yield {"main": main, "empty": empty}
    finally:
        for server in (main, empty):
            server.kill()


@pytest.fixture(scope="module")
def server(servers) -> Server:
    return servers["main"]


def swaps_to(server: Server, version: str) -> list[str]:
    """The workers (by index) whose log says they now serve `version`."""
    return sorted(re.findall(rf"\[entry_service:fraud_scoring:(\d+)\] Serving fraud_model version {version} ",
                             server.log()))


def served_version(server: Server) -> str:
    return httpx.get(server.url + "/model", timeout=10, headers={"Connection": "close"}).json()["version"]


def test_the_empty_store_answers_503_with_how_to_train_then_serves_the_first_promotion(servers, trained_champion):
    empty = servers["empty"]
    assert httpx.get(empty.url + "/livez").status_code == 200
    assert httpx.get(empty.url + "/readyz").status_code == 503
    for response in (empty.post("/predict", [valid_transaction()]), empty.post("/score", [valid_transaction()]),
                     httpx.get(empty.url + "/model")):
        assert response.status_code == 503
        assert HOW_TO_TRAIN in response.json()["error"]
    trained_champion.save(empty.home, "1")
    empty.wait_for("/readyz", timeout=1 + LOAD_ALLOWANCE_SECONDS)
    assert empty.post("/predict", [valid_transaction()]).json()[0]["model_version"] == "1"
    assert empty.stop() == 0


def test_service_and_system_endpoints_answer(server, trained_champion):
    assert server.post("/predict", request_rows(trained_champion.unseen.head(10))).status_code == 200
    assert httpx.get(server.url + "/livez").status_code == 200
    assert httpx.get(server.url + "/readyz").status_code == 200
    assert "text/html" in httpx.get(server.url + "/").headers["content-type"]
    assert {"/predict", "/score", "/model", "/reload"} <= set(httpx.get(server.url + "/docs.json").json()["paths"])
    metrics = httpx.get(server.url + "/metrics").text
    assert "bentoml_service_request_duration_seconds" in metrics
    assert re.search(r'^fraud_decisions_total\{endpoint="predict",model_version="1",outcome="(alert|pass)"\}',
                     metrics, re.MULTILINE)
    info = httpx.get(server.url + "/model").json()
    assert (info["version"], info["threshold"]) == ("1", TEST_THRESHOLD)


def test_scores_over_http_equal_batch_scoring(server, trained_champion):
    day = trained_champion.unseen
    batch = score_transactions(day.assign(transaction_id=day.index.astype(str), event_ts=pd.Timestamp(0), day=5),
                               trained_champion.booster, TEST_THRESHOLD, "1", datetime.now(UTC))
    response = server.post("/predict", request_rows(day))
    assert response.status_code == 200, response.text[:500]
    decisions = response.json()
    np.testing.assert_array_equal([decision["score"] for decision in decisions], batch["score"].to_numpy())
    np.testing.assert_array_equal([decision["is_alert"] for decision in decisions], batch["is_alert"].to_numpy())


def test_bentoml_client_calls_the_service(server, trained_champion):
    import bentoml

    rows = request_rows(trained_champion.unseen.head(20))
    with bentoml.SyncHTTPClient(server.url) as client:
        decisions = client.predict(transactions=rows)
        single = client.score(transactions=rows[:1])
    server.decisions_received += len(decisions) + len(single)
    assert len(decisions) == 20 and decisions[0]["score"] == single[0]["score"]


def test_bad_input_over_http_is_a_400_and_nothing_is_a_500(server):
    cases = [
        b'{"transactions": [{"type": "TRANSFER", "amount": NaN}]}',
        json.dumps({"transactions": [valid_transaction(type="WIRE")]}).encode(),
        json.dumps({"transactions": [valid_transaction(amount=-5.0)]}).encode(),
        json.dumps({"transactions": [valid_transaction(nameDest="X1")]}).encode(),
        json.dumps({"transactions": []}).encode(),
        b"{not json",
    ]
    for path in ("/predict", "/score"):
        for body in cases:
            response = httpx.post(server.url + path, content=body, headers={"content-type": "application/json"})
            assert response.status_code == 400, (path, body, response.text)
            assert response.json()["detail"][0]["msg"]
    metrics = httpx.get(server.url + "/metrics").text
    errors = re.findall(r'^bentoml_service_request_total\{endpoint="[^"]*",http_response_code="5\d\d".*\} (\S+)$',
                        metrics, re.MULTILINE)
    assert all(float(count) == 0 for count in errors), errors


def test_concurrent_calls_to_score_batched_share_model_calls(server, trained_champion):
    rows = request_rows(trained_champion.unseen.head(400))
    with httpx.Client() as client, ThreadPoolExecutor(32) as pool:
        responses = list(pool.map(lambda row: server.post("/score/batched", [row], client), rows))
    assert [response.status_code for response in responses] == [200] * len(rows)
    metrics = httpx.get(server.url + "/metrics").text
    calls = sum(float(value) for value in re.findall(
        r'^bentoml_service_adaptive_batch_size_count\{.*method_name="score_batched".*\} (\S+)$', metrics,
        re.MULTILINE))
    batched = sum(float(value) for value in re.findall(
        r'^bentoml_service_adaptive_batch_size_sum\{.*method_name="score_batched".*\} (\S+)$', metrics,
        re.MULTILINE))
    assert batched >= len(rows) and calls < batched, (calls, batched)  # some model calls served several requests
    shared = len({response.json()[0]["request_id"] for response in responses})
    assert shared < len(rows)  # the decisions name the shared model call


def test_concurrent_calls_to_score_are_each_scored_alone(server, trained_champion):
    """/score never waits for company: each call is its own model call, whatever the concurrency."""
    rows = request_rows(trained_champion.unseen.head(200))
    with httpx.Client() as client, ThreadPoolExecutor(32) as pool:
        responses = list(pool.map(lambda row: server.post("/score", [row], client), rows))
    assert [response.status_code for response in responses] == [200] * len(rows)
    assert len({response.json()[0]["request_id"] for response in responses}) == len(rows)


def test_reload_needs_the_api_key(server):
    assert httpx.post(server.url + "/reload").status_code == 401
    assert httpx.post(server.url + "/reload", headers={"X-API-Key": "wrong"}).status_code == 401
    response = httpx.post(server.url + "/reload", headers={"X-API-Key": API_KEY})
    assert response.status_code == 200, response.text
    assert response.json() == {**response.json(), "changed": False, "version": "1"}


def test_a_new_champion_is_served_within_the_poll_interval_without_failing_requests(server, trained_champion):
    results: list[tuple[float, int, str]] = []
    stop = threading.Event()
    rows = request_rows(trained_champion.unseen.head(200))

    def client_loop(path: str, size: int) -> None:
        index = 0
        while not stop.is_set():
            started = time.monotonic()
            try:  # a new connection each time, so that both workers answer
                response = server.post(path, rows[index % 190:index % 190 + size])
                version = response.json()[0]["model_version"] if response.status_code == 200 else response.text
                results.append((started, response.status_code, version))
            except httpx.HTTPError as error:
                results.append((started, 0, repr(error)))
            index += size

    threads = [threading.Thread(target=client_loop, args=args) for args in [("/score", 1), ("/score", 1),
                                                                            ("/predict", 10)]]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        trained_champion.save(server.home, "2")
        saved_at = time.monotonic()
        deadline = saved_at + POLL_SECONDS + LOAD_ALLOWANCE_SECONDS
        while time.monotonic() < deadline and len(swaps_to(server, "2")) < 2:
            time.sleep(0.2)
        swapped_at = time.monotonic()
        time.sleep(1.0)  # keep calling after the swap
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    failures = [result for result in results if result[1] != 200]
    assert not failures, failures[:5]
    assert swaps_to(server, "2") == ["1", "2"], "each of the two workers swapped once"
    assert swapped_at - saved_at <= POLL_SECONDS + LOAD_ALLOWANCE_SECONDS
    assert {version for started, _, version in results if started > swapped_at} == {"2"}
    assert {"1", "2"} <= {version for _, _, version in results}
    assert {served_version(server) for _ in range(10)} == {"2"}


def test_reload_serves_a_new_champion_at_once_in_every_worker(server, trained_champion):
    trained_champion.save(server.home, "3")
    response = httpx.post(server.url + "/reload", headers={"X-API-Key": API_KEY})
    assert response.status_code == 200, response.text
    assert response.json()["version"] == "3"  # the answering worker, before it answered
    deadline = time.monotonic() + LOAD_ALLOWANCE_SECONDS
    while len(swaps_to(server, "3")) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert swaps_to(server, "3") == ["1", "2"]
    assert {served_version(server) for _ in range(10)} == {"3"}


def test_a_graceful_stop_keeps_every_decision(server):
    """Last test of the module: SIGINT, then the decision log holds every decision the clients received."""
    assert server.decisions_received > 0
    assert server.stop() == 0
    with sqlite3.connect(server.data_dir / "decisions.sqlite") as connection:
        rows, requests = connection.execute("SELECT COUNT(*), COUNT(DISTINCT request_id) FROM decisions").fetchone()
    assert rows == server.decisions_received
    assert requests > 1
