"""The champion a worker serves, loaded from its source and hot-swapped without a restart.

The source is the local BentoML model store (the embedded deployment), or the team database's champion table
(FRAUD_DATABASE_URL: `fraud_assets.core.served_models.publish_champion`), which every replica polls. A background
thread checks the source every `poll_seconds` (and at once when another worker was asked to reload); a new champion
is loaded and warmed up fully, then the reference is swapped, so a request in flight keeps the model it started with
and no request ever sees a half-loaded one. A failed check (a broken entry, the database down) keeps the current
model and is retried sooner.
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
from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.retention import DEFAULT_SERVED_MODELS_KEPT, prune_served_entries
from fraud_assets.core.served_models import (
    MODEL_NAME,
    ChampionModel,
    cached_promotion_tag,
    load_published_champion,
    load_served_model,
    newest_champion_promotion,
    newest_served_tag,
    save_served_model,
    served_entries_signature,
)

logger = logging.getLogger("bentoml.fraud_scoring")  # under "bentoml" so that BentoML's log setup shows it

NO_MODEL_MESSAGE = (
    "No champion model in {source}: run `make run` (the main job) to train and promote the first model; the service "
    "picks it up within {poll:g} s, without a restart."
)


class LocalStoreSource:
    """The champion of the embedded deployment: the newest complete `name` entry of the first of `homes` (BentoML
    homes) that holds one."""

    def __init__(self, homes: Sequence[Path], name: str) -> None:
        self.homes = [Path(home) for home in homes]
        self.name = name
        self._newest: tuple[tuple, tuple[Path, str] | None] | None = None  # (store signature, what newest() found)

    def describe(self) -> str:
        return f"the BentoML model store at {self.homes[0] / 'models'}"

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


class DatabaseSource:
    """The champion of the team deployment: the newest promotion of the team database's champion table.

    A new promotion is cached as an entry of this host's own BentoML store (`cache.homes[0]`, under its
    FRAUD_DATA_DIR) and loaded from there by the same code as the embedded deployment's: so `bentoml build` on this
    host packs the champion it serves, and a worker that starts while the database is down serves the champion it
    cached last (`fallback`) instead of none. The poll itself reads one row's id and version. After each new
    promotion is cached, the cache keeps its newest `cache_kept` entries (the host's store would otherwise hold one
    entry per promotion for ever).
    """

    def __init__(self, database: DatabaseUrl, cache: LocalStoreSource,
                 cache_kept: int = DEFAULT_SERVED_MODELS_KEPT) -> None:
        self.database = database
        self.cache = cache
        self.cache_kept = cache_kept
        self._cached: tuple[int, str] | None = None  # the last promotion id seen and the tag of its cached entry

    def describe(self) -> str:
        return f"fraud_online.champion_promotions of {self.database.masked_url}"

    def newest(self) -> tuple[Path, str] | None:
        """The home and tag of the cached entry of the newest promotion, caching it first when it is new."""
        promotion = newest_champion_promotion(self.database, self.cache.name)
        if promotion is None:
            return None
        home = self.cache.homes[0]
        if self._cached is not None and self._cached[0] == promotion.promotion_id:
            return home, self._cached[1]
        tag = cached_promotion_tag(home, self.cache.name, promotion.promotion_id)  # cached by another worker
        if tag is None:
            champion = load_published_champion(self.database, promotion.promotion_id)
            tag = save_served_model(home, self.cache.name, champion.booster, champion.card,
                                    champion.reference_sample, promotion_id=promotion.promotion_id)
            self._prune_cache(home)
        self._cached = promotion.promotion_id, tag
        return home, tag

    def _prune_cache(self, home: Path) -> None:
        """Keep the cache's newest entries; a failure to delete is logged and retried at the next promotion."""
        try:
            freed = prune_served_entries(home, self.cache.name, self.cache_kept)
        except OSError as error:
            logger.warning("could not prune the cached champions in %s: %s", home, error)
            return
        if freed.removed:
            logger.info("pruned %d cached champion(s) from %s (kept %s)", freed.removed, home, freed.kept)

    def fallback(self) -> tuple[Path, str] | None:
        """The newest champion cached on this host (or packed in its Bento), for when the database cannot answer."""
        return self.cache.newest()


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
    """The champion of one worker, kept up to date with its source.

    `homes` are BentoML homes searched in order: the first that holds an entry is used (the service passes the
    configured store, then the store packed in the Bento when it runs from one). With `database` the champion is the
    team database's newest promotion, cached in `homes[0]`; the homes are then only the fallback for a worker that
    starts while the database is down.
    """

    def __init__(self, homes: Sequence[Path], name: str = MODEL_NAME, poll_seconds: float = 5.0,
                 reload_marker: Path | None = None, booster_threads: int = BOOSTER_THREADS,
                 database: DatabaseUrl | None = None, cache_kept: int = DEFAULT_SERVED_MODELS_KEPT) -> None:
        local_store = LocalStoreSource(homes, name)
        self.source: LocalStoreSource | DatabaseSource = (
            local_store if database is None else DatabaseSource(database, local_store, cache_kept))
        self.name = name
        self.poll_seconds = poll_seconds
        self.reload_marker = reload_marker
        self.booster_threads = booster_threads
        self._current: ServedModel | None = None
        self._failed_checks = 0  # in a row
        self._load_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def current(self) -> ServedModel | None:
        """The model to use; read it once per request (a swap replaces the reference, never mutates it)."""
        return self._current

    def no_model_message(self) -> str:
        return NO_MODEL_MESSAGE.format(source=self.source.describe(), poll=self.poll_seconds)

    def newest(self) -> tuple[Path, str] | None:
        """The home and tag of the source's champion (see LocalStoreSource.newest and DatabaseSource.newest)."""
        return self.source.newest()

    def _newest_or_fallback(self, previous: ServedModel | None) -> tuple[Path, str] | None:
        """`newest`; when the database cannot answer and this worker serves nothing yet, the champion cached last."""
        try:
            return self.newest()
        except Exception:
            if previous is not None or not isinstance(self.source, DatabaseSource):
                raise
            found = self.source.fallback()
            if found is None:
                raise
            logger.exception("Could not read the champion from %s; serving the champion cached on this host (%s) "
                             "until it answers", self.source.describe(), found[1])
            return found

    def refresh(self) -> RefreshOutcome:
        """Load the newest entry if it is not the one served; swap only once it is fully loaded and warmed up."""
        with self._load_lock:
            previous = self._current
            found = self._newest_or_fallback(previous)
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
        """`refresh`, logging instead of raising: a half-written or broken entry, or the database down, must not stop
        the service.

        Returns False when the source could not be read or the newest champion not loaded. The first failure of a
        run of failures is logged with its traceback, the end of the run in a line: a database down for minutes
        must not write a traceback a second.
        """
        try:
            self.refresh()
        except Exception:
            served = self._current
            if self._failed_checks == 0:
                logger.exception("Could not load the newest %s from %s; still serving %s; retrying every %g s",
                                 self.name, self.source.describe(),
                                 f"version {served.version}" if served else "no model", self._retry_seconds)
            self._failed_checks += 1
            return False
        if self._failed_checks:
            logger.info("Checked %s again after %d failed checks", self.source.describe(), self._failed_checks)
            self._failed_checks = 0
        return True

    def request_reload_everywhere(self) -> None:
        """Tell every worker sharing the data folder (this host's) to check the source now (they watch the marker's
        mtime)."""
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
        while not self._stop.wait(max(0.0, min(tick, next_check - time.monotonic()))):  # a check is never late
            marker = self._marker_mtime()
            if marker != marker_seen or time.monotonic() >= next_check:
                marker_seen = marker
                succeeded = self.refresh_quietly()
                next_check = time.monotonic() + (self.poll_seconds if succeeded else self._retry_seconds)
