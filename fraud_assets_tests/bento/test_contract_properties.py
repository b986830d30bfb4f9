"""Property-based tests of the HTTP contract, against the service's ASGI app in this process.

Any batch of valid transactions gets a 200 with one score in [0, 1] per transaction; a batch in which one field of
one transaction is broken gets a 400 that names that field, and nothing gets a 500.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from bento.contract import (
    DESTINATION_ACCOUNT_PATTERN,
    MAX_MONEY,
    ORIGIN_ACCOUNT_PATTERN,
    TRANSACTION_ID_PATTERN,
    Transaction,
)
from fraud_assets.core.schema import AMOUNT_COLUMNS, LAST_PAYSIM_STEP, TRANSACTION_TYPES
from fraud_assets_tests.bento.conftest import (
    IN_PROCESS_CONFIG,
    TEST_THRESHOLD,
    service_env,
)

PROPERTY_SETTINGS = settings(max_examples=50, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture])

money = st.one_of(st.floats(min_value=0.0, max_value=MAX_MONEY, allow_nan=False, allow_infinity=False),
                  st.integers(min_value=0, max_value=int(MAX_MONEY)))
transactions = st.fixed_dictionaries(
    {
        "type": st.sampled_from(TRANSACTION_TYPES),
        **{column: money for column in AMOUNT_COLUMNS},
        "nameOrig": st.from_regex(ORIGIN_ACCOUNT_PATTERN, fullmatch=True),
        "nameDest": st.from_regex(DESTINATION_ACCOUNT_PATTERN, fullmatch=True),
    },
    optional={
        "step": st.integers(min_value=1, max_value=LAST_PAYSIM_STEP),
        "transaction_id": st.from_regex(TRANSACTION_ID_PATTERN, fullmatch=True),
    },
)

not_a_number = st.one_of(st.text(max_size=5), st.booleans(), st.none(), st.lists(st.integers(), max_size=2))
INVALID_VALUES = {
    **{column: st.one_of(st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False),
                         st.floats(min_value=MAX_MONEY, exclude_min=True),  # includes +inf
                         st.sampled_from([float("nan"), float("-inf")]),
                         st.integers(max_value=-1), not_a_number)
       for column in AMOUNT_COLUMNS},
    "type": st.one_of(st.text(max_size=12).filter(lambda value: value not in TRANSACTION_TYPES),
                      st.integers(), st.none()),
    "nameOrig": st.one_of(st.text(max_size=14).filter(lambda value: not _matches(ORIGIN_ACCOUNT_PATTERN, value)),
                          st.integers(), st.none()),
    "nameDest": st.one_of(st.text(max_size=14).filter(lambda value: not _matches(DESTINATION_ACCOUNT_PATTERN, value)),
                          st.integers(), st.none()),
    "step": st.one_of(st.integers(max_value=0), st.integers(min_value=LAST_PAYSIM_STEP + 1),
                      st.floats(allow_nan=False).filter(lambda value: not float(value).is_integer()),
                      st.text(max_size=3), st.booleans()),
    "transaction_id": st.one_of(st.text(max_size=80).filter(lambda value: not _matches(TRANSACTION_ID_PATTERN, value)),
                                st.integers(), st.lists(st.text(), max_size=1)),
}


def _matches(pattern: str, value: str) -> bool:
    import re

    return re.fullmatch(pattern, value) is not None


@pytest.fixture(scope="module")
def client(model_home, tmp_path_factory):
    from bento.service import FraudScoring

    with pytest.MonkeyPatch.context() as patch:
        data_dir = tmp_path_factory.mktemp("property_data")
        for key, value in service_env(model_home, data_dir, **IN_PROCESS_CONFIG).items():
            patch.setenv(key, value)
        with TestClient(FraudScoring.to_asgi(), raise_server_exceptions=False) as test_client:
            yield test_client


@PROPERTY_SETTINGS
@given(batch=st.lists(transactions, min_size=1, max_size=20), path=st.sampled_from(["/predict", "/score"]))
def test_valid_transactions_always_get_scores(client, batch, path):
    response = client.post(path, json={"transactions": batch})
    assert response.status_code == 200, response.text
    decisions = response.json()
    assert len(decisions) == len(batch)
    for transaction, decision in zip(batch, decisions):
        assert 0.0 <= decision["score"] <= 1.0
        assert decision["is_alert"] == (decision["score"] >= TEST_THRESHOLD)
        if "transaction_id" in transaction:
            assert decision["transaction_id"] == transaction["transaction_id"]


@PROPERTY_SETTINGS
@given(data=st.data(), batch=st.lists(transactions, min_size=1, max_size=5),
       field=st.sampled_from([*INVALID_VALUES, "missing", "extra"]), path=st.sampled_from(["/predict", "/score"]))
def test_one_broken_field_gets_a_400_naming_it(client, data, batch, field, path):
    index = data.draw(st.integers(min_value=0, max_value=len(batch) - 1), label="broken transaction")
    broken = dict(batch[index])
    if field == "missing":
        field = data.draw(st.sampled_from(["type", *AMOUNT_COLUMNS, "nameOrig", "nameDest"]), label="missing field")
        del broken[field]
    elif field == "extra":
        field = data.draw(st.text(min_size=1, max_size=10).filter(lambda name: name not in Transaction.model_fields),
                          label="extra field")
        broken[field] = 1
    else:
        broken[field] = data.draw(INVALID_VALUES[field], label=f"invalid {field}")
    batch = [*batch[:index], broken, *batch[index + 1:]]
    body = json.dumps({"transactions": batch}, allow_nan=True)  # NaN and Infinity as JSON tokens, as Python sends them
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    locations = [error["loc"] for error in response.json()["detail"]]
    assert any(location[:3] == ["transactions", index, field] for location in locations), (field, locations)
