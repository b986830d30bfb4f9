"""The retraining sensor's rules: dedupe of handled failures, the in-flight guard, the cooldown, the window."""

from __future__ import annotations

import dagster as dg
import pytest

from fraud_assets.core.settings import Settings
from fraud_assets.defs.clock import build_simulation_clock_sensor, clock_run_requests
from fraud_assets.defs.names import CLEANED_TRANSACTIONS, RECALL_CHECK, SCORE_DRIFT_CHECK
from fraud_assets.defs.partitions import partition_key_of_day
from fraud_assets.defs.resources.model_registry import ModelRegistry
from fraud_assets.defs.resources.retrain_policy import RetrainPolicy
from fraud_assets.defs.resources.review_policy import ReviewPolicy
from fraud_assets.defs.sensors import (
    CheckFailure,
    RetrainCursor,
    decide_retraining,
    retrain_on_failed_checks_sensor,
)
from fraud_assets.simulation.settings import SimulationSettings


def failure(day: int, run_id: str = "run-a", check: str = SCORE_DRIFT_CHECK.name) -> CheckFailure:
    return CheckFailure(check, day, run_id)


def test_fresh_failures_after_the_window_request_one_retraining():
    decision = decide_retraining([failure(21), failure(20), failure(12)], RetrainCursor(), champion_last_day=14,
                                 retrain_in_flight=False, now=1000.0, cooldown_seconds=600)
    assert decision.request and decision.first_failed_day == 20
    assert {f.day for f in decision.new_failures} == {12, 20, 21}


def test_the_days_to_rescore_start_at_the_first_failure_after_the_champions_window_handled_or_not():
    # Days 20-22 failed and asked for retrainings whose challengers were not promoted: the champion (window up to
    # day 14) still scored them, so a promoted model from day 23's request must re-score them too.
    handled = RetrainCursor(handled=[failure(day).key for day in (20, 21, 22)])
    decision = decide_retraining([failure(day) for day in (20, 21, 22, 23)], handled, 14, False, 1000.0, 600)
    assert decision.request and decision.first_failed_day == 20
    assert [f.day for f in decision.new_failures] == [23] and "re-score from day 20" in decision.reason
    # Once a model validated up to day 22 is champion, only the days after its window count.
    after_promotion = decide_retraining([failure(day) for day in (20, 21, 22, 23, 24)], handled, 22, False, 1000.0, 600)
    assert after_promotion.request and after_promotion.first_failed_day == 23


def test_handled_failures_days_inside_the_window_in_flight_runs_and_the_cooldown_all_hold_back():
    handled = RetrainCursor(handled=[failure(20).key], last_request_time=0.0)
    assert not decide_retraining([failure(20)], handled, 14, False, 1000.0, 600).request
    assert not decide_retraining([failure(10)], RetrainCursor(), 14, False, 1000.0, 600).request
    in_flight = decide_retraining([failure(22)], RetrainCursor(), 14, True, 1000.0, 600)
    assert not in_flight.request and in_flight.new_failures == []  # reconsidered once the run ends
    cooling = decide_retraining([failure(22)], RetrainCursor(last_request_time=900.0), 14, False, 1000.0, 600)
    assert not cooling.request and "cooldown" in cooling.reason


def test_one_episode_one_retraining_a_re_evaluated_day_is_not_new_evidence():
    # Day 16 failed and was answered (v2 trained as of day 16, validated up to day 15); the re-score of day 16 with v2
    # fails again under a new run id: the same day, no second retraining.
    answered = RetrainCursor(handled=[failure(16, "run-a").key], acted_days=[16])
    rescored = decide_retraining([failure(16, "run-a"), failure(16, "rescore-run")], answered, 15, False, 1e6, 600)
    assert not rescored.request and "already answered" in rescored.reason
    assert [f.run_id for f in rescored.new_failures] == ["rescore-run"]  # remembered, never reconsidered
    # The recall check of the same day once its labels mature: still the same episode.
    matured = decide_retraining([failure(16, "recall-run", "scored_predictions_recall_check")], answered, 15, False,
                                1e6, 600)
    assert not matured.request
    # A new day that fails is new evidence, and the request names the days and the checks' own words.
    new_day = decide_retraining([CheckFailure(SCORE_DRIFT_CHECK.name, 17, "run-b", "tail emptied: 0 fraud events")],
                                answered, 15, False, 1e6, 600)
    assert new_day.request and new_day.evidence_days == (17,)
    assert new_day.evidence == ("scored_predictions_score_drift_check day 17: tail emptied: 0 fraud events",)


def report_failed_check(instance: dg.DagsterInstance, day: int, evidence: str = "", run_id: str = "") -> None:
    """A failed evaluation of the score-drift check on `day`, as a run (`run_id`) or outside any run records it."""
    evaluation = dg.AssetCheckEvaluation(
        asset_key=SCORE_DRIFT_CHECK.asset_key, check_name=SCORE_DRIFT_CHECK.name,
        passed=False, metadata={"evidence": evidence} if evidence else {}, partition=partition_key_of_day(day))
    if not run_id:
        instance.report_runless_asset_event(evaluation)
        return
    instance.report_dagster_event(run_id=run_id, dagster_event=dg.DagsterEvent(
        event_type_value=dg.DagsterEventType.ASSET_CHECK_EVALUATION.value, event_specific_data=evaluation,
        job_name="daily_scoring_job"))


def tick(instance, cursor, cooldown_seconds, tmp_path):
    resources = {"model_registry": ModelRegistry(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db",
                                                 bentoml_home=str(tmp_path / "bentoml")),
                 "retrain_policy": RetrainPolicy(cooldown_seconds=cooldown_seconds)}
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
    return retrain_on_failed_checks_sensor.evaluate_tick(context)


def test_the_sensor_on_a_real_instance_does_not_storm(tmp_path):
    with dg.instance_for_test() as instance:
        for day in range(20, 31):  # a backfill that failed eleven days at once
            report_failed_check(instance, day)
        first = tick(instance, None, 3600, tmp_path)
        assert len(first.run_requests) == 1
        assert first.run_requests[0].tags["fraud/rescore_from_day"] == "20"
        again = tick(instance, first.cursor, 3600, tmp_path)
        assert again.run_requests == [] and "no failed check" in again.skip_message
        report_failed_check(instance, 19)  # a new failure, within the cooldown
        cooling = tick(instance, again.cursor, 3600, tmp_path)
        assert cooling.run_requests == [] and "cooldown" in cooling.skip_message
        assert len(tick(instance, cooling.cursor, 0, tmp_path).run_requests) == 1


def test_the_sensor_answers_a_day_once_and_quotes_its_evidence(tmp_path):
    with dg.instance_for_test() as instance:
        report_failed_check(instance, 20, "tail emptied: 0 fraud events in the high-score tail on day 20")
        first = tick(instance, None, 0, tmp_path)
        (request,) = first.run_requests
        assert "day 20: tail emptied: 0 fraud events" in request.tags["fraud/evidence"]
        report_failed_check(instance, 20, "tail emptied again, after the re-score", run_id="rescore-run")
        again = tick(instance, first.cursor, 0, tmp_path)
        assert again.run_requests == [] and "already answered" in again.skip_message
        report_failed_check(instance, 21, "tail emptied on day 21")  # the next day: new evidence
        (next_request,) = tick(instance, again.cursor, 0, tmp_path).run_requests
        assert "day 21: tail emptied on day 21" in next_request.tags["fraud/evidence"]


@pytest.mark.parametrize("newest, expected", [(None, ["clock-day-0"]), (4, ["clock-day-5", "clock-recall-check-day-3"]),
                                              (30, ["clock-recall-check-day-29"])])
def test_the_clock_asks_for_the_next_day_and_the_matured_days_recall(newest, expected):
    assert [request.run_key for request in clock_run_requests(newest, 31, 1)] == expected


def test_the_clock_waits_while_the_previous_day_runs_and_then_asks_for_the_next(tmp_path):
    settings = Settings(data_dir=tmp_path, simulation=SimulationSettings(num_days=40), clock_tick_seconds=5)
    clock = build_simulation_clock_sensor(settings.simulation_days, settings.clock_tick_seconds)
    assert clock.minimum_interval_seconds == 5
    resources = {"review_policy": ReviewPolicy.from_settings(settings)}
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(CLEANED_TRANSACTIONS,
                                                                    partition=partition_key_of_day(33)))
        (first, check) = clock(dg.build_sensor_context(instance=instance, resources=resources))
        assert (first.partition_key, check.asset_check_keys) == (partition_key_of_day(34), [RECALL_CHECK])
        instance.add_run(dg.DagsterRun(job_name="simulation_day_job", run_id="running-day-34",
                                       status=dg.DagsterRunStatus.STARTED))
        waiting = clock(dg.build_sensor_context(instance=instance, resources=resources))
        assert isinstance(waiting, dg.SkipReason) and "has not ended" in waiting.skip_message
