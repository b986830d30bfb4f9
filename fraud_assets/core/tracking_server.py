"""Whether an MLflow tracking URI names a server, and whether that server answers: one HTTP probe with a short
timeout, where MLflow's own client would retry a dead server for minutes."""

from __future__ import annotations

import requests

HEALTH_PATH = "/health"


def is_tracking_server(tracking_uri: str) -> bool:
    """Whether a tracking URI names a server (http or https) rather than a local store."""
    return tracking_uri.startswith(("http://", "https://"))


def answers(tracking_uri: str, timeout: float = 5.0) -> str | None:
    """None when the server at `tracking_uri` answers GET /health with OK; otherwise why not."""
    try:
        response = requests.get(tracking_uri.rstrip("/") + HEALTH_PATH, timeout=timeout)
    except requests.RequestException as error:
        return f"{type(error).__name__}: {error}"
    if response.status_code != 200 or response.text.strip() != "OK":
        return f"GET {HEALTH_PATH} answered {response.status_code} {response.text.strip()[:200]!r}"
    return None
