"""The online fraud-scoring service: the promoted champion, behind a validated HTTP contract.

Serve it from the repository root:

    BENTOML_HOME=data/bentoml bentoml serve bento.service:FraudScoring --host 127.0.0.1 --port 3001

Embedded deployment: the champion is the newest entry of the BentoML model store, decisions go to
$FRAUD_DATA_DIR/decisions.sqlite. Team deployment (FRAUD_DATABASE_URL set): each replica, with its own FRAUD_DATA_DIR,
serves the team database's newest promotion (fraud_online.champion_promotions, cached in its own BentoML store) and
logs its decisions to fraud_online.decisions, holding them in a bounded buffer while the database is down
(FRAUD_SERVICE_DECISION_BUFFER). A database that cannot be reached when `bentoml serve` starts stops it with one
error naming host, port, database and user (never the password).

Endpoints (request/response examples in bento/README.md):
- POST /predict  {"transactions": [...]}: up to FRAUD_SERVICE_MAX_BATCH transactions scored in one model call;
- POST /score    {"transactions": [one]}: the authorization path, one transaction scored the moment it arrives;
- POST /score/batched  the same contract through BentoML's adaptive batching, which merges concurrent calls into
  shared model calls: more transactions per second per core under heavy concurrency, at the price of a wait that
  BentoML tunes from recent traffic (bench/README.md, "BentoML service");
- GET  /model: the champion this worker serves; POST /reload (header X-API-Key): check the store now;
- /livez, /readyz (503 until a champion is loaded), /metrics (Prometheus: fraud_decisions_total,
  fraud_decision_buffer_rows, fraud_decisions_dropped_total and BentoML's own), / (OpenAPI UI), /docs.json (OpenAPI).

Without a champion the service starts anyway and answers 503 on /predict, /score and /model, saying how to train one.
"""

from __future__ import annotations

import gc
import hmac
import logging
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import bentoml
import orjson
from fastapi import FastAPI, Header
from pydantic import Field
from starlette.responses import JSONResponse, Response

from bento.contract import Decision, ModelInfo, ReloadResult, Transaction
from bento.decision_log_writer import DecisionLogWriter
from bento.decisions import decide
from bento.model_holder import ModelHolder
from bento.settings import ServiceSettings, service_settings_from_env
from fraud_assets.core.bentoml_compat import io_descriptor
from fraud_assets.core.database import DatabaseUnreachable
from fraud_assets.core.served_models import MODEL_NAME

logger = logging.getLogger("bentoml.fraud_scoring")  # under "bentoml" so that BentoML's log setup shows it

# Read once at import for what must be fixed when the class is defined (request size limit, worker count);
# each service instance reads the settings again when it starts.
_IMPORT_SETTINGS = service_settings_from_env()


def check_database_before_serving(settings: ServiceSettings) -> None:
    """Stop `bentoml serve` with one clear error when the team database cannot be reached as it starts.

    Runs where `bentoml serve` (or `bentoml build`, or a test) imports this module, not in its workers: BentoML
    restarts a worker whose start fails, over and over, so a failing `__init__` would never end the server. A worker
    that starts later while the database is down serves the champion cached on its host and buffers its decisions.
    """
    if settings.database is None or bentoml.server_context.worker_index is not None:
        return
    try:
        settings.database.check_reachable(timeout_seconds=10)
    except DatabaseUnreachable as error:
        raise SystemExit(f"fraud_scoring cannot start: {error}. Start the database server, or correct "
                         "FRAUD_DATABASE_URL (unset it for the embedded deployment).") from None


check_database_before_serving(_IMPORT_SETTINGS)
SCORE_MAX_ITEMS = 100  # /score and /score/batched are for single transactions; a handful per call is accepted
SCORE_MAX_MODEL_BATCH = 1_000  # most transactions adaptive batching (/score/batched) merges into one model call
# A /score/batched call still queued after this gets a 503 (overload). Not lower: BentoML's dispatcher cancels on its
# own latency estimate, and at 50-200 ms it refused most calls during and after a burst of 64 clients (bench/README.md).
SCORE_MAX_LATENCY_MS = 5_000
SCORING_PATHS = ("/predict", "/score", "/score/batched")
MODEL_GATED_PATHS = frozenset({*SCORING_PATHS, "/model"})
JSON_BODY_PATHS = frozenset(SCORING_PATHS)
BYTES_PER_TRANSACTION = 2_048  # generous: a transaction is about 250 bytes of JSON

PredictBatch = Annotated[
    list[Transaction],
    Field(min_length=1, max_length=_IMPORT_SETTINGS.max_batch_size,
          description=f"1 to {_IMPORT_SETTINGS.max_batch_size} transactions (FRAUD_SERVICE_MAX_BATCH)."),
]
ScoreBatch = Annotated[
    list[Transaction],
    Field(min_length=1, max_length=SCORE_MAX_ITEMS,
          description="Usually one transaction."),
]


class DecisionsOutput(io_descriptor(list[Decision])):
    """The output of the scoring endpoints: list[Decision], serialized in one pass by orjson.

    `decide` builds the decisions from typed values in the `Decision` shape (the tests check every response against
    the model), so they are not validated again here: BentoML's default path for a list output validates and dumps
    it three times (about 10 ms for 1,000 decisions on this project's 2-core machine), pydantic's validate-and-dump
    3 ms, orjson 0.1-0.2 ms (bench_service's breakdown). `io_descriptor` builds BentoML's default descriptor (with
    BentoML's internal helper), which keeps the OpenAPI schema; only the serialization is replaced.
    """

    @classmethod
    async def to_http_response(cls, obj, serde) -> Response:
        return Response(orjson.dumps(obj), media_type="application/json")


control_app = FastAPI(title="fraud scoring control endpoints", docs_url=None, redoc_url=None, openapi_url=None)


@lru_cache(maxsize=1)
def _decision_counter():
    """Prometheus counter of decisions (created on first use, once the worker's multiprocess directory is set)."""
    from prometheus_client import Counter

    return Counter("fraud_decisions", "Online decisions of the fraud-scoring service",
                   ["endpoint", "model_version", "outcome"])


def _count_decisions(endpoint: str, model_version: str, alerts: int, total: int) -> None:
    counter = _decision_counter()
    if alerts:
        counter.labels(endpoint, model_version, "alert").inc(alerts)
    if total - alerts:
        counter.labels(endpoint, model_version, "pass").inc(total - alerts)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class RequestGate:
    """ASGI middleware in front of the service's own endpoints.

    - 503 with the how-to-train message on /predict, /score and /model while this worker has no champion;
    - 415 on a POST to /predict or /score whose body is not JSON, and 413 when it is larger than the biggest valid
      batch could be: BentoML's other body decoders could otherwise fail with a 500.
    """

    def __init__(self, app, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path not in MODEL_GATED_PATHS:
            return await self.app(scope, receive, send)
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        response = None
        if scope["method"] == "POST" and path in JSON_BODY_PATHS:
            content_type = headers.get("content-type", "application/json").split(";")[0].strip().lower()
            length = headers.get("content-length", "0")
            if content_type not in ("application/json", ""):
                response = _error(415, f"{path} takes a JSON body (Content-Type: application/json), "
                                       f"not {content_type!r}")
            elif not length.isdigit() or int(length) > self.max_body_bytes:
                response = _error(413, f"The body of {path} must be at most {self.max_body_bytes} bytes; "
                                       f"got Content-Length {length!r}. Split the batch.")
        if response is None:
            try:
                service = bentoml.get_current_service()
            except bentoml.exceptions.BentoMLException:
                service = None
            models: ModelHolder | None = getattr(service, "models", None)
            if models is None:
                response = _error(503, "The service is starting; retry in a few seconds.")
            elif models.current is None:
                response = _error(503, models.no_model_message())
        if response is not None:
            return await response(scope, receive, send)
        return await self.app(scope, receive, send)


@bentoml.service(
    name="fraud_scoring",
    workers=_IMPORT_SETTINGS.workers,
    traffic={"timeout": 30},
    # Off by default: a line per request is 17 million a day at 200 requests/s, and the decision log already records
    # every decision.
    logging={"access": {"enabled": _IMPORT_SETTINGS.access_log}},
    # BentoML traces nothing by default (sample rate 0), yet its OpenTelemetry middleware still builds a span per
    # request; the scoring paths skip it unless FRAUD_SERVICE_TRACE_SCORING asks for their traces.
    tracing={"excluded_urls": [] if _IMPORT_SETTINGS.trace_scoring else list(SCORING_PATHS)},
)
@bentoml.asgi_app(control_app, path="/")
class FraudScoring:
    """Scores PaySim-schema transactions with the promoted champion model and logs every decision."""

    def __init__(self) -> None:
        self.settings = service_settings_from_env()
        homes = [self.settings.model_store_home]
        packed = _packed_model_home()
        if packed is not None and packed != self.settings.model_store_home:
            homes.append(packed)
        self.models = ModelHolder(homes, MODEL_NAME, poll_seconds=self.settings.poll_seconds,
                                  reload_marker=self.settings.reload_marker_path, database=self.settings.database,
                                  cache_kept=self.settings.served_models_kept)
        self.models.refresh_quietly()
        if self.models.current is None:
            logger.warning(self.models.no_model_message())
        self.models.start()
        self.decision_log = DecisionLogWriter(self.settings.decision_log,
                                              buffer_rows=self.settings.decision_buffer_rows)
        self.decision_log.start()
        # Everything loaded so far (libraries, the model) lives as long as the worker: keep it out of the garbage
        # collector's full passes, which otherwise add pauses of tens of ms to requests that trigger them.
        gc.freeze()

    def __is_ready__(self) -> bool:
        return self.models.current is not None

    def _decide(self, endpoint: str, transactions: list[Transaction]) -> list[dict]:
        served = self.models.current  # one reference for the whole call: a swap never splits a request
        if served is None:
            raise bentoml.exceptions.ServiceUnavailable(self.models.no_model_message())
        decisions, batch = decide(served.champion, transactions)
        self.decision_log.submit(batch)
        _count_decisions(endpoint, served.version, int(batch.is_alert.sum()), len(decisions))
        return decisions

    # The scoring endpoints are coroutines that score on the event loop: a transaction takes about 0.2 ms of model
    # work, less than handing it to a worker thread and back costs (and a batch of 1,000 about 5 ms). A worker
    # process scores one call at a time either way (the GIL); FRAUD_SERVICE_WORKERS adds processes.
    @bentoml.api(route="/predict", output_spec=DecisionsOutput)
    async def predict(self, transactions: PredictBatch) -> list[Decision]:
        """Score a batch of transactions in one model call: one decision per transaction, in order."""
        return self._decide("predict", transactions)

    @bentoml.api(route="/score", output_spec=DecisionsOutput)
    async def score(self, transactions: ScoreBatch) -> list[Decision]:
        """Score one transaction (send a list of one) the moment it arrives: the authorization path."""
        return self._decide("score", transactions)

    @bentoml.api(route="/score/batched", output_spec=DecisionsOutput, batchable=True,
                 max_batch_size=SCORE_MAX_MODEL_BATCH, max_latency_ms=SCORE_MAX_LATENCY_MS)
    async def score_batched(self, transactions: ScoreBatch) -> list[Decision]:
        """Score one transaction like /score, through adaptive batching: concurrent calls share model calls."""
        return self._decide("score_batched", transactions)

    # async: run on the event loop like the scoring endpoints. FastAPI runs a plain `def` route in a thread, which
    # under load waits for the interpreter lock behind the scoring (Locust's mixed traffic: /model took 320 ms).
    @control_app.get("/model", response_model=ModelInfo, responses={503: {"description": "No champion yet"}})
    async def model(self):
        """The champion this worker serves: version, training window, validation metrics, threshold, promotion."""
        served = self.models.current
        if served is None:
            return _error(503, self.models.no_model_message())
        card = served.champion.card
        return ModelInfo(
            name=MODEL_NAME, version=served.version, bentoml_tag=served.tag, threshold=served.champion.threshold,
            training_window=card.training_window, metrics=card.metrics, promoted_at=card.promoted_at,
            mlflow_run_id=card.mlflow_run_id, feature_columns=served.champion.feature_columns,
            loaded_at=served.loaded_at,
        )

    @control_app.post("/reload", response_model=ReloadResult,
                      responses={401: {"description": "Missing or wrong X-API-Key"},
                                 403: {"description": "Disabled: FRAUD_SERVICE_API_KEY is not set"},
                                 503: {"description": "The newest entry could not be loaded"}})
    def reload(self, x_api_key: Annotated[str | None, Header()] = None):
        """Check the model store (or the team database) now and serve its champion (needs the X-API-Key header).

        This worker reloads before answering; the other workers follow within a second.
        """
        if not self.settings.api_key:
            return _error(403, "POST /reload is disabled: set FRAUD_SERVICE_API_KEY to enable it. Without it every "
                               f"worker still checks the store every {self.settings.poll_seconds:g} s.")
        if x_api_key is None or not hmac.compare_digest(x_api_key.encode(), self.settings.api_key.encode()):
            return _error(401, "POST /reload needs the header X-API-Key with the value of FRAUD_SERVICE_API_KEY.")
        self.models.request_reload_everywhere()
        try:
            outcome = self.models.refresh()
        except Exception as error:
            logger.exception("Forced reload failed")
            served = self.models.current
            return _error(503, f"Could not load the newest {MODEL_NAME} ({type(error).__name__}: {error}); "
                               f"still serving {'version ' + served.version if served else 'no model'}.")
        if outcome.current is None:
            return _error(503, self.models.no_model_message())
        return ReloadResult(
            changed=outcome.changed, previous_version=outcome.previous.version if outcome.previous else None,
            version=outcome.current.version, bentoml_tag=outcome.current.tag,
        )

    @bentoml.on_shutdown
    def shutdown(self) -> None:
        """Stop polling and write every queued decision before the worker exits."""
        self.models.stop()
        self.decision_log.close()
        logger.info("Decision log closed: %d decisions written by this worker, %d dropped (the buffer was full)",
                    self.decision_log.rows_written, self.decision_log.dropped_rows)


FraudScoring.add_asgi_middleware(
    RequestGate, max_body_bytes=max(_IMPORT_SETTINGS.max_batch_size, SCORE_MAX_ITEMS) * BYTES_PER_TRANSACTION)


def _packed_model_home() -> Path | None:
    """The BentoML home of the model store packed in the Bento when the service runs from a built Bento."""
    bento = FraudScoring.bento
    return Path(bento.path) if bento is not None and (Path(bento.path) / "models").exists() else None
