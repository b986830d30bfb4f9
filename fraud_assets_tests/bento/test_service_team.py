"""The service in the team deployment: replicas of `bentoml serve`, each with its own FRAUD_DATA_DIR and BENTOML_HOME
(standing for its own host), sharing only a real PostgreSQL database (FRAUD_DATABASE_URL).

- Two replicas under load while a new champion is promoted and then rolled back (the real `fraud_assets.cli.rollback`
  command, MLflow in a SQLite file): each replica serves each version within the poll interval plus 1 s of its
  promotion, no request fails, and the database holds every decision the clients received, once.
- The database stopped and started again under load (a cluster of the test's own): no request fails, the buffer
  shows in /metrics while it is down, and every decision is in the database once after; a replica whose buffer holds
  about a second of its traffic drops the rest, counts them in /metrics and says so in its log.
- A database that cannot be reached when `bentoml serve` starts: one clear error, without the password.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from fraud_assets.cli.local_postgres import start_cluster, stop_cluster
from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.decision_log import read_decisions
from fraud_assets.core.online_db import ONLINE_SCHEMA
from fraud_assets.core.processes import kill_processes, process_tree
from fraud_assets.core.served_models import MODEL_NAME, connect_champion_promotions, publish_champion
from fraud_assets_tests.bento.conftest import REPOSITORY_ROOT, request_rows, service_env
from fraud_assets_tests.bento.test_service_server import START_TIMEOUT_SECONDS, free_port

POLL_SECONDS = 2.0
SWAP_ALLOWANCE_SECONDS = POLL_SECONDS + 1.0  # the bound: the poll interval plus 1 s
DOWN_SECONDS = 4.0  # between the database's stop and its start
# Decisions a replica holds at most in the outage test's second replica: above what the load submits between two
# writes (0.5 s, about 1,200 decisions here), below what it submits while the database is down (about 9,000).
TINY_BUFFER = 3_000

REGISTER_VERSIONS = """
import json, sys
import mlflow, mlflow.xgboost, xgboost
from pathlib import Path
tracking_uri, folder, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
mlflow.set_tracking_uri(tracking_uri)
experiment = mlflow.create_experiment("fraud_model", artifact_location=(folder / "artifacts").as_uri())
booster = xgboost.Booster()
booster.load_model(str(folder / "booster.json"))
for _ in range(count):
    with mlflow.start_run(experiment_id=experiment):
        mlflow.log_dict(json.loads((folder / "model_card.json").read_text()), "model_card.json")
        mlflow.log_artifact(str(folder / "reference_sample.parquet"))
        mlflow.xgboost.log_model(booster, name="model", registered_model_name="fraud_model")
"""


class Replica:
    """One `bentoml serve` (one worker) in a session of its own, as a host of the team deployment would run it,
    with what its clients received."""

    def __init__(self, name: str, root: Path, database_url: str, **env: str) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = root / f"{name}.log"
        self.received: Counter[str] = Counter()  # decisions received, by request id
        self.failures: list[str] = []
        self.versions_seen: list[tuple[float, str]] = []  # (time.time(), version of GET /model)
        self._lock = threading.Lock()
        environment = service_env(root / name / "bentoml", root / name / "data", FRAUD_DATABASE_URL=database_url,
                                  FRAUD_SERVICE_POLL_SECONDS=str(POLL_SECONDS), **env)
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("bentoml")), "serve", "bento.service:FraudScoring",
             "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=REPOSITORY_ROOT, env={**os.environ, **environment}, stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.process.returncode}:\n{self.log()[-4000:]}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        pytest.fail(f"{self.name} was not ready within {START_TIMEOUT_SECONDS} s:\n{self.log()[-4000:]}")

    def call(self, client: httpx.Client, path: str, transactions: list[dict]) -> None:
        """POST transactions; a decision list is counted by request id, anything else is a failure."""
        try:
            response = client.post(self.url + path, json={"transactions": transactions}, timeout=30)
        except httpx.HTTPError as error:
            self.failures.append(f"{path}: {error!r}")
            return
        if response.status_code != 200:
            self.failures.append(f"{path}: {response.status_code} {response.text[:300]}")
            return
        with self._lock:
            self.received.update(decision["request_id"] for decision in response.json())

    def watch_model(self, client: httpx.Client) -> None:
        try:
            version = client.get(self.url + "/model", timeout=10).json()["version"]
        except (httpx.HTTPError, KeyError, ValueError) as error:
            self.failures.append(f"/model: {error!r}")
            return
        self.versions_seen.append((time.time(), version))

    def first_seen(self, version: str, after: float) -> float | None:
        """When GET /model first showed `version` at or after the time `after` (time.time())."""
        return next((seen for seen, shown in self.versions_seen if seen >= after and shown == version), None)

    def metric(self, name: str) -> float:
        """The sum of the samples of metric `name` in /metrics (0 when absent)."""
        text = httpx.get(self.url + "/metrics", timeout=10).text
        return sum(float(value) for value in re.findall(rf"^{name}(?:\{{[^}}]*\}})? (\S+)$", text, re.MULTILINE))

    def stop(self, timeout: float = 90.0) -> int:
        """Graceful stop: SIGTERM to `bentoml serve`, which stops its worker (writing its queued decisions)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                pytest.fail(f"{self.name} did not stop within {timeout} s after SIGTERM")
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL to the session of `bentoml serve` and to every process under it (its workers have sessions of
        their own)."""
        processes = process_tree(self.process.pid)
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        kill_processes(processes)
        self.process.wait(10)


class Load:
    """Client threads calling /score (one transaction) and /predict (ten) on every replica without pause, and a
    watcher of each replica's GET /model every 0.1 s, until stopped."""

    def __init__(self, replicas: list[Replica], rows: list[dict]) -> None:
        self.replicas, self.rows = replicas, rows
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._calls, args=(replica, path, size))
                         for replica in replicas for path, size in (("/score", 1), ("/predict", 10))]
        self._threads += [threading.Thread(target=self._watch, args=(replica,)) for replica in replicas]

    def _calls(self, replica: Replica, path: str, size: int) -> None:
        index = 0
        with httpx.Client() as client:
            while not self._stop.is_set():
                start = index % (len(self.rows) - size)
                replica.call(client, path, self.rows[start:start + size])
                index += size

    def _watch(self, replica: Replica) -> None:
        with httpx.Client() as client:
            while not self._stop.wait(0.1):
                replica.watch_model(client)

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)


def stop_all(replicas: list[Replica]) -> None:
    """Kill what is still running (teardown, also after a failure)."""
    for replica in replicas:
        if replica.process.poll() is None:
            replica.kill()


def stored_decisions(database_url: str) -> Counter[tuple[str, int]]:
    """How often each (request_id, item_index) is in the team database's decision log."""
    frame = read_decisions(DatabaseUrl.parse(database_url))
    return Counter(zip(frame["request_id"], frame["item_index"].astype(int)))


def assert_logged_once(stored: Counter[tuple[str, int]], received: Counter[str]) -> None:
    """Every decision the clients received is stored exactly once (item indexes 0..n-1 of each request)."""
    duplicated = [key for key, count in stored.items() if count > 1]
    assert duplicated == [], f"{len(duplicated)} decisions stored twice, e.g. {duplicated[:3]}"
    expected = {(request, index) for request, count in received.items() for index in range(count)}
    missing = expected - set(stored)
    assert not missing, f"{len(missing)} of {len(expected)} received decisions are not in the database"


def promotion_time(database_url: str, version: str) -> float:
    """When the newest promotion of `version` was committed (the database's clock, as epoch seconds)."""
    with closing(connect_champion_promotions(DatabaseUrl.parse(database_url))) as connection:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT extract(epoch FROM max(promoted_at)) FROM {ONLINE_SCHEMA}.champion_promotions "
                           "WHERE model_name = %s AND version = %s", (MODEL_NAME, version))
            (promoted_at,) = cursor.fetchone()
        connection.rollback()
    return float(promoted_at)


def register_versions(folder: Path, trained_champion, count: int) -> str:
    """Register `count` versions of the trained champion in an MLflow SQLite store under `folder`, as training
    does (card, reference sample, model); returns the tracking URI. In a subprocess: MLflow's state stays there."""
    folder.mkdir(parents=True, exist_ok=True)
    trained_champion.booster.save_model(folder / "booster.json")
    trained_champion.reference_sample.to_parquet(folder / "reference_sample.parquet", index=False)
    card = replace(trained_champion.card("1"), version=None, promoted_at=None, mlflow_run_id=None)
    (folder / "model_card.json").write_text(json.dumps(card.to_dict()))
    tracking_uri = f"sqlite:///{folder / 'mlflow.db'}"
    result = subprocess.run([sys.executable, "-c", REGISTER_VERSIONS, tracking_uri, str(folder), str(count)],
                            cwd=folder, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    return tracking_uri


def promote_with_the_cli(version: str, tracking_uri: str, database_url: str, data_dir: Path) -> None:
    """`python -m fraud_assets.cli.rollback --version <version>` on a host of its own (MLflow alias, then a row of
    the team database's champion table)."""
    environment = {**os.environ, "FRAUD_MLFLOW_TRACKING_URI": tracking_uri, "FRAUD_DATABASE_URL": database_url,
                   "FRAUD_DATA_DIR": str(data_dir)}
    environment.pop("MLFLOW_TRACKING_URI", None)
    result = subprocess.run([sys.executable, "-m", "fraud_assets.cli.rollback", "--version", version],
                            cwd=REPOSITORY_ROOT, env=environment, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert f"version {version} is champion again" in result.stdout




@pytest.mark.timeout(600)
def test_two_replicas_serve_each_promotion_and_the_rollback_and_log_every_decision_once(
        tmp_path, postgres_database, trained_champion):
    tracking_uri = register_versions(tmp_path / "mlflow", trained_champion, count=2)
    promote_with_the_cli("1", tracking_uri, postgres_database, tmp_path / "promoter")
    replicas = [Replica(name, tmp_path, postgres_database) for name in ("replica_a", "replica_b")]
    try:
        for replica in replicas:
            replica.wait_ready()
        with Load(replicas, request_rows(trained_champion.unseen.head(200))):
            time.sleep(1.0)
            promote_with_the_cli("2", tracking_uri, postgres_database, tmp_path / "promoter")
            time.sleep(SWAP_ALLOWANCE_SECONDS + 1.0)
            promote_with_the_cli("1", tracking_uri, postgres_database, tmp_path / "promoter")  # the rollback
            time.sleep(SWAP_ALLOWANCE_SECONDS + 1.0)
        for replica in replicas:
            assert replica.stop() == 0, replica.log()[-4000:]
    finally:
        stop_all(replicas)

    latencies = {}
    for version in ("2", "1"):
        promoted_at = promotion_time(postgres_database, version)
        for replica in replicas:
            seen = replica.first_seen(version, after=promoted_at)
            assert seen is not None, f"{replica.name} never served version {version}: {replica.versions_seen[-5:]}"
            latencies[replica.name, version] = round(seen - promoted_at, 2)
    print(f"seconds from promotion to GET /model: {latencies}")
    assert all(latency <= SWAP_ALLOWANCE_SECONDS for latency in latencies.values()), latencies
    for replica in replicas:
        assert replica.failures == [], replica.failures[:5]
        assert replica.versions_seen[-1][1] == "1"
        assert DatabaseUrl.parse(postgres_database).password not in replica.log()
    received = replicas[0].received + replicas[1].received
    stored = stored_decisions(postgres_database)
    print(f"decisions received {sum(received.values())}, stored {sum(stored.values())}")
    assert sum(stored.values()) == sum(received.values())
    assert_logged_once(stored, received)


@pytest.mark.timeout(600)
def test_a_database_restart_under_load_fails_no_request_and_loses_no_decision_within_the_buffer(
        tmp_path, own_cluster, trained_champion):
    folder, cluster = own_cluster
    publish_champion(DatabaseUrl.parse(cluster.url), MODEL_NAME, trained_champion.booster,
                     trained_champion.card("1"), trained_champion.reference_sample)
    steady = Replica("steady", tmp_path, cluster.url)
    tiny = Replica("tiny", tmp_path, cluster.url, FRAUD_SERVICE_DECISION_BUFFER=str(TINY_BUFFER))
    replicas = [steady, tiny]
    try:
        for replica in replicas:
            replica.wait_ready()
        with Load(replicas, request_rows(trained_champion.unseen.head(200))):
            time.sleep(1.0)
            dropped_before = tiny.metric("fraud_decisions_dropped_total")
            stop_cluster(folder)
            time.sleep(DOWN_SECONDS)
            buffered_while_down = steady.metric("fraud_decision_buffer_rows")
            dropped_while_down = tiny.metric("fraud_decisions_dropped_total")
            start_cluster(folder)
            time.sleep(2.0)
        deadline = time.monotonic() + 30
        while steady.metric("fraud_decision_buffer_rows") > 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert steady.metric("fraud_decision_buffer_rows") == 0
        dropped = tiny.metric("fraud_decisions_dropped_total")
        for replica in replicas:
            assert replica.stop() == 0, replica.log()[-4000:]
    finally:
        stop_all(replicas)

    print(f"while down: {buffered_while_down:g} decisions buffered by the steady replica, {dropped_while_down:g} "
          f"dropped by the one with a buffer of {TINY_BUFFER}; {dropped:g} dropped in all")
    for replica in replicas:
        assert replica.failures == [], replica.failures[:5]
        assert cluster.password not in replica.log()
    assert buffered_while_down > 0
    assert dropped_before == 0 and dropped_while_down > 0
    stored = stored_decisions(cluster.url)
    assert_logged_once(Counter({key: count for key, count in stored.items() if key[0] in steady.received}),
                       steady.received)
    tiny_stored = sum(count for (request, _), count in stored.items() if request in tiny.received)
    assert tiny_stored == sum(tiny.received.values()) - dropped
    assert sum(stored.values()) == sum(steady.received.values()) + tiny_stored
    log = tiny.log()
    assert len(re.findall("The decision buffer is full", log)) >= 1
    assert re.search(r"\d+ decisions were dropped while the decision buffer was full", log), log[-4000:]


def test_a_database_unreachable_at_start_stops_the_server_with_one_clear_error(tmp_path):
    port = free_port()
    url = f"postgresql://fraud:s3cret-pw@127.0.0.1:{port}/frauddb"
    result = subprocess.run(
        [str(Path(sys.executable).with_name("bentoml")), "serve", "bento.service:FraudScoring",
         "--host", "127.0.0.1", "--port", str(free_port())],
        cwd=REPOSITORY_ROOT, env={**os.environ, **service_env(tmp_path / "bentoml", tmp_path / "data",
                                                              FRAUD_DATABASE_URL=url)},
        capture_output=True, text=True, timeout=300, start_new_session=True, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-4000:]
    assert output.count("Cannot connect to PostgreSQL database") == 1, output[-4000:]
    assert f"fraud_scoring cannot start: Cannot connect to PostgreSQL database 'frauddb' on 127.0.0.1:{port} as " \
           f"'fraud' (FRAUD_DATABASE_URL=postgresql://fraud:***@127.0.0.1:{port}/frauddb)" in output
    assert "s3cret-pw" not in output
    assert "Traceback" not in output
