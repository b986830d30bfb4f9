"""The label app: a Gradio 6 Blocks UI where analysts review alerts, and named API endpoints for other systems.

    python -m label_app [--host 127.0.0.1] [--port 7860]

It reads only the Parquet exports, the label store and the decision log (never the DuckDB warehouse), and writes
only label events, each carrying the reviewer of the login session. With FRAUD_DATABASE_URL the label events and the
decision log are in the team database, which must answer at start-up. See label_app/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

import gradio as gr

from fraud_assets.core.database import DatabaseUnreachable
from fraud_assets.core.settings import describe_store
from label_app.auth import load_users, make_authenticator, users_or_demo
from label_app.review_service import API_ENDPOINTS, ReviewService
from label_app.settings import LabelAppSettings
from label_app.tabs import PRIVATE
from label_app.tabs.cases import CasesTab
from label_app.tabs.dashboard import DashboardTab
from label_app.tabs.filters import Filters
from label_app.tabs.history import HistoryTab
from label_app.tabs.queue import QueueTab

CONCURRENT_EVENTS = 16  # events the server runs at once (Gradio's default is 1, which would serialize reviewers)
CSS = """
.fraud-button { background: #dc2626 !important; border-color: #b91c1c !important; color: white !important; }
.legit-button { background: #16a34a !important; border-color: #15803d !important; color: white !important; }
"""


def build_app(settings: LabelAppSettings) -> gr.Blocks:
    """The Blocks app with its four tabs and the named API endpoints."""
    service = ReviewService(settings)
    filters = Filters(service)
    with gr.Blocks(title="Fraud alert review", analytics_enabled=False) as demo:
        with gr.Row(equal_height=True):
            gr.Markdown("# Fraud alert review")
            signed_in_as = gr.Markdown(elem_id="signed-in")
            gr.Button("Log out", link="/logout", size="sm", scale=0, min_width=100)
        with gr.Tabs():
            tabs = [QueueTab(service, filters), DashboardTab(service), CasesTab(service, filters), HistoryTab(service)]
        demo.load(signed_in, None, signed_in_as, **PRIVATE)
        demo.load(filters.refresh, None, filters.dropdowns, **PRIVATE)
        for tab in tabs:
            tab.wire(demo)
        for name in API_ENDPOINTS:
            gr.api(getattr(service, name), api_name=name)
    demo.queue(default_concurrency_limit=CONCURRENT_EVENTS)
    return demo


def signed_in(request: gr.Request) -> str:
    """The header's 'Signed in as' line."""
    return f"Signed in as **{request.username}**" if request and request.username else ""


def serve(settings: LabelAppSettings, block: bool = True, quiet: bool = False) -> tuple[gr.Blocks, str]:
    """Build and launch the app with login; returns (app, local URL) when `block` is False."""
    users = users_or_demo(load_users(settings.users, settings.users_file), settings.host)
    demo = build_app(settings)
    _, url, _ = demo.launch(
        server_name=settings.host,
        server_port=settings.port,
        auth=make_authenticator(users),
        auth_message="Fraud alert review: log in with your reviewer account.",
        prevent_thread_lock=not block,
        quiet=quiet,
        footer_links=["api", "settings"],
        run_history=False,
        ssr_mode=False,
        theme=gr.themes.Soft(),
        css=CSS,
    )
    return demo, url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m label_app", description=__doc__.splitlines()[0])
    parser.add_argument("--host", help="address to listen on (FRAUD_LABEL_APP_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (FRAUD_LABEL_APP_PORT, default 7860)")
    arguments = parser.parse_args(argv)
    try:
        settings = LabelAppSettings.from_env()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    overrides = {key: value for key, value in (("host", arguments.host), ("port", arguments.port)) if value}
    settings = dataclasses.replace(settings, **overrides)
    if settings.database is not None:
        try:
            settings.database.check_reachable()
        except DatabaseUnreachable as error:  # its message masks the password
            print(f"error: {error}", file=sys.stderr)
            return 1
    print(f"Label app on http://{settings.host}:{settings.port} reading exports from {settings.exports_dir}, "
          f"labels in {describe_store(settings.label_store)}", flush=True)
    try:
        serve(settings, block=True)
    except ValueError as error:  # a bad users setting or file
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # most often: the port is taken
        print(f"error: cannot listen on {settings.host}:{settings.port} ({error}); pass --port or set "
              "FRAUD_LABEL_APP_PORT", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
