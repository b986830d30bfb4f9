"""The service in this process: its class called directly, and its ASGI app (BentoML's own app factory, with the
lifespan that creates the instance and runs the shutdown hook) through Starlette's TestClient.

Covers the contract (every kind of bad input is a 400 naming the field, never a 500), transaction ids, /model, the
disabled /reload, the decision log after shutdown, and the empty store (503 with the how-to-train message, then the
first promotion picked up without a restart).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time

import pytest
from starlette.testclient import TestClient

from bento.contract import Transaction
from fraud_assets.ml.features import FEATURE_COLUMNS
from fraud_assets_tests.bento.conftest import (
    IN_PROCESS_CONFIG,
    TEST_THRESHOLD,
    TEST_TRAINING_WINDOW,
    request_rows,
    service_env,
    valid_transaction,
)

HOW_TO_TRAIN = "run `make run` (the main job) to train and promote the first model"


@pytest.fixture(scope="module")
def app_env(model_home, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("inprocess_data")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in service_env(model_home, data_dir, **IN_PROCESS_CONFIG).items():
            patch.setenv(key, value)
        patch.delenv("FRAUD_SERVICE_API_KEY", raising=False)
        yield data_dir


@pytest.fixture(scope="module")
def client(app_env):
    """The service's ASGI app with a live instance (lifespan entered), and a tally of the decisions it returned."""
    from bento.service import FraudScoring

    with TestClient(FraudScoring.to_asgi(), raise_server_exceptions=False) as test_client:
        test_client.decisions_returned = 0
        yield test_client


def post(client, path: str, transactions: list[dict]):
    response = client.post(path, json={"transactions": transactions})
    if response.status_code == 200:
        client.decisions_returned += len(response.json())
    return response


# ------------------------------------------------------------------------------------------------- direct calls


def test_the_service_class_can_be_instantiated_and_called_directly(app_env, trained_champion):
    from bento.service import FraudScoring

    service = FraudScoring()
    try:
        assert service.__is_ready__()
        transactions = [Transaction.model_validate(row) for row in request_rows(trained_champion.unseen.head(3))]
        decisions = asyncio.run(service.predict(transactions=transactions))
        assert [decision["model_version"] for decision in decisions] == ["1", "1", "1"]
        assert all(0.0 <= decision["score"] <= 1.0 for decision in decisions)
        assert asyncio.run(service.score(transactions=transactions[:1]))[0]["score"] == decisions[0]["score"]
        assert asyncio.run(service.score_batched(transactions=transactions[:1]))[0]["score"] == decisions[0]["score"]
        info = asyncio.run(service.model())
        assert (info.version, info.threshold, info.mlflow_run_id) == ("1", TEST_THRESHOLD, "test")
    finally:
        service.shutdown()
    assert service.decision_log.rows_written == 5


# --------------------------------------------------------------------------------------------------- over HTTP


def test_system_endpoints_answer(client):
    assert client.get("/livez").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert "text/html" in client.get("/").headers["content-type"]
    spec = client.get("/docs.json").json()
    assert {"/predict", "/score", "/score/batched", "/model", "/reload"} <= set(spec["paths"])


def test_predict_returns_one_decision_per_transaction_in_order(client, trained_champion):
    rows = request_rows(trained_champion.unseen.head(50))
    rows[0]["transaction_id"] = "client-id-0"
    response = post(client, "/predict", rows)
    assert response.status_code == 200, response.text
    decisions = response.json()
    assert len(decisions) == 50
    assert decisions[0]["transaction_id"] == "client-id-0"
    assert len({decision["request_id"] for decision in decisions}) == 1
    for decision in decisions:
        assert set(decision) == {"transaction_id", "request_id", "score", "is_alert", "threshold", "model_version",
                                 "reasons"}
        assert 0.0 <= decision["score"] <= 1.0
        assert decision["is_alert"] == (decision["score"] >= TEST_THRESHOLD)
        assert (decision["model_version"], decision["threshold"]) == ("1", TEST_THRESHOLD)
        assert len(decision["reasons"]) <= 3 and (decision["is_alert"] or not decision["reasons"])


def test_alerts_carry_reasons(client):
    drained = valid_transaction(amount=181000.0, oldbalanceOrg=181000.0, newbalanceOrig=0.0)
    decision = post(client, "/score", [drained]).json()[0]
    if decision["is_alert"]:
        assert 1 <= len(decision["reasons"]) <= 3
        assert {"feature", "value", "contribution", "description"} == set(decision["reasons"][0])


def test_derived_transaction_ids_are_deterministic(client):
    lone = post(client, "/score", [valid_transaction()]).json()[0]["transaction_id"]
    in_batch = post(client, "/predict", [valid_transaction(amount=5.0), valid_transaction()]).json()
    without_step = post(client, "/predict", [valid_transaction(step=...)]).json()[0]["transaction_id"]
    assert lone.startswith("tx-") and in_batch[1]["transaction_id"] == lone
    assert in_batch[0]["transaction_id"] != lone and without_step != lone


def test_a_transaction_without_step_is_scored(client):
    response = post(client, "/predict", [valid_transaction(step=...), valid_transaction(step=743)])
    assert response.status_code == 200, response.text


def test_model_endpoint_describes_the_champion(client):
    info = client.get("/model").json()
    assert info["version"] == "1" and info["threshold"] == TEST_THRESHOLD
    assert info["training_window"] == TEST_TRAINING_WINDOW
    assert info["metrics"] == {"auprc": 0.9, "roc_auc": 0.99} and info["promoted_at"].startswith("2025-02-01")
    assert info["mlflow_run_id"] == "test" and info["feature_columns"] == list(FEATURE_COLUMNS)
    assert info["bentoml_tag"].startswith("fraud_model:")


def test_reload_is_disabled_without_an_api_key(client):
    response = client.post("/reload", headers={"X-API-Key": "anything"})
    assert response.status_code == 403
    assert "FRAUD_SERVICE_API_KEY" in response.json()["error"]


INVALID_TRANSACTIONS = {
    "unknown type": (valid_transaction(type="WIRE"), "type"),
    "lower-case type": (valid_transaction(type="transfer"), "type"),
    "negative amount": (valid_transaction(amount=-1.0), "amount"),
    "negative balance": (valid_transaction(oldbalanceDest=-0.01), "oldbalanceDest"),
    "amount above 1e12": (valid_transaction(amount=2e12), "amount"),
    "amount as a string": (valid_transaction(amount="1000"), "amount"),
    "amount as a boolean": (valid_transaction(amount=True), "amount"),
    "amount null": (valid_transaction(amount=None), "amount"),
    "origin is a merchant": (valid_transaction(nameOrig="M123"), "nameOrig"),
    "origin without digits": (valid_transaction(nameOrig="C"), "nameOrig"),
    "destination with letters": (valid_transaction(nameDest="C12a"), "nameDest"),
    "destination too long": (valid_transaction(nameDest="C12345678901"), "nameDest"),
    "step 0": (valid_transaction(step=0), "step"),
    "step 744": (valid_transaction(step=744), "step"),
    "step as a float": (valid_transaction(step=2.5), "step"),
    "step as a string": (valid_transaction(step="3"), "step"),
    "transaction id with a space": (valid_transaction(transaction_id="a b"), "transaction_id"),
    "transaction id too long": (valid_transaction(transaction_id="x" * 65), "transaction_id"),
    "missing amount": (valid_transaction(amount=...), "amount"),
    "missing nameDest": (valid_transaction(nameDest=...), "nameDest"),
    "unknown field": (valid_transaction(isFraud=1), "isFraud"),
    "transaction not an object": ("TRANSFER", "1"),
}


@pytest.mark.parametrize("path", ["/predict", "/score"])
@pytest.mark.parametrize("case", list(INVALID_TRANSACTIONS))
def test_invalid_transactions_get_a_400_that_names_the_field(client, path, case):
    transaction, field = INVALID_TRANSACTIONS[case]
    response = post(client, path, [valid_transaction(), transaction])
    assert response.status_code == 400, response.text
    locations = [[str(part) for part in error["loc"]] for error in response.json()["detail"]]
    assert any(location[:2] == ["transactions", "1"] and field in location for location in locations), locations
    assert all(error["msg"] for error in response.json()["detail"])


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_non_finite_json_numbers_are_rejected(client, token):
    body = json.dumps({"transactions": [valid_transaction(amount=0.0)]}).replace('"amount": 0.0', f'"amount": {token}')
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["detail"][0]["loc"] == ["transactions", 0, "amount"]


@pytest.mark.parametrize(("body", "field"), [
    (b"", "transactions"),                                 # nothing
    (b"{}", "transactions"),                               # no transactions field
    (b'{"transactions": []}', "transactions"),             # empty batch
    (b'{"transactions": {"type": "TRANSFER"}}', "transactions"),  # not a list
    (b'{"transactions": [1, 2]}', "transactions"),         # items not objects
    (b"[]", ""),                                           # a bare list (the body is an object with "transactions")
    (b'{"transactions": [', ""),                           # truncated JSON
    (b"not json", ""),
    (b'{"transactions": null}', "transactions"),
])
def test_malformed_bodies_get_a_400(client, body, field):
    for path in ("/predict", "/score"):
        response = client.post(path, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, (path, response.text)
        if field:
            assert field in [str(part) for error in response.json()["detail"] for part in error["loc"]]


def test_a_batch_over_the_limit_gets_a_400(client):
    from bento.service import _IMPORT_SETTINGS, SCORE_MAX_ITEMS

    response = client.post("/score", json={"transactions": [valid_transaction()] * (SCORE_MAX_ITEMS + 1)})
    assert response.status_code == 400 and response.json()["detail"][0]["type"] == "too_long"
    oversize = [valid_transaction()] * (_IMPORT_SETTINGS.max_batch_size + 1)
    response = client.post("/predict", json={"transactions": oversize})
    assert response.status_code == 400 and response.json()["detail"][0]["type"] == "too_long"


def test_other_media_types_and_huge_bodies_are_refused_before_parsing(client):
    for content_type in ("multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "text/plain",
                         "application/vnd.bentoml+pickle", "application/octet-stream"):
        response = client.post("/predict", content=b"garbage", headers={"content-type": content_type})
        assert response.status_code == 415, (content_type, response.text)
    from bento.service import FraudScoring

    limit = next(options["max_body_bytes"] for _, options in FraudScoring.middlewares)
    response = client.post("/predict", content=b" " * (limit + 1), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_wrong_methods_and_paths_are_4xx(client):
    assert client.get("/predict").status_code == 405
    assert client.post("/model").status_code == 405
    assert client.get("/nothing-here").status_code == 404


def test_every_decision_is_in_the_decision_log_after_shutdown(app_env, model_home, trained_champion):
    """A fresh app: decisions made, the lifespan ends (graceful shutdown), every decision is in the log."""
    from bento.service import FraudScoring

    made: list[dict] = []
    with TestClient(FraudScoring.to_asgi()) as fresh:
        rows = request_rows(trained_champion.unseen.head(300))
        for start in range(0, 300, 30):
            made += fresh.post("/predict", json={"transactions": rows[start:start + 30]}).json()
            made += fresh.post("/score", json={"transactions": rows[start:start + 1]}).json()
    assert len(made) == 310
    # Counted by this app's request ids: the module's client shares the log and flushes on its own schedule.
    request_ids = sorted({decision["request_id"] for decision in made})
    assert len(request_ids) == 20
    with sqlite3.connect(app_env / "decisions.sqlite") as connection:
        logged = connection.execute(
            f"SELECT COUNT(*) FROM decisions WHERE request_id IN ({', '.join('?' * len(request_ids))})",
            request_ids).fetchone()[0]
    assert logged == 310


# ----------------------------------------------------------------------------------------------- an empty store


def test_without_a_champion_the_service_answers_503_then_serves_the_first_promotion(tmp_path, trained_champion):
    from bento.service import FraudScoring

    home, data_dir = tmp_path / "empty_bentoml", tmp_path / "data"
    with pytest.MonkeyPatch.context() as patch:
        for key, value in service_env(home, data_dir, FRAUD_SERVICE_POLL_SECONDS="0.5", **IN_PROCESS_CONFIG).items():
            patch.setenv(key, value)
        with TestClient(FraudScoring.to_asgi(), raise_server_exceptions=False) as empty:
            assert empty.get("/livez").status_code == 200
            assert empty.get("/readyz").status_code == 503
            for response in (empty.post("/predict", json={"transactions": [valid_transaction()]}),
                             empty.post("/score", json={"transactions": [valid_transaction()]}),
                             empty.get("/model")):
                assert response.status_code == 503
                assert HOW_TO_TRAIN in response.json()["error"]
            trained_champion.save(home, "1")
            deadline = time.monotonic() + 15
            while empty.get("/readyz").status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.1)
            response = empty.post("/predict", json={"transactions": [valid_transaction()]})
            assert response.status_code == 200 and response.json()[0]["model_version"] == "1"
