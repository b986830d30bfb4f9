"""The label app of the team deployment (FRAUD_DATABASE_URL), on a real PostgreSQL server and real Gradio.

Each replica is a `python -m label_app` process with a data folder of its own (standing for its own host); the
replicas share only the database, where the label events are, and the shared path, where Dagster writes the review
exports. Reviewers label through gradio_client as in test_app.py. When the database goes down, a reviewer submitting
is told the label was not recorded and nothing of it is stored; a replica started then exits with one clear line.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from fraud_assets.cli.local_postgres import start_cluster, stop_cluster
from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.settings import Settings
from fraud_assets.core.warehouse_engine import open_warehouse
from fraud_assets.defs.assets.reviewed_labels import reviewed_labels
from fraud_assets.defs.resources import build_resources
from fraud_assets_tests.label_app.test_app import REPOSITORY_ROOT, app_process, free_port
from fraud_assets_tests.label_app.test_data import case, write_day

REPLICAS = ("a", "b")
REVIEWERS_PER_REPLICA = 8
OWN_LABELS = 18  # each reviewer labels transactions of their own ...
SHARED_LABELS = 2  # ... and then, with everyone else on both replicas, one transaction all share
USERS = {f"reviewer{number:02d}": f"pw-{number:02d}" for number in range(len(REPLICAS) * REVIEWERS_PER_REPLICA)}
ALERTS = len(USERS) * OWN_LABELS + 1  # day 4: e000 .. e288, the last one shared
SHARED_TRANSACTION = f"e{ALERTS - 1:03d}"
EXPORT_REWRITE_SECONDS = 0.3  # how often "the main job" rewrites day 3 while reviewers label


def write_exports(shared_dir: Path) -> Path:
    """Day 4 with ALERTS alerts (and a day 3 to rewrite) under the shared path, as Dagster writes them."""
    exports = shared_dir / "exports"
    write_day(exports, 3, [case("d0", 3, 0.9, True, 1)], 1000, "v1", 0.5)
    alerts = [case(f"e{index:03d}", 4, 0.999 - index * 0.003, True, index % 3 == 0, model_version="v2", threshold=0.1)
              for index in range(ALERTS)]
    write_day(exports, 4, alerts, 50_000, "v2", 0.1)
    return exports


def replica_environment(tmp_path: Path, name: str, database_url: str, shared_dir: Path) -> dict[str, str]:
    """A replica's host: its own data folder, the team database and the shared path, every reviewer a user."""
    return {**os.environ, "FRAUD_DATA_DIR": str(tmp_path / f"host-{name}"), "FRAUD_SHARED_DIR": str(shared_dir),
            "FRAUD_DATABASE_URL": database_url, "FRAUD_LABEL_APP_USERS_FILE": "",
            "FRAUD_LABEL_APP_USERS": ",".join(f"{user}:{password}" for user, password in USERS.items())}


@contextmanager
def replicas(tmp_path: Path, database_url: str, shared_dir: Path,
             names: tuple[str, ...] = REPLICAS) -> Iterator[dict[str, str]]:
    """The label app replicas, each a process (group) of its own; yields {name: URL}. Every one is stopped on the way
    out, even when the test failed."""
    with ExitStack() as stack:
        urls = {}
        for name in names:
            port = free_port()
            stack.enter_context(app_process(replica_environment(tmp_path, name, database_url, shared_dir), port,
                                            tmp_path / f"replica-{name}.log"))
            urls[name] = f"http://127.0.0.1:{port}/"
        yield urls


def client(url: str, user: str) -> Client:
    return Client(url, auth=(user, USERS[user]), verbose=False, analytics_enabled=False)


def stored_events(database_url: str) -> list[tuple]:
    """(event_id, transaction_id, label, previous_label, reviewer, note) of every label event, oldest first."""
    with closing(psycopg2.connect(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT event_id, transaction_id, label, previous_label, reviewer, note "
                       "FROM fraud_online.label_events ORDER BY event_id")
        return cursor.fetchall()


@contextmanager
def exports_rewritten(exports: Path) -> Iterator[None]:
    """A thread rewriting day 3 of the exports every EXPORT_REWRITE_SECONDS, as the main job does while reviewers
    label; stopped on the way out."""
    stop = threading.Event()

    def rewrite() -> None:
        version = 0
        while not stop.wait(EXPORT_REWRITE_SECONDS):
            version += 1
            write_day(exports, 3, [case("d0", 3, 0.9, True, 1, model_version=f"v1.{version}")], 1000, "v1", 0.5)

    thread = threading.Thread(target=rewrite, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def test_two_replicas_of_eight_reviewers_each_store_every_label_once_and_reviewed_labels_reads_them(
    postgres_database, tmp_path, monkeypatch
):
    shared_dir = tmp_path / "shared"
    exports = write_exports(shared_dir)
    reviewers = sorted(USERS)
    replica_of = {reviewer: REPLICAS[number // REVIEWERS_PER_REPLICA] for number, reviewer in enumerate(reviewers)}
    own = {reviewer: [f"e{number * OWN_LABELS + index:03d}" for index in range(OWN_LABELS)]
           for number, reviewer in enumerate(reviewers)}

    with replicas(tmp_path, postgres_database, shared_dir) as urls:
        with ThreadPoolExecutor(len(reviewers)) as pool:
            clients = dict(zip(reviewers, pool.map(lambda reviewer: client(urls[replica_of[reviewer]], reviewer),
                                                   reviewers)))

        def work(reviewer: str) -> tuple[list[dict], list[float], list[str]]:
            """Submit the reviewer's labels one after the other; (events returned, seconds per label, errors)."""
            submissions = [(transaction_id, index % 2, f"{reviewer} #{index}")
                           for index, transaction_id in enumerate(own[reviewer])]
            submissions += [(SHARED_TRANSACTION, (index + len(submissions)) % 2, f"{reviewer} shared #{index}")
                            for index in range(SHARED_LABELS)]
            events, seconds, errors = [], [], []
            for transaction_id, label, note in submissions:
                started = time.perf_counter()
                try:
                    events.append(clients[reviewer].predict(transaction_id, label, note, api_name="/submit_label"))
                except Exception as error:  # counted, and shown by the assertion below
                    errors.append(f"{reviewer} {transaction_id}: {error}")
                seconds.append(time.perf_counter() - started)
            return events, seconds, errors

        started = time.perf_counter()
        with exports_rewritten(exports), ThreadPoolExecutor(len(reviewers)) as pool:
            results = list(pool.map(work, reviewers))
        wall_seconds = time.perf_counter() - started
        returned = [event for events, _, _ in results for event in events]
        seconds = [value for _, values, _ in results for value in values]
        errors = [error for _, _, errors in results for error in errors]
        history = {name: client(url, reviewers[0]).predict(limit=10_000, api_name="/history")
                   for name, url in urls.items()}

    submitted = len(reviewers) * (OWN_LABELS + SHARED_LABELS)
    print(f"\n{len(REPLICAS)} replicas x {REVIEWERS_PER_REPLICA} reviewers: {len(returned)} of {submitted} labels "
          f"stored, {len(errors)} errors, p50 {statistics.median(seconds):.3f} s per label, "
          f"p95 {statistics.quantiles(seconds, n=20)[-1]:.3f} s, {len(seconds) / wall_seconds:.0f} labels/s")
    assert errors == []
    stored = stored_events(postgres_database)
    assert len(stored) == len(returned) == submitted
    assert sorted(row[0] for row in stored) == sorted(event["event_id"] for event in returned)  # each stored once
    assert Counter((row[4], row[1], row[2], row[5]) for row in stored) == Counter(
        (event["reviewer"], event["transaction_id"], event["label"], event["note"]) for event in returned)
    for reviewer, transaction_ids in own.items():
        assert sorted(row[1] for row in stored if row[4] == reviewer and row[1] != SHARED_TRANSACTION) == sorted(
            transaction_ids), reviewer
    shared = [row for row in stored if row[1] == SHARED_TRANSACTION]
    assert len(shared) == len(reviewers) * SHARED_LABELS
    assert [row[3] for row in shared] == [None] + [row[2] for row in shared[:-1]]  # each saw the one before it
    assert history["a"] == history["b"] and len(history["a"]) == submitted

    latest = {row[1]: row for row in stored}  # oldest first: the last row of a transaction is its current label
    monkeypatch.setenv("FRAUD_DATABASE_URL", postgres_database)  # the warehouse's catalog URL is read from it
    settings = Settings(data_dir=tmp_path / "host-dagster", database=DatabaseUrl.parse(postgres_database),
                        shared_dir=shared_dir)
    result = dg.materialize([reviewed_labels], resources=build_resources(settings),
                            instance=dg.DagsterInstance.ephemeral())
    assert result.success
    with open_warehouse(settings.warehouse_location, read_only=True) as connection:  # what fraud_model loads
        labels = connection.execute("SELECT transaction_id, label, reviewer, event_count FROM fraud.reviewed_labels"
                                    ).fetchall()
    events_per_transaction = Counter(row[1] for row in stored)
    assert sorted(labels) == sorted((transaction_id, row[2], row[4], events_per_transaction[transaction_id])
                                    for transaction_id, row in latest.items())




def submission_waiting_for_a_lock(database_url: str, timeout_seconds: float = 30) -> None:
    """Return once a label app's transaction waits for a lock (its INSERT behind the test's table lock)."""
    deadline = time.monotonic() + timeout_seconds
    with closing(psycopg2.connect(database_url)) as connection:
        connection.autocommit = True
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fraud_assets' "
                               "AND wait_event_type = 'Lock'")
                if cursor.fetchone()[0]:
                    return
                time.sleep(0.05)
    raise AssertionError(f"no label submission waited for the table lock within {timeout_seconds} s")


def replica_start_output(tmp_path: Path, database_url: str, shared_dir: Path) -> tuple[int, str]:
    """Start one more replica (it should exit at once); its return code and everything it printed."""
    completed = subprocess.run([sys.executable, "-m", "label_app", "--port", str(free_port())], cwd=REPOSITORY_ROOT,
                               env=replica_environment(tmp_path, "late", database_url, shared_dir),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120,
                               start_new_session=True)
    return completed.returncode, completed.stdout


def test_while_the_database_is_down_a_submit_stores_nothing_and_a_new_replica_refuses_to_start(
    own_cluster, tmp_path
):
    folder, cluster = own_cluster
    database_url = cluster.url
    shared_dir = tmp_path / "shared"
    write_exports(shared_dir)
    reviewer = "reviewer00"

    with replicas(tmp_path, database_url, shared_dir, names=("a",)) as urls:
        reviewing = client(urls["a"], reviewer)
        reviewing.predict("e000", "fraud", "before the outage", api_name="/submit_label")

        # A submission caught half-way: it has read the previous label and waits to INSERT behind a table lock when
        # the server stops (fast shutdown: every session is cut, the open transaction never commits).
        with closing(psycopg2.connect(database_url)) as locker:
            with locker.cursor() as cursor:
                cursor.execute("LOCK TABLE fraud_online.label_events IN EXCLUSIVE MODE")
            with ThreadPoolExecutor(1) as pool:
                pending = pool.submit(reviewing.predict, "e001", "fraud", "cut off", api_name="/submit_label")
                submission_waiting_for_a_lock(database_url)
                stop_cluster(folder)
                with pytest.raises(AppError) as cut_off:
                    pending.result(timeout=60)
        with pytest.raises(AppError) as refused:  # and one submitted while the server is down
            reviewing.predict("e002", "legit", "during the outage", api_name="/submit_label")
        with pytest.raises(AppError) as unreadable:
            reviewing.predict(api_name="/history")
        started_now = replica_start_output(tmp_path, database_url, shared_dir)

        start_cluster(folder)
        assert [row[1:] for row in stored_events(database_url)] == [
            ("e000", 1, None, reviewer, "before the outage")]
        after = reviewing.predict("e001", "fraud", "after the restart", api_name="/submit_label")
        assert (after["transaction_id"], after["previous_label"]) == ("e001", None)

    for error in (cut_off.value, refused.value):
        assert str(error).startswith("the label was not recorded: ") and str(error).endswith("; try again"), error
    assert "the connection to PostgreSQL" in str(cut_off.value) and "already closed" not in str(cut_off.value)
    assert "Cannot connect to PostgreSQL" in str(refused.value)
    assert str(unreadable.value).startswith("the label events and online alerts could not be read: ")
    returncode, output = started_now
    assert returncode != 0
    (line,) = output.strip().splitlines()  # one line, no traceback
    assert line.startswith("error: Cannot connect to PostgreSQL database 'fraud'") and cluster.masked_url in line
    for message in (str(cut_off.value), str(refused.value), str(unreadable.value), output):
        assert cluster.password not in message
    assert len(stored_events(database_url)) == 2
