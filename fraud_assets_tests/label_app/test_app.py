"""The real label app on a free port of 127.0.0.1, driven with gradio_client as a case-management system would."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from fraud_assets_tests.label_app.test_data import case, write_day, write_scenario
from label_app.app import API_ENDPOINTS, LabelAppSettings, serve

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
USERS = {"alice": "pw-alice", "bob": "pw-bob", "carol": "pw-carol", "dave": "pw-dave"}
BULK_ALERTS = 120  # day 4: e000 (score 0.999) .. e119
STOP_SECONDS = 30  # an app process gets this long to stop on SIGTERM


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app over the hand-made scenario plus a day 4 of BULK_ALERTS alerts; yields (url, label store path)."""
    root = tmp_path_factory.mktemp("label_app")
    exports, labels = write_scenario(root)
    bulk = [case(f"e{index:03d}", 4, 0.999 - index * 0.004, True, index % 3 == 0, model_version="v2", threshold=0.4)
            for index in range(BULK_ALERTS)]
    write_day(exports, 4, bulk, 5000, "v2", 0.4)
    settings = LabelAppSettings(exports_dir=exports, label_store=labels,
                                decision_log=root / "decisions.sqlite", port=free_port(),
                                users=",".join(f"{user}:{password}" for user, password in USERS.items()))
    demo, url = serve(settings, block=False, quiet=True)
    yield url, labels
    demo.close()


def client(url: str, user: str) -> Client:
    return Client(url, auth=(user, USERS[user]), verbose=False, analytics_enabled=False)


def label_events(path: Path, where: str = "1 = 1", parameters: tuple = ()) -> list[tuple]:
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute(
            f"SELECT event_id, transaction_id, label, previous_label, reviewer, note FROM label_events WHERE {where} "
            "ORDER BY event_id", parameters).fetchall()


def test_the_named_endpoints_take_no_reviewer(app):
    url, _ = app
    endpoints = client(url, "alice").view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert sorted(endpoints) == sorted(f"/{name}" for name in API_ENDPOINTS)
    submit = [parameter["parameter_name"] for parameter in endpoints["/submit_label"]["parameters"]]
    assert submit == ["transaction_id", "label", "note"]


def test_login_is_required(app):
    url, labels = app
    with pytest.raises(Exception, match="(?i)login|credentials"):
        Client(url, verbose=False, analytics_enabled=False)
    with pytest.raises(ValueError, match="(?i)login"):
        Client(url, auth=("alice", "wrong"), verbose=False, analytics_enabled=False)
    before = len(label_events(labels))
    response = httpx.post(f"{url}gradio_api/call/submit_label", json={"data": ["e050", "fraud", "anonymous"]})
    assert response.status_code == 401
    assert len(label_events(labels)) == before


def test_label_relabel_and_history(app):
    url, labels = app
    alice, bob = client(url, "alice"), client(url, "bob")
    queue = alice.predict(day=4, api_name="/queue")
    top = queue["alerts"][0]
    assert (queue["today"], top["transaction_id"], top["day"]) == (4, "e000", 4)
    assert top["reasons"][0].startswith("The amount is exactly the paying account's whole balance")
    left = queue["left_today"]

    event = alice.predict("e000", "fraud", "drained to a mule", api_name="/submit_label")
    assert (event["reviewer"], event["label"], event["previous_label"]) == ("alice", 1, None)
    after = alice.predict(day=4, api_name="/queue")
    assert "e000" not in [alert["transaction_id"] for alert in after["alerts"]]
    assert after["left_today"] == left - 1

    again = bob.predict("e000", "legit", "customer called", api_name="/submit_label")
    assert (again["reviewer"], again["label"], again["previous_label"]) == ("bob", 0, 1)
    history = bob.predict(transaction_id="e000", api_name="/history")
    assert [(row["reviewer"], row["label"], row["previous_label"], row["note"]) for row in history] == [
        ("bob", "legit", "fraud", "customer called"), ("alice", "fraud", "", "drained to a mule")]
    detail = alice.predict("e000", api_name="/case")
    assert (detail["label_name"], detail["labeled_by"], detail["label_source"]) == ("legit", "bob", "analyst")
    assert [row[4] for row in label_events(labels, "transaction_id = ?", ("e000",))] == ["alice", "bob"]


def test_bad_submissions_are_refused_and_record_nothing(app):
    url, labels = app
    alice = client(url, "alice")
    before = len(label_events(labels))
    with pytest.raises(AppError, match="no exported or online alert"):
        alice.predict("not-a-transaction", "fraud", "", api_name="/submit_label")
    with pytest.raises(AppError, match="'fraud'"):
        alice.predict("e001", "perhaps", "", api_name="/submit_label")
    with pytest.raises(AppError, match="unknown list"):
        alice.predict(kind="everything", api_name="/list_cases")
    assert len(label_events(labels)) == before


def test_concurrent_reviewers_lose_nothing(app):
    url, labels = app
    reviewers = list(USERS)
    clients = {reviewer: client(url, reviewer) for reviewer in reviewers}
    per_reviewer = {reviewer: [f"e{10 + 25 * number + index:03d}" for index in range(25)]
                    for number, reviewer in enumerate(reviewers)}

    def work(reviewer: str) -> list[dict]:
        events = [clients[reviewer].predict(transaction_id, index % 2, f"{reviewer} #{index}", api_name="/submit_label")
                  for index, transaction_id in enumerate(per_reviewer[reviewer])]
        # everyone also hammers one shared transaction: the events must chain their previous labels
        events += [clients[reviewer].predict("e119", (index + len(reviewer)) % 2, "", api_name="/submit_label")
                   for index in range(5)]
        return events

    with ThreadPoolExecutor(len(reviewers)) as pool:
        returned = [event for events in pool.map(work, reviewers) for event in events]

    assert len(returned) == 4 * 25 + 4 * 5 and len({event["event_id"] for event in returned}) == len(returned)
    for reviewer, transaction_ids in per_reviewer.items():
        stored = label_events(labels, f"reviewer = ? AND transaction_id IN ({', '.join('?' * 25)})",
                              (reviewer, *transaction_ids))
        assert sorted(row[1] for row in stored) == sorted(transaction_ids), reviewer
    shared = label_events(labels, "transaction_id = ?", ("e119",))
    assert len(shared) == 20
    assert [row[3] for row in shared] == [None] + [row[2] for row in shared[:-1]]  # each saw the one before
    queue = clients["alice"].predict(day=4, limit=200, api_name="/queue")
    assert not {alert["transaction_id"] for alert in queue["alerts"]} & {*sum(per_reviewer.values(), []), "e119"}


def test_statistics_and_lists(app):
    url, _ = app
    alice = client(url, "alice")
    stats = alice.predict(api_name="/daily_stats")
    days = {row["day"]: row for row in stats["days"]}
    assert stats["today"] == 4 and sorted(days) == [0, 1, 2, 3, 4]
    assert days[0]["precision"] == pytest.approx(2 / 3) and days[0]["recall"] == pytest.approx(2 / 3)
    assert days[3]["recall"] is None and days[3]["ground_truth_matured"] is False
    assert [version["model_version"] for version in stats["model_versions"]] == ["v1", "v2"]
    assert all(len(histogram["bins"]) == 20 for histogram in stats["score_histograms"])

    missed = alice.predict(kind="false_negatives", api_name="/list_cases")
    # day 2 matured today (day 4): its missed fraud c3 now counts, like m0 of day 0
    assert sorted(row["transaction_id"] for row in missed["rows"]) == ["c3", "m0"]
    first = alice.predict(kind="frauds", page=1, page_size=3, api_name="/list_cases")
    second = alice.predict(kind="frauds", page=2, page_size=3, api_name="/list_cases")
    assert first["total"] == second["total"] >= 6 and first["pages"] == -(-first["total"] // 3)
    assert not {row["transaction_id"] for row in first["rows"]} & {row["transaction_id"] for row in second["rows"]}
    filtered = alice.predict(kind="frauds", day=0, transaction_type="TRANSFER", api_name="/list_cases")
    assert sorted(row["transaction_id"] for row in filtered["rows"]) == ["a0", "a2", "m0"]


def test_importing_the_app_loads_no_dagster_mlflow_or_matplotlib():
    """The app runs without the pipeline's packages; matplotlib loads only when the score figure is drawn."""
    loaded = subprocess.run([sys.executable, "-c", "import sys, label_app.app; print(*sys.modules)"],
                            cwd=REPOSITORY_ROOT, capture_output=True, text=True, check=True).stdout.split()
    forbidden = ("dagster", "mlflow", "matplotlib", "fraud_assets.defs", "fraud_assets.cli")
    assert [name for name in loaded if name.startswith(forbidden)] == []


@contextlib.contextmanager
def app_process(environment: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen]:
    """`python -m label_app --port P` in a process group of its own, its output in `log`; yielded once it answers
    HTTP. Stopped on the way out, even when the test failed: SIGTERM to the group, SIGKILL after STOP_SECONDS (and
    then an AssertionError, unless the test already failed)."""
    with log.open("w") as output:
        process = subprocess.Popen([sys.executable, "-m", "label_app", "--port", str(port)], cwd=REPOSITORY_ROOT,
                                   env={"GRADIO_ANALYTICS_ENABLED": "False", **environment}, stdout=output,
                                   stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        wait_until_serving(process, f"http://127.0.0.1:{port}/", log)
        yield process
    finally:
        stopped = stop_process_group(process)
    assert stopped, f"the label app did not stop within {STOP_SECONDS} s of SIGTERM"


def wait_until_serving(process: subprocess.Popen, url: str, log: Path, timeout_seconds: float = 60) -> None:
    """Return once `url` answers 200; fail with the app's output when it exits or stays silent too long."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.3)
    state = f"exited with {process.returncode}" if process.poll() is not None else f"silent for {timeout_seconds} s"
    raise AssertionError(f"the label app at {url} {state}:\n{log.read_text()[-4000:]}")


def stop_process_group(process: subprocess.Popen) -> bool:
    """SIGTERM the process's group, SIGKILL it after STOP_SECONDS; whether it stopped on SIGTERM."""
    if process.poll() is not None:
        return True
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_SECONDS)
        return True
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # never leave the app running for the next test
        process.wait()
        return False


def test_the_documented_command_starts_the_app(tmp_path):
    """`python -m label_app --port P` with no users configured: the demo user, a warning, login required."""
    port = free_port()
    environment = {**os.environ, "FRAUD_DATA_DIR": str(tmp_path), "FRAUD_LABEL_APP_USERS": "",
                   "FRAUD_LABEL_APP_USERS_FILE": ""}
    environment.pop("FRAUD_DATABASE_URL", None)
    log = tmp_path / "label_app.log"
    with app_process(environment, port, log):
        url = f"http://127.0.0.1:{port}/"
        assert httpx.get(f"{url}gradio_api/info", timeout=5).status_code == 401
        queue = Client(url, auth=("analyst", "analyst"), verbose=False, analytics_enabled=False).predict(
            api_name="/queue")
        assert queue == {"today": None, "left_today": 0, "today_alerts": 0, "today_alert_budget": None, "matching": 0,
                         "alerts": []}
    assert "WARNING: no users configured" in log.read_text()
