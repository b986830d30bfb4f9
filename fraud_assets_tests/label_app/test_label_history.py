"""The label history: newest first, with the label each event replaced."""

from __future__ import annotations

from label_app.label_history import label_history


def test_label_history_newest_first_with_previous_label(snapshot):
    history = label_history(snapshot)
    assert history["transaction_id"].tolist() == ["c1", "c1", "c0", "b1"]
    newest = history.iloc[0]
    assert (newest.reviewer, newest.label, newest.previous_label, newest.note) == ("alice", "legit", "fraud",
                                                                                   "customer confirmed")
    assert history.iloc[1].previous_label == ""  # bob's first label of c1
    assert label_history(snapshot, reviewer="bob")["transaction_id"].tolist() == ["c1"]
    assert len(label_history(snapshot, transaction_id="c1", limit=1)) == 1
    assert (newest.day, newest.type) == (2, "CASH_OUT")
