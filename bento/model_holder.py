"""The champion a worker serves, loaded from the BentoML model store and hot-swapped without a restart.

A background thread checks the store every `poll_seconds` (and at once when another worker was asked to reload);
a new entry is loaded and warmed up fully, then the reference is swapped, so a request in flight keeps the model
it started with and no request ever sees a half-loaded one.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bento.contract import EXAMPLE_TRANSACTION, Transaction
from bento.decisions import BOOSTER_THREADS, decide, utc_now
from fraud_assets.core.served_models import (
    MODEL_NAME,
    ChampionModel,
    load_served_model,
    newest_served_tag,
    served_entries_signature,
)

logger = logging.getLogger("bentoml.fraud_scoring")  # under "bentoml" so that BentoML's log setup shows it

NO_MODEL_MESSAGE = (
    "No champion model in the BentoML model store at {store}: run `make run` (the main job) to train and "
    "promote the first model; the service picks it up within {poll:g} s, without a restart."
)


@dataclass(frozen=True)
class ServedModel:
    """A loaded champion and where it came from."""

    champion: ChampionModel
    tag: str
    home: Path
    loaded_at: str

    @property
    def version(self) -> str:
        return self.champion.version


@dataclass(frozen=True)
class RefreshOutcome:
    changed: bool
    previous: ServedModel | None
    current: ServedModel | None


class ModelHolder:
    """The champion of one worker, kept up to date with the newest `name` entry of the model store.

    `homes` are BentoML homes searched in order: the first that holds an entry is used (the service passes the
    configured store, then the store packed in the Bento when it runs from one).
    """

    def __init__(self, homes: Sequence[Path], name: str = MODEL_NAME, poll_seconds: float = 5.0,
                 reload_marker: Path | None = None, booster_threads: int = BOOSTER_THREADS) -> None:
        self.homes = [Path(home) for home in homes]
        self.name = name
        self.poll_seconds = poll_seconds
        self.reload_marker = reload_marker
        self.booster_threads = booster_threads
        self._current: ServedModel | None = None
        self._newest: tuple[tuple, tuple[Path, str] | None] | None = None  # (store signature, what newest() found)
        self._load_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def current(self) -> ServedModel | None:
        """The model to use; read it once per request (a swap replaces the reference, never mutates it)."""
        return self._current

    def no_model_message(self) -> str:
        return NO_MODEL_MESSAGE.format(store=self.homes[0] / "models", poll=self.poll_seconds)

    def newest(self) -> tuple[Path, str] | None:
        """The home and tag of the newest complete entry. The store is read again only when its signature (entry
        folders and file times, a few stat calls) changed: parsing every entry's model.yaml holds the GIL for about
        3 ms per entry, which would stall requests at each poll once months of promotions have piled up."""
        signature = tuple(served_entries_signature(home, self.name) for home in self.homes)
        if self._newest is not None and self._newest[0] == signature:
            return self._newest[1]
        found = None
        for home in self.homes:
            tag = newest_served_tag(home, self.name)
            if tag is not None:
                found = home, tag
                break
        self._newest = signature, found
        return found

    def refresh(self) -> RefreshOutcome:
        """Load the newest entry if it is not the one served; swap only once it is fully loaded and warmed up."""
        with self._load_lock:
            previous = self._current
            found = self.newest()
            if found is None or (previous is not None and (previous.home, previous.tag) == found):
                return RefreshOutcome(changed=False, previous=previous, current=previous)
            home, tag = found
            champion = load_served_model(home, self.name, tag)  # that entry, not whatever is newest by now
            if self.booster_threads:
                champion.booster.set_param({"nthread": self.booster_threads})
            decide(champion, [Transaction.model_validate(EXAMPLE_TRANSACTION)], request_id="warm-up")
            loaded = ServedModel(champion=champion, tag=tag, home=home, loaded_at=utc_now())
            self._current = loaded
        logger.info("Serving %s version %s (%s from %s)%s", self.name, loaded.version, tag, home,
                    f"; was version {previous.version} ({previous.tag})" if previous else "")
        return RefreshOutcome(changed=True, previous=previous, current=loaded)

    def refresh_quietly(self) -> bool:
        """`refresh`, logging instead of raising: a half-written or broken entry must not stop the service.

        Returns False when the store could not be read or the newest entry not loaded.
        """
        try:
            self.refresh()
            return True
        except Exception:
            served = self._current
            logger.exception("Could not load the newest %s from %s; still serving %s; retrying in %g s",
                             self.name, [str(home) for home in self.homes],
                             f"version {served.version}" if served else "no model", self._retry_seconds)
            return False

    def request_reload_everywhere(self) -> None:
        """Tell every worker sharing the data folder to check the store now (they watch the marker's mtime)."""
        if self.reload_marker is None:
            return
        try:
            self.reload_marker.parent.mkdir(parents=True, exist_ok=True)
            self.reload_marker.write_text(f"{utc_now()} {uuid.uuid4().hex}\n")
        except OSError:
            logger.exception("Could not write the reload marker %s; other workers reload at their next poll",
                             self.reload_marker)

    def _marker_mtime(self) -> int | None:
        if self.reload_marker is None:
            return None
        try:
            return self.reload_marker.stat().st_mtime_ns
        except OSError:
            return None

    def start(self) -> None:
        """Start the background poller (idempotent)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, name="fraud-model-poller", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def _retry_seconds(self) -> float:
        """After a failed check, the next comes sooner: an entry being written is usually complete within a second."""
        return min(1.0, self.poll_seconds)

    def _poll(self) -> None:
        tick = min(0.5, self.poll_seconds)
        marker_seen = self._marker_mtime()
        next_check = time.monotonic() + self.poll_seconds
        while not self._stop.wait(tick):
            marker = self._marker_mtime()
            if marker != marker_seen or time.monotonic() >= next_check:
                marker_seen = marker
                succeeded = self.refresh_quietly()
                next_check = time.monotonic() + (self.poll_seconds if succeeded else self._retry_seconds)
