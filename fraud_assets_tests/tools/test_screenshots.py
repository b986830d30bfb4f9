"""The label app in headless Chromium: a click on Fraud records a label by the logged-in user, and every tab renders.

Skipped when Chromium is not installed (Debian: apt-get install -y chromium).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from fraud_assets_tests.label_app.test_data import write_scenario
from label_app.app import LabelAppSettings, serve
from tools.screenshots.chromium import Chromium, find_chromium
from tools.screenshots.cli import free_port
from tools.screenshots.label_app import TABS, log_in, take_screenshots

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")


@pytest.fixture
def app(tmp_path):
    exports, labels = write_scenario(tmp_path)
    settings = LabelAppSettings(exports_dir=exports, label_store=labels,
                                decision_log=tmp_path / "decisions.sqlite", port=free_port(),
                                users="analyst:analyst-pw")
    demo, url = serve(settings, block=False, quiet=True)
    yield url, labels
    demo.close()


def test_a_click_on_fraud_labels_the_shown_alert_as_the_logged_in_user(app, tmp_path):
    url, labels = app
    browser = Chromium(CHROMIUM)
    try:
        browser.navigate(url)
        log_in(browser, "analyst", "analyst-pw")
        browser.wait_for("document.body.innerText.includes('Why the model alerted')", 60)
        assert "3 alerts left in today's queue" in browser.evaluate("document.body.innerText")
        browser.evaluate("""(() => {
            const note = document.querySelector('#queue-note textarea');
            Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set.call(note, 'seen in the UI');
            note.dispatchEvent(new Event('input', {bubbles: true}));
        })()""")
        browser.click("document.querySelector('#queue-fraud')")
        browser.wait_for("document.body.innerText.includes('Labeled d0 fraud as analyst')", 30)
        browser.wait_for("document.body.innerText.includes('2 alerts left')", 30)
    finally:
        browser.close()
    with closing(sqlite3.connect(labels)) as connection:
        newest = connection.execute(
            "SELECT transaction_id, label, reviewer, note FROM label_events ORDER BY event_id DESC LIMIT 1").fetchone()
    assert newest == ("d0", 1, "analyst", "seen in the UI")

    shots = take_screenshots(url, tmp_path / "shots", CHROMIUM, "analyst", "analyst-pw", settle_seconds=0.5)
    assert [path.name for path in shots] == [f"label_app_{key}.png" for key in TABS]
    for path in shots:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000
