"""Screenshots of every tab of the label app, taken with headless Chromium on a demo data folder.

    python -m tools.screenshots.label_app [--out docs/screenshots] [--data-dir <folder>]
                                          [--chromium /usr/bin/chromium]

1. Builds a demo data folder with the project's own pipeline functions: simulated days, two models trained in
   turn (the second takes over on day 10), every day scored, the review and summary exports written the way
   Dagster writes them, and a few analysts' labels (one relabeled).
2. Launches the app on a free port on 127.0.0.1 (user analyst/analyst).
3. Drives headless Chromium over the DevTools pipe (`tools.screenshots.chromium`): logs in through the login form,
   opens each tab and writes docs/screenshots/label_app_<tab>.png.

Needs Chromium (Debian: `apt-get install -y chromium`).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from fraud_assets.core.label_store import append_label_event
from fraud_assets.core.review_export import daily_summary, day_file, read_exports, review_rows, write_parquet_atomically
from tools.screenshots.chromium import Chromium
from tools.screenshots.cli import free_port, parse_arguments

TABS = {"queue": "Review queue", "dashboard": "Dashboard", "lists": "Cases", "history": "Label history"}
DEMO_USER = ("analyst", "analyst")
DEMO_DAYS = 14
SWITCH_DAY = 10  # the second model serves from this day on
LABEL_DELAY_DAYS = 3
ALERTS_PER_1000 = 4.0  # about 40 alerts a day at the demo's 10,000 transactions


# ---------------------------------------------------------------------------------------------------------------
# Demo data
# ---------------------------------------------------------------------------------------------------------------
def build_demo_data(data_dir: Path, scale: float = 0.05, seed: int = 7) -> Path:
    """Fill `data_dir` with exports and labels like the pipeline leaves them; returns the exports folder."""
    from fraud_assets.core.settings import simulation_epoch
    from fraud_assets.core.transactions import prepare_raw_transactions, validate_transactions
    from fraud_assets.ml.batch_scoring import score_transactions
    from fraud_assets.ml.label_maturity import known_labels, training_window
    from fraud_assets.ml.lifecycle import ThresholdPolicy, fit_challenger
    from fraud_assets.ml.thresholds import daily_alert_budget
    from fraud_assets.ml.training import XGBoostParams
    from fraud_assets.simulation import SimulationSettings, simulate_days

    simulation = SimulationSettings(seed=seed, scale=scale, num_days=DEMO_DAYS, scenario="fraud_pattern_shift",
                                    drift_start_day=8, drift_strength=0.6)
    cleaned, _ = validate_transactions(prepare_raw_transactions(simulate_days(0, DEMO_DAYS - 1, simulation),
                                                                simulation_epoch()))
    no_analyst = pd.DataFrame({"transaction_id": pd.Series(dtype=object), "label": pd.Series(dtype="int8")})
    params = XGBoostParams(n_estimators=150, nthread=2)
    policy = ThresholdPolicy("alert_budget", alerts_per_1000=ALERTS_PER_1000, review_cost_per_alert=0.0)
    exports_dir = data_dir / "exports"
    scored_at = datetime(2025, 1, 1, tzinfo=timezone.utc)
    served = [("demo-v1", 6, 0, SWITCH_DAY - 1), ("demo-v2", SWITCH_DAY, SWITCH_DAY, DEMO_DAYS - 1)]
    for version, as_of_day, first_day, last_day in served:
        window = training_window(as_of_day, training_days=as_of_day - 3, validation_days=2, label_delay_days=1)
        known = known_labels(cleaned, as_of_day, 1, no_analyst)
        challenger = fit_challenger(cleaned, known, window, params, policy, seed)
        threshold = challenger.threshold.threshold
        for day in range(first_day, last_day + 1):
            rows = cleaned[cleaned["day"] == day]
            predictions = score_transactions(rows, challenger.trained.booster, threshold, version, scored_at)
            write_parquet_atomically(review_rows(predictions, rows, LABEL_DELAY_DAYS),
                                     day_file(exports_dir, "review", day))
            summary = daily_summary(predictions, lambda rows: daily_alert_budget(rows, ALERTS_PER_1000))
            write_parquet_atomically(summary, day_file(exports_dir, "summary", day))
    _demo_labels(exports_dir, data_dir / "labels.sqlite", seed)
    return exports_dir


def _demo_labels(exports_dir: Path, label_store: Path, seed: int) -> None:
    """Analysts label most alerts of the not-yet-matured days (mostly right), and relabel one."""
    review = read_exports(exports_dir, "review")
    today = int(review["day"].max())
    recent = review[review["is_alert"] & (review["day"] > today - LABEL_DELAY_DAYS)]
    rng = np.random.default_rng(seed)
    reviewers = ["alice", "bob", "chandra"]
    labeled = recent[recent["day"] < today].sample(frac=0.85, random_state=seed)
    labeled = pd.concat([labeled, recent[recent["day"] == today].nlargest(2, "score")])
    notes = {1: ["drained account, mule pattern", "cash-out right after transfer", ""],
             0: ["customer confirmed by phone", "regular payee", ""]}
    given = {}
    for row in labeled.itertuples(index=False):
        truth = int(row.isFraud)
        given[row.transaction_id] = truth if rng.random() > 0.05 else 1 - truth
        append_label_event(label_store, row.transaction_id, given[row.transaction_id], str(rng.choice(reviewers)),
                           str(rng.choice(notes[given[row.transaction_id]])))
    changed = labeled.iloc[0]["transaction_id"]  # a second look changes one label: a new event, nothing overwritten
    append_label_event(label_store, changed, 1 - given[changed], "dana", "second look after the customer called")


# ---------------------------------------------------------------------------------------------------------------
# The app's pages
# ---------------------------------------------------------------------------------------------------------------
def log_in(browser: Chromium, user: str, password: str) -> None:
    """Fill Gradio's login form like a person would (the inputs are Svelte-bound, so fire input events)."""
    browser.wait_for("document.querySelectorAll('input').length >= 2")
    browser.evaluate(f"""(() => {{
        const inputs = [...document.querySelectorAll('input')];
        const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
        const fill = (input, value) => {{
            set.call(input, value);
            input.dispatchEvent(new Event('input', {{bubbles: true}}));
        }};
        fill(inputs.find(i => i.type !== 'password'), {json.dumps(user)});
        fill(inputs.find(i => i.type === 'password'), {json.dumps(password)});
        [...document.querySelectorAll('button')].find(b => /login/i.test(b.textContent)).click();
    }})()""")


def open_tab(browser: Chromium, title: str) -> None:
    """Click the tab titled `title`."""
    browser.evaluate(f"""[...document.querySelectorAll('button[role="tab"]')]
        .find(b => b.textContent.trim() === {json.dumps(title)}).click()""")


def take_screenshots(url: str, out_dir: Path, chromium: str, user: str, password: str,
                     settle_seconds: float = 2.0) -> list[Path]:
    """Log in at `url` and write one PNG per tab into `out_dir`, waiting `settle_seconds` for charts to draw."""
    out_dir.mkdir(parents=True, exist_ok=True)
    browser = Chromium(chromium)
    written = []
    try:
        browser.navigate(url)
        log_in(browser, user, password)
        browser.wait_for("document.querySelector('#tab-queue') && document.body.innerText.includes('alerts left')", 60)
        browser.wait_for("document.body.innerText.includes('Why the model alerted')", 30)
        for key, title in TABS.items():
            open_tab(browser, title)
            if key == "dashboard":
                browser.wait_for("document.querySelectorAll('#tab-dashboard canvas, #tab-dashboard svg').length >= 3"
                                 " && document.querySelector('#tab-dashboard img')", 60)
            if key == "lists":  # open the first case of the list, as an analyst about to relabel it
                browser.wait_for("document.querySelector('#tab-lists [role=gridcell]')", 30)
                browser.click("document.querySelector('#tab-lists [role=gridcell]')")
                browser.wait_for("document.querySelector('#tab-lists').innerText.includes('Score ')", 30)
                browser.evaluate("window.scrollTo(0, 0)")
            time.sleep(settle_seconds)  # let charts and tables finish drawing
            path = out_dir / f"label_app_{key}.png"
            browser.screenshot(path)
            written.append(path)
    finally:
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv, "python -m tools.screenshots.label_app", __doc__.splitlines()[0],
                                "demo data folder, built when it holds no exports yet, and kept "
                                "(default: a temporary one)")
    from label_app.app import LabelAppSettings, serve

    with tempfile.TemporaryDirectory(prefix="label-app-demo-") as scratch:
        data_dir = arguments.data_dir or Path(scratch)
        if not (data_dir / "exports").exists():
            started = time.perf_counter()
            build_demo_data(data_dir)
            print(f"demo data in {data_dir} ({time.perf_counter() - started:.1f} s)", flush=True)
        settings = LabelAppSettings(exports_dir=data_dir / "exports", label_store=data_dir / "labels.sqlite",
                                    decision_log=data_dir / "decisions.sqlite", port=free_port(),
                                    users=":".join(DEMO_USER))
        demo, url = serve(settings, block=False, quiet=True)
        try:
            for path in take_screenshots(url, arguments.out, arguments.chromium, *DEMO_USER):
                print(path)
        finally:
            demo.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
