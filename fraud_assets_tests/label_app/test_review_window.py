"""The label app reads the review window, not the deployment's age: with 200 exported days and labels on old days'
cases, a snapshot reads the window's export files and the label events of its cases only; online alerts older than
the window are not read; the history is paged in SQL."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone

import gradio as gr
import pytest

from fraud_assets.core.decision_log import append_decisions, read_online_alerts_of
from fraud_assets.core.label_store import append_label_event
from fraud_assets_tests.label_app.test_data import REASONS, case, write_day
from label_app import snapshot as snapshot_reads
from label_app.review_service import ReviewService
from label_app.settings import LabelAppSettings
from label_app.snapshot import filter_choices, is_case, load_snapshot
from label_app.tabs.history import HistoryTab

DAYS = 200
WINDOW = 30


@pytest.fixture(scope="module")
def long_deployment(tmp_path_factory):
    """200 exported days of two cases each (an alert and a missed fraud), one label on every day's alert, and a
    second one on the last day's."""
    folder = tmp_path_factory.mktemp("long_deployment")
    exports, labels = folder / "exports", folder / "labels.sqlite"
    for day in range(DAYS):
        write_day(exports, day, [case(f"a{day:03d}", day, 0.9, True, 0), case(f"m{day:03d}", day, 0.1, False, 1)],
                  1000, "v1", 0.5)
        append_label_event(labels, f"a{day:03d}", 1, f"r{day % 4}", f"day {day}")
    append_label_event(labels, f"a{DAYS - 1:03d}", 0, "alice", "relabeled")
    return exports, labels


def test_a_snapshot_reads_only_the_window(long_deployment, parquet_reads, tmp_path):
    exports, labels = long_deployment
    snapshot = load_snapshot(exports, labels, tmp_path / "decisions.sqlite", review_window_days=WINDOW)
    window = set(range(DAYS - WINDOW, DAYS))
    assert snapshot.today == DAYS - 1
    assert sorted(parquet_reads) == sorted([f"day={day:03d}.parquet" for day in window] * 2)  # review and summary
    assert set(snapshot.cases["day"]) == window and set(snapshot.summary["day"]) == window
    assert len(snapshot.cases) == 2 * WINDOW
    assert len(snapshot.events) == WINDOW + 1  # the window's alerts' labels and the relabel, none of older days
    assert set(snapshot.events["transaction_id"]) == {f"a{day:03d}" for day in window}
    assert filter_choices(snapshot)["days"] == sorted(window, reverse=True)
    load_snapshot(exports, labels, review_window_days=WINDOW)
    assert len(parquet_reads) == 2 * WINDOW  # the second request reads no file: every one is unchanged


def test_today_is_the_numerically_newest_day(tmp_path):
    exports, labels = tmp_path / "exports", tmp_path / "labels.sqlite"
    for day in (998, 999, 1000):
        write_day(exports, day, [case(f"a{day}", day, 0.9, True, 0)], 1000, "v1", 0.5)
    snapshot = load_snapshot(exports, labels, review_window_days=2)
    assert snapshot.today == 1000 and sorted(snapshot.cases["day"]) == [999, 1000]


def test_online_alerts_older_than_the_window_are_not_read(tmp_path):
    exports, labels, log = tmp_path / "exports", tmp_path / "labels.sqlite", tmp_path / "decisions.sqlite"
    write_day(exports, 3, [case("d0", 3, 0.9, True, 0)], 1000, "v1", 0.5)
    now = datetime.now(timezone.utc)

    def alert(request_id, transaction_id, days_ago):
        decided_at = (now - timedelta(days=days_ago)).isoformat(timespec="milliseconds")
        return (request_id, 0, transaction_id, decided_at, "v1", 0.95, 1, 0.5, json.dumps({"type": "TRANSFER"}),
                json.dumps(REASONS[:1]))

    append_decisions(log, [alert("r1", "old", WINDOW + 1), alert("r2", "new", 1)])
    append_label_event(labels, "old", 1, "alice")
    snapshot = load_snapshot(exports, labels, log, review_window_days=WINDOW)
    assert sorted(snapshot.cases["transaction_id"]) == ["d0", "new"] and snapshot.events.empty
    assert is_case(exports, log, "new", WINDOW) and not is_case(exports, log, "old", WINDOW)
    assert is_case(exports, log, "old", WINDOW + 2)  # a longer window reaches it


@pytest.fixture
def window_service(long_deployment, tmp_path) -> ReviewService:
    exports, labels = long_deployment
    return ReviewService(LabelAppSettings(exports_dir=exports, label_store=labels,
                                          decision_log=tmp_path / "decisions.sqlite", review_window_days=WINDOW))


def test_the_service_pages_the_history_and_labels_only_the_window(window_service):
    first = window_service.history(limit=5)
    assert [event["transaction_id"] for event in first] == ["a199", "a199", "a198", "a197", "a196"]
    assert first[0]["reviewer"] == "alice" and first[0]["day"] == DAYS - 1  # a window case: with its day
    second = window_service.history(limit=5, page=2)
    assert [event["event_id"] for event in second] == list(range(first[-1]["event_id"] - 1, first[-1]["event_id"] - 6,
                                                                  -1))
    oldest = window_service.history(transaction_id="a000")
    assert [event["note"] for event in oldest] == ["day 0"] and oldest[0]["day"] is None  # older than the window
    by_r1 = window_service.history(reviewer="r1", limit=3, page=2)
    assert [event["transaction_id"] for event in by_r1] == ["a185", "a181", "a177"]
    assert window_service.history(limit=100, page=99) == []
    with pytest.raises(gr.Error, match="a history page is numbered from 1"):
        window_service.history(page=-1)
    with pytest.raises(gr.Error, match="no exported or online alert of the last 30 days has transaction_id 'a000'"):
        window_service.submit_label("a000", "fraud", "", gr.Request(username="bob"))
    assert window_service.case("a199")["history"][0]["note"] == "relabeled"


def test_a_history_page_looks_up_the_online_alerts_of_its_own_transactions_only(long_deployment, tmp_path,
                                                                                 monkeypatch):
    exports, labels = long_deployment[0], tmp_path / "labels.sqlite"
    shutil.copyfile(long_deployment[1], labels)  # the module's store stays as the other tests expect it
    log = tmp_path / "decisions.sqlite"
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    alerts = [(f"o{index}", 0, f"online-{index}", now, "v2", 0.97, 1, 0.5,
               json.dumps({"type": "CASH_OUT", "amount": 10.0 + index}), "[]") for index in range(300)]
    append_decisions(log, alerts)
    append_label_event(labels, "online-7", 1, "carol")  # the newest event: an online case's
    service = ReviewService(LabelAppSettings(exports_dir=exports, label_store=labels, decision_log=log,
                                             review_window_days=WINDOW))
    read = []

    def counted_read(location, ids, since):
        read.append(sorted(ids))
        return read_online_alerts_of(location, ids, since)

    def whole_window_read(*args, **kwargs):
        pytest.fail("a history page read the whole window's online alerts")

    monkeypatch.setattr(snapshot_reads, "read_online_alerts_of", counted_read)
    monkeypatch.setattr(snapshot_reads, "read_online_alerts", whole_window_read)
    page = service.history(limit=3)
    assert [event["transaction_id"] for event in page] == ["online-7", "a199", "a199"]
    assert page[0]["type"] == "CASH_OUT" and page[0]["amount"] == 17.0 and page[1]["day"] == DAYS - 1
    assert read == [["a199", "online-7"]]  # the page's transactions, not the 300 online alerts


def test_the_history_tab_pages_older_and_newer(window_service):
    with gr.Blocks(), gr.Tabs():
        tab = HistoryTab(window_service)
    page, table = tab.first_page("", "", 100, 7)
    assert page == 1 and table["transaction_id"].tolist()[:2] == ["a199", "a199"] and len(table) == 100
    page, table = tab.older_page("", "", 100, page)
    assert page == 2 and len(table) == 100
    page, table = tab.older_page("", "", 100, page)
    assert page == 3 and table["event_id"].tolist() == [1]  # 201 events: the oldest alone on page 3
    page, table = tab.older_page("", "", 100, page)  # nothing older: the page stays
    assert page == 3 and table["event_id"].tolist() == [1]
    page, table = tab.newer_page("", "", 100, page)
    assert page == 2 and table["event_id"].iloc[0] == 101
    assert tab.newer_page("", "", 100, 1)[0] == 1
    assert tab.show("a005", "", 100, 1)["note"].tolist() == ["day 5"]
