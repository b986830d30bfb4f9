"""What people see: a case in Markdown, the header lines, tables rounded for reading, and the score figure."""

from __future__ import annotations

import math

import pandas as pd

from label_app.case_detail import case_detail
from label_app.model_stats import daily_stats, overall_stats
from label_app.rendering import (
    bars_by_day,
    display_daily_stats,
    display_table,
    render_case,
    render_label_event,
    render_list_page,
    render_overall,
    render_queue_status,
    score_figure,
)


def test_a_case_in_markdown(snapshot):
    text = render_case(case_detail(snapshot, "c1"), snapshot.today)
    assert text.startswith("### CASH_OUT of 1,000 on day 2\nTransaction `c1` · source **batch** · model **v2**")
    assert "**Score 0.5000** against threshold 0.4000: alert" in text
    assert "1. The amount is exactly the paying account's whole balance" in text
    assert "labeled **legit** by alice" in text and "ground truth: known from day 4 (today is day 3)" in text
    assert "· alice · **legit** (was fraud): “customer confirmed”" in text
    assert "not alerted (a fraud the model missed)" in render_case(case_detail(snapshot, "m0"), snapshot.today)
    assert render_case(None, snapshot.today).startswith("### Nothing to review")


def test_the_header_lines():
    assert render_queue_status(3, 4, 3) == ("**3** alerts left in today's queue (day 3) · **4** unlabeled alerts "
                                            "match the filters")
    assert render_queue_status(0, 0, None) == "Nothing exported yet: run the pipeline to fill the queue."
    assert render_queue_status(2, 4, 3, 3, 3) == ("**2** alerts left in today's queue (day 3; 3 alerted, budget 3) · "
                                                  "**4** unlabeled alerts match the filters")
    assert "(day 3; 5 alerted, budget 3: over by 2)" in render_queue_status(
        2, 4, 3, 5, 3)
    event = {"transaction_id": "d0", "label": 1, "previous_label": 0, "reviewer": "bob"}
    assert render_label_event(event) == "Labeled `d0` **fraud** (was legit) as bob."
    assert render_label_event({**event, "previous_label": None}) == "Labeled `d0` **fraud** as bob."
    assert render_list_page({"page": 2, "pages": 3, "total": 60}, "false_negatives") == (
        "Page **2** of 3 · 60 frauds the model did not alert")


def test_the_dashboard_summary(snapshot):
    overall = overall_stats(daily_stats(snapshot))
    text = render_overall(overall, snapshot.today)
    assert text.startswith("**Today is day 3.** Over 4 days: 11 alerts, 4 not labeled yet. Precision of labeled "
                           "alerts **0.714**; recall over the 2 days whose ground truth has matured **0.800**.")
    assert "| **alerted** | 5 (TP) | 2 (FP) |" in text
    assert "| **not alerted** | 1 (FN) | 1994 (TN, matured days) |" in text
    assert "**none labeled yet**" in render_overall({**overall, "precision": math.nan}, 3)
    assert "**no alerts**" in render_overall({**overall, "precision": math.nan, "alerts": 0}, 3)
    assert "**no fraud known yet**" in render_overall({**overall, "recall_matured_days": math.nan}, 3)
    assert render_overall(overall, None) == "Nothing exported yet: run the pipeline first."


def test_tables_for_people_are_rounded_with_blanks():
    frame = pd.DataFrame({"score": [0.123456], "amount": [12.3456], "recall": [math.nan], "note": [None]})
    shown = display_table(frame)
    assert shown.iloc[0].tolist() == [0.1235, 12.35, "", ""]


def test_bars_by_day_are_categories_in_day_order():
    plot = bars_by_day(pd.DataFrame({"day": [10, 2, 2], "count": [1, 2, 3]}))
    assert plot.sort == ["2", "10"]


def test_the_score_figure(snapshot):
    stats = daily_stats(snapshot)
    heat, bars = score_figure(snapshot.summary, stats, snapshot.today).axes[:2]
    assert (heat.get_title(), bars.get_title()) == ("Score distribution per day", "Scores of day 3 (today)")
    assert len(heat.images) == 1 and bars.lines[0].get_xdata()[0] == 0.4  # today's threshold
    empty_heat, empty_bars = score_figure(snapshot.summary.iloc[0:0], stats.iloc[0:0], None).axes[:2]
    assert empty_bars.get_title() == "No scores yet" and not empty_heat.images


def test_the_daily_table_says_in_words_what_is_undefined(snapshot):
    stats = daily_stats(snapshot)
    stats.loc[stats["day"] == 1, ["n_alerts", "labeled_alerts", "true_positives", "false_positives"]] = 0
    stats.loc[stats["day"] == 1, "precision"] = math.nan
    shown = display_daily_stats(stats).set_index("day")
    assert shown.loc[1, "precision"] == "no alerts"
    assert shown.loc[3, "precision"] == "none labeled yet"  # today: alerts, none labeled
    assert shown.loc[2, "recall"] == shown.loc[2, "f1"] == "not matured"
    assert shown.loc[0, "precision"] == 0.667 and shown.loc[0, "alert_budget"] == 3
    assert "nan" not in shown.astype(str).to_string().lower()
