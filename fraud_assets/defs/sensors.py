"""Automatic retraining: a sensor that answers failed drift or performance checks with one retraining run, and a
second sensor that re-scores the affected days once a retrained model is promoted.

No storm of runs when a backfill fails many days at once: failures already handled are remembered in the cursor,
a retraining run is never requested while another is queued or running, and a cooldown separates requests.
One episode, one retraining: a day whose failures were the evidence of a request is remembered too, so that its
re-evaluations (the re-score after a promotion, the recall check once its labels mature) never request again; a new
day that still fails is new evidence. The request's reason quotes each check's own evidence.
A retraining run's tags name the checks the champion failed, so that `fraud_model` lets a challenger replace a failing
champion without a gain in AUPRC (`decide_promotion`).
"""

import json
import time
from dataclasses import dataclass, field

import dagster as dg

from fraud_assets.defs.assets.fraud_model import champion_failure_tags
from fraud_assets.defs.dagster_compat import AssetCheckExecutionRecordStatus
from fraud_assets.defs.jobs import daily_scoring_job, train_model_job
from fraud_assets.defs.names import FRAUD_MODEL, RETRAINING_CHECKS
from fraud_assets.defs.partitions import day_of_partition_key, day_range_tags, newest_cleaned_day
from fraud_assets.defs.resources.model_registry import ModelRegistry
from fraud_assets.defs.resources.retrain_policy import RetrainPolicy

RESCORE_FROM_TAG = "fraud/rescore_from_day"
EVIDENCE_TAG = "fraud/evidence"  # what the request's failed checks said, each in its own words
EVIDENCE_TAG_LENGTH = 1000
HANDLED_MEMORY = 1000  # failures remembered in the cursor
IN_FLIGHT = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
             dg.DagsterRunStatus.STARTED]


@dataclass(frozen=True)
class CheckFailure:
    check_name: str
    day: int
    run_id: str
    evidence: str = ""  # the evaluation's own words (its "evidence" metadata), quoted in the request's reason

    @property
    def key(self) -> str:
        return f"{self.check_name}|{self.day}|{self.run_id}"


@dataclass
class RetrainCursor:
    handled: list[str] = field(default_factory=list)
    last_request_time: float = 0.0
    acted_days: list[int] = field(default_factory=list)  # days whose failures a request has already answered

    @classmethod
    def parse(cls, raw: str | None) -> "RetrainCursor":
        return cls(**json.loads(raw)) if raw else cls()

    def dump(self) -> str:
        return json.dumps({"handled": self.handled[-HANDLED_MEMORY:], "last_request_time": self.last_request_time,
                           "acted_days": sorted(set(self.acted_days))[-HANDLED_MEMORY:]})


@dataclass(frozen=True)
class RetrainDecision:
    request: bool
    reason: str
    new_failures: list[CheckFailure]
    first_failed_day: int | None = None
    failed_checks: tuple[str, ...] = ()  # the checks whose new failures ask for the retraining
    evidence_days: tuple[int, ...] = ()  # the days whose failures are its evidence (never evidence again)
    evidence: tuple[str, ...] = ()  # per failure used: check, day and the check's own evidence


def decide_retraining(failures: list[CheckFailure], cursor: RetrainCursor, champion_last_day: int | None,
                      retrain_in_flight: bool, now: float, cooldown_seconds: float) -> RetrainDecision:
    """Pure rule: retrain for failures not handled yet on days after the champion's training window that no earlier
    request used as evidence, unless a retraining run is in flight or the cooldown since the last request has not
    passed.

    The days to re-score, should the retrained model be promoted, start at the first failed day after the champion's
    window, handled or not: when earlier retrainings were not promoted, the champion still scored those days too.
    """
    handled, acted = set(cursor.handled), set(cursor.acted_days)
    fresh = [failure for failure in failures if failure.key not in handled]
    after_window = [failure for failure in failures if champion_last_day is None or failure.day > champion_last_day]
    unhandled = [failure for failure in after_window if failure.key not in handled]
    relevant = [failure for failure in unhandled if failure.day not in acted]
    if not relevant:
        reason = "no failed check on a day after the champion's training window"
        if unhandled:
            days = sorted({failure.day for failure in unhandled})
            reason = (f"the new failures re-evaluate days {', '.join(map(str, days))}, already answered by a "
                      "retraining request (one episode, one retraining)")
        return RetrainDecision(False, reason, fresh)
    if retrain_in_flight:
        return RetrainDecision(False, "a retraining run is already queued or running", [])
    waited = now - cursor.last_request_time
    if waited < cooldown_seconds:
        return RetrainDecision(False, f"cooldown: {waited:.0f} s since the last request, "
                                      f"{cooldown_seconds:.0f} s required", [])
    first_day = min(failure.day for failure in after_window)
    checks = tuple(sorted({failure.check_name for failure in relevant}))
    evidence = tuple(f"{failure.check_name} day {failure.day}: {failure.evidence or 'failed'}"
                     for failure in sorted(relevant, key=lambda item: (item.day, item.check_name)))
    return RetrainDecision(True, f"{len(relevant)} new failed evaluations from day {min(f.day for f in relevant)} "
                                 f"({', '.join(checks)}); re-score from day {first_day} if promoted", fresh, first_day,
                           checks, tuple(sorted({failure.day for failure in relevant})), evidence)


def failed_check_evaluations(instance: dg.DagsterInstance) -> list[CheckFailure]:
    """Every failed per-day evaluation of the watched checks (newest 1,000 of each), with its evidence."""
    failures = []
    for check_key in RETRAINING_CHECKS:
        records = instance.event_log_storage.get_asset_check_execution_history(
            check_key, limit=HANDLED_MEMORY, status={AssetCheckExecutionRecordStatus.FAILED})
        failures += [CheckFailure(check_key.name, day_of_partition_key(record.partition), record.run_id,
                                  evaluation_evidence(record.event))
                     for record in records if record.partition]
    return failures


def evaluation_evidence(event: dg.EventLogEntry | None) -> str:
    """The "evidence" metadata of a check evaluation's event ("" when it has none)."""
    evaluation = event.dagster_event.event_specific_data if event and event.dagster_event else None
    value = getattr(evaluation, "metadata", {}).get("evidence")
    return str(value.value) if value is not None else ""


@dg.sensor(job=train_model_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Requests one retraining run when drift or performance checks fail after the champion's window.")
def retrain_on_failed_checks_sensor(context: dg.SensorEvaluationContext, model_registry: ModelRegistry,
                                    retrain_policy: RetrainPolicy):
    cursor = RetrainCursor.parse(context.cursor)
    champion = model_registry.load_champion()
    champion_last_day = champion.card.last_validation_day if champion else None
    in_flight = bool(context.instance.get_run_records(
        dg.RunsFilter(job_name=train_model_job.name, statuses=IN_FLIGHT), limit=1))
    decision = decide_retraining(failed_check_evaluations(context.instance), cursor, champion_last_day, in_flight,
                                 time.time(), retrain_policy.cooldown_seconds)
    cursor.handled += [failure.key for failure in decision.new_failures]
    if not decision.request:
        context.update_cursor(cursor.dump())
        return dg.SkipReason(decision.reason)
    as_of_day = newest_cleaned_day(context.instance)
    cursor.last_request_time = time.time()
    cursor.acted_days += list(decision.evidence_days)
    context.update_cursor(cursor.dump())
    context.log.info(f"requesting retraining as of day {as_of_day}: {decision.reason}. Evidence:\n"
                     + "\n".join(decision.evidence))
    return dg.RunRequest(
        run_key=f"retrain-as-of-{as_of_day}-from-{decision.first_failed_day}-{int(cursor.last_request_time)}",
        run_config={"ops": {FRAUD_MODEL.path[-1]: {"config": {"as_of_day": as_of_day}}}},
        tags={RESCORE_FROM_TAG: str(decision.first_failed_day), "fraud/reason": decision.reason[:200],
              EVIDENCE_TAG: "; ".join(decision.evidence)[:EVIDENCE_TAG_LENGTH],
              **champion_failure_tags(decision.failed_checks, champion.version if champion else None)},
    )


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, monitored_jobs=[train_model_job],
                      request_job=daily_scoring_job, default_status=dg.DefaultSensorStatus.RUNNING,
                      description="After a retraining run that promoted a new champion, re-scores the days from "
                                  "the drift onward.")
def rescore_after_retraining_sensor(context: dg.RunStatusSensorContext):
    first_day = context.dagster_run.tags.get(RESCORE_FROM_TAG)
    if first_day is None:
        return dg.SkipReason("this training run was not a retraining after failed checks")
    promoted = [
        record.asset_materialization.metadata.get("promoted")
        for record in context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=FRAUD_MODEL), limit=5).records
        if record.run_id == context.dagster_run.run_id
    ]
    if not promoted or not promoted[0].value:
        return dg.SkipReason("the retrained challenger was not promoted; nothing to re-score")
    last_day = newest_cleaned_day(context.instance)
    return dg.RunRequest(
        run_key=f"rescore-after-{context.dagster_run.run_id}",
        tags=day_range_tags(int(first_day), last_day),
    )
