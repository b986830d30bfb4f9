"""Screenshots of the Dagster UI on a populated data folder: the asset graph and a drift check failing on later days.

    python -m tools.screenshots.dagster_ui [--out docs/screenshots] [--data-dir <folder>]
                                           [--chromium /usr/bin/chromium]

1. Builds the data folder by running the main job (`python -m fraud_assets.cli.run_pipeline`, three to four minutes
   on two cores) at scale 0.02 with the `amount_inflation` drift scenario from day 20, so that
   `drift_report_feature_drift_check` fails on the later days. Skipped when the folder already holds a warehouse.
2. Starts the real `dagster-webserver` as `make up` does (`fraud_assets.cli.up`), on a free port on 127.0.0.1, on that
   folder's DAGSTER_HOME and with the same environment, and waits until its code location is loaded; it is stopped
   at the end, errors included.
3. Drives headless Chromium over the DevTools pipe (`tools.screenshots.chromium`) at 1600x1000:
   the global asset lineage (`/asset-groups`, every group expanded, zoomed to fit), then the Execution history tab
   (one evaluation per day) and the Partitions tab (each day's status) of the feature-drift check
   (`/assets/drift_report?view=checks&checkDetail=drift_report_feature_drift_check`); it waits for the content and
   for the spinners to go rather than for fixed times.
4. Writes docs/screenshots/dagster_asset_graph.png, dagster_asset_check.png and dagster_asset_check_partitions.png
   and prints their paths.

Needs Chromium (Debian: `apt-get install -y chromium`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from fraud_assets.cli.up import UpSettings, build_services, service_environment, start, stop_all, wait_until_ready
from fraud_assets.core.settings import Settings
from fraud_assets.defs.names import FEATURE_DRIFT_CHECK
from tools.screenshots.chromium import Chromium
from tools.screenshots.cli import REPOSITORY_ROOT, free_port, parse_arguments

WINDOW = (1600, 1000)
ASSETS = ("raw_transactions", "cleaned_transactions", "rejected_transactions", "drift_report", "fraud_model",
          "scored_predictions", "model_performance", "review_export", "reviewed_labels")
FAILED_DAY_SHOWN = "2025-01-25"  # a day after the drift starts, opened on the check's Partitions tab
PIPELINE_ENV = {  # a small simulation whose amounts inflate from day 20 on: the feature-drift check fails on those days
    "FRAUD_SIMULATION_SCALE": "0.02",
    "FRAUD_DRIFT_SCENARIO": "amount_inflation",
    "FRAUD_DRIFT_START_DAY": "20",
}
UI_PREFERENCES = {  # local storage of the UI: no newsletter pop-up, the navigation folded, a compact vertical graph
    "communityNux": True,
    "dagster-nav-collapsed": True,
    "asset-graph-direction": "vertical",
    "asset-node-facets": ["unsynced-tag", "checks", "status", "kind-tag"],
}
GRAPH_VIEWPORT_JS = "document.querySelector('[data-svg-viewport]')"
# True while the page shows a loading spinner or a skeleton placeholder.
LOADING_JS = ("Boolean(document.querySelector('[class*=\"Spinner\"], [class*=\"spinner\"], "
              "[class*=\"Skeleton\"], [class*=\"skeleton\"], [role=progressbar]'))")


# ---------------------------------------------------------------------------------------------------------------
# The data folder
# ---------------------------------------------------------------------------------------------------------------
def pipeline_env(data_dir: Path) -> dict[str, str]:
    """The environment of the main job and of the webserver: the settings of this demo on `data_dir`."""
    return {**os.environ, **PIPELINE_ENV, "FRAUD_DATA_DIR": str(data_dir.resolve()),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY_ROOT), os.environ.get("PYTHONPATH", "")]))}


def build_data(data_dir: Path, env: dict[str, str]) -> None:
    """Run the main job on `data_dir`; its (long) log goes to `data_dir/main_job.log`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "main_job.log"
    with log_path.open("w") as log:
        completed = subprocess.run([sys.executable, "-m", "fraud_assets.cli.run_pipeline"], cwd=REPOSITORY_ROOT,
                                   env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"the main job failed (exit {completed.returncode}); see {log_path}")


# ---------------------------------------------------------------------------------------------------------------
# The pages
# ---------------------------------------------------------------------------------------------------------------
def set_viewport(browser: Chromium) -> None:
    """Pin the page to the full window size (headless Chromium takes room off --window-size for its frame)."""
    browser.call("Emulation.setDeviceMetricsOverride", session=True, width=browser.width, height=browser.height,
                 deviceScaleFactor=1, mobile=False)


def set_ui_preferences(browser: Chromium) -> None:
    """The UI's own local-storage preferences, set before any page script runs."""
    source = "".join(f"localStorage.setItem({json.dumps(key)}, {json.dumps(json.dumps(value))});"
                     for key, value in UI_PREFERENCES.items())
    browser.call("Page.addScriptToEvaluateOnNewDocument", session=True, source=source)


def page_text_has(*texts: str, element: str = "document.body") -> str:
    """A JS condition: the visible text of `element` contains every one of `texts`."""
    return " && ".join(f"({element})?.innerText.includes({json.dumps(text)})" for text in texts)


def wait_rendered(browser: Chromium, condition: str, timeout: float = 90.0) -> None:
    """Wait for `condition`, then for every spinner or placeholder to be gone."""
    browser.wait_for(condition, timeout)
    browser.wait_for(f"!{LOADING_JS}", timeout)


def press_shortcut(browser: Chromium, letter: str) -> None:
    """Alt+`letter`, a keyboard shortcut of the UI."""
    for kind in ("keyDown", "keyUp"):
        browser.call("Input.dispatchKeyEvent", session=True, type=kind, modifiers=1, key=letter,
                     code=f"Key{letter.upper()}", windowsVirtualKeyCode=ord(letter.upper()))


def button_with_icon(icon: str) -> str:
    """A JS expression for the text-less button showing the icon named `icon`."""
    return (f"[...document.querySelectorAll('button')].find(b => !b.innerText.trim() "
            f"&& b.querySelector('[aria-label={icon}]'))")


def graph_view(browser: Chromium) -> dict[str, float]:
    """The lineage viewport's box on the page, the graph's size and the current zoom transform (scale, x, y)."""
    return browser.evaluate(f"""(() => {{
        const viewport = {GRAPH_VIEWPORT_JS}, svg = viewport.querySelector('svg');
        const box = viewport.getBoundingClientRect();
        const zoom = new DOMMatrix(getComputedStyle(svg.parentElement).transform);
        return {{left: box.left, top: box.top, width: box.width, height: box.height, scale: zoom.a, x: zoom.e,
                 y: zoom.f, graphWidth: svg.width.baseVal.value, graphHeight: svg.height.baseVal.value}};
    }})()""")


def fit_graph(browser: Chromium, margin: float = 0.96) -> None:
    """Zoom and pan the lineage graph so that all of it shows, centered.

    The graph's own zoom-to-fit (a double-click) fits its width only. This sends the wheel events of a person
    zooming out (ctrl + wheel: the scale times 1 - 0.002 * deltaY) and then scrolling (a shift of -0.7 * delta).
    """
    view = graph_view(browser)
    scale = margin * min(view["width"] / view["graphWidth"], view["height"] / view["graphHeight"])
    center = (view["left"] + view["width"] / 2, view["top"] + view["height"] / 2)
    zoom_delta = (1 - scale / view["scale"]) / 0.002
    if abs(zoom_delta) > 30:  # below 30 the UI zooms at another speed; the graph fits closely enough already
        dispatch_wheel(browser, center, 0.0, zoom_delta, ctrl=True)
        time.sleep(0.1)  # the viewport throttles wheel events to one a frame
        view = graph_view(browser)
    target_x = (view["width"] - view["graphWidth"] * view["scale"]) / 2
    target_y = (view["height"] - view["graphHeight"] * view["scale"]) / 2
    dispatch_wheel(browser, center, (view["x"] - target_x) / 0.7, (view["y"] - target_y) / 0.7)
    time.sleep(0.1)


def dispatch_wheel(browser: Chromium, point: tuple[float, float], delta_x: float, delta_y: float,
                   ctrl: bool = False) -> None:
    """A wheel event at `point` on the lineage viewport (a zoom when `ctrl`)."""
    browser.evaluate(f"""{GRAPH_VIEWPORT_JS}.dispatchEvent(new WheelEvent('wheel', {{
        bubbles: true, cancelable: true, clientX: {point[0]}, clientY: {point[1]}, deltaX: {delta_x},
        deltaY: {delta_y}, deltaMode: 0, ctrlKey: {json.dumps(ctrl)}}}))""")


def shoot_asset_graph(browser: Chromium, url: str, path: Path, settle_seconds: float) -> None:
    """The global asset lineage: every asset of the code location in its group, with kinds and check status."""
    set_viewport(browser)
    browser.navigate(f"{url}/asset-groups")
    wait_rendered(browser, page_text_has("ingest", "monitoring"))  # the groups, collapsed
    press_shortcut(browser, "e")  # expand all groups
    wait_rendered(browser, page_text_has(*ASSETS, element=GRAPH_VIEWPORT_JS))
    browser.click(button_with_icon("panel_show_right"))  # hide the sidebar listing the groups
    browser.wait_for(f"{GRAPH_VIEWPORT_JS}.getBoundingClientRect().left < 100")
    time.sleep(0.5)  # the viewport follows the resize
    fit_graph(browser)
    wait_rendered(browser, page_text_has(*ASSETS, element=GRAPH_VIEWPORT_JS))  # nodes off screen are not drawn
    time.sleep(settle_seconds)
    browser.screenshot(path)


def open_check_tab(browser: Chromium, url: str, tab: str) -> None:
    """The feature-drift check of drift_report, on its tab `tab`."""
    set_viewport(browser)
    query = urlencode({"view": "checks", "checkDetail": FEATURE_DRIFT_CHECK.name})
    browser.navigate(f"{url}/assets/{FEATURE_DRIFT_CHECK.asset_key.to_user_string()}?{query}")
    wait_rendered(browser, page_text_has(FEATURE_DRIFT_CHECK.name, tab))
    browser.click(f"[...document.querySelectorAll('button')].find(b => b.innerText.trim() === {json.dumps(tab)})")


def shoot_asset_check(browser: Chromium, url: str, path: Path, settle_seconds: float) -> None:
    """The feature-drift check of drift_report: its evaluation for each simulation day, the drifted days failed."""
    open_check_tab(browser, url, "Execution history")
    wait_rendered(browser, "document.querySelectorAll('table tbody tr').length >= 10 && "
                           + page_text_has("Failed", "Passed", element="document.querySelector('table')"))
    time.sleep(settle_seconds)
    browser.screenshot(path)


def shoot_check_partitions(browser: Chromium, url: str, path: Path, settle_seconds: float) -> None:
    """The same check's Partitions tab: each simulation day's status, the drifted days failed, one of them open."""
    open_check_tab(browser, url, "Partitions")
    wait_rendered(browser, page_text_has("Passed (", "Failed (", FAILED_DAY_SHOWN))
    browser.click(f"[...document.querySelectorAll('div, span, a')].reverse()"
                  f".find(e => e.innerText && e.innerText.trim() === {json.dumps(FAILED_DAY_SHOWN)})")
    wait_rendered(browser, page_text_has("share_drifted"))
    browser.evaluate("document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; })")  # the click
    time.sleep(settle_seconds)  # scrolled the check's title out of view
    browser.screenshot(path)


def take_screenshots(url: str, out_dir: Path, chromium: str, settle_seconds: float = 2.0) -> list[Path]:
    """Write one PNG per page into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    shots = [(shoot_asset_graph, out_dir / "dagster_asset_graph.png"),
             (shoot_asset_check, out_dir / "dagster_asset_check.png"),
             (shoot_check_partitions, out_dir / "dagster_asset_check_partitions.png")]
    browser = Chromium(chromium, *WINDOW)
    try:
        set_ui_preferences(browser)
        for shoot, path in shots:
            shoot(browser, url, path, settle_seconds)
    finally:
        browser.close()
    return [path for _, path in shots]


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv, "python -m tools.screenshots.dagster_ui", __doc__.splitlines()[0],
                                "data folder, built by the main job when it holds no warehouse yet, and kept "
                                "(default: a temporary one)")
    with tempfile.TemporaryDirectory(prefix="fraud-ui-demo-") as scratch:
        data_dir = (arguments.data_dir or Path(scratch)).resolve()
        env = pipeline_env(data_dir)
        settings = Settings(data_dir=data_dir)
        if not settings.warehouse_path.exists():
            started = time.perf_counter()
            print(f"running the main job on {data_dir} (log in {data_dir / 'main_job.log'})", flush=True)
            build_data(data_dir, env)
            print(f"data in {data_dir} ({time.perf_counter() - started:.1f} s)", flush=True)
        # The webserver as `make up` starts it (its own process group, ready once the code location is loaded).
        webserver = [service for service in build_services(settings, UpSettings(dagster_port=free_port()))
                     if service.name == "dagster-ui"]
        logs_dir = data_dir / "logs"
        logs_dir.mkdir(exist_ok=True)
        try:
            start(webserver[0], {**service_environment(settings), **PIPELINE_ENV}, logs_dir)
            wait_until_ready(webserver, timeout=300)
            for path in take_screenshots(webserver[0].url, arguments.out, arguments.chromium):
                print(path)
        finally:
            stop_all(webserver)
    return 0


if __name__ == "__main__":
    sys.exit(main())
