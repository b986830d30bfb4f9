"""One case as plain values, its reasons in words."""

from __future__ import annotations

import json

from label_app.case_detail import case_detail, describe_reasons


def test_case_detail_gives_readable_reasons_and_hides_immature_truth(snapshot):
    detail = case_detail(snapshot, "c1")
    assert detail["reason_text"][0] == ("The amount is exactly the paying account's whole balance: the account is "
                                        "emptied (drains_origin = 1, +2.50 log-odds)")
    assert detail["reason_text"][1] == "Amount of the transaction (amount = 181,000, +0.75 log-odds)"
    assert detail["ground_truth"] is None and detail["label_name"] == "legit"
    assert [event["reviewer"] for event in detail["history"]] == ["alice", "bob"]
    json.dumps(detail)  # plain values only
    assert case_detail(snapshot, "nope") is None
    assert describe_reasons("") == [] and describe_reasons("not json")[0].startswith("(reasons not readable")
