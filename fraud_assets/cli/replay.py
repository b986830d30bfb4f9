"""Replay the simulation clock in-process, one day at a time, doing what the schedule and the sensors do in a
running deployment: ingest, score and monitor the day, judge the matured day's recall, let the retraining sensor
decide, retrain and re-score when it asks. Used by the drift tests and to print the drift table of the README.

    python -m fraud_assets.cli.replay --scenario fraud_pattern_shift --start-day 20
    python -m fraud_assets.cli.replay --scenario fraud_pattern_shift --start-day 20 --prepare-only

`--prepare-only` stops after the first champion (days 0-15 ingested, trained, scored): then `make up` with the same
FRAUD_DRIFT_SCENARIO and FRAUD_DRIFT_START_DAY, and start `simulation_clock_sensor` in the Dagster UI to watch
the remaining days arrive, the checks fail and the sensors retrain.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field, replace

import dagster as dg
import pandas as pd

from fraud_assets.cli.instance import prepare_dagster_home
from fraud_assets.cli.run_pipeline import CONSOLE_LOG_LEVEL, FIRST_MODEL_AS_OF_DAY, quiet_dagster_warnings
from fraud_assets.cli.run_recovery import in_process_run_tags, recover_dead_runs
from fraud_assets.core.settings import Settings
from fraud_assets.core.warehouse_engine import open_warehouse
from fraud_assets.defs import build_definitions
from fraud_assets.defs.dagster_compat import keep_sigterm_deliverable
from fraud_assets.defs.names import FRAUD_MODEL, RECALL_CHECK, RETRAINING_CHECKS
from fraud_assets.defs.partitions import day_range_tags
from fraud_assets.defs.resources.model_registry import ModelRegistry
from fraud_assets.defs.sensors import rescore_after_retraining_sensor, retrain_on_failed_checks_sensor
from fraud_assets.ml.evaluation import alerts_within_budget

WATCHED = {check.name for check in RETRAINING_CHECKS}


@dataclass
class ReplayLog:
    failed_checks: dict[int, list[str]] = field(default_factory=dict)  # day -> failed watched checks
    retrain_requests: list[tuple[int, str]] = field(default_factory=list)  # (clock day, reason)
    promotions: list[tuple[int, str]] = field(default_factory=list)  # (clock day, new champion version)


class ClockReplay:
    """Drive one Dagster instance (under settings.dagster_home) through the simulation days."""

    def __init__(self, settings: Settings, model_config: dict, instance: dg.DagsterInstance):
        recover_dead_runs(instance)  # a killed replay's runs would hold the warehouse pool's slot
        self.settings = settings
        self.defs = build_definitions(settings)
        self.model_config = model_config
        self.instance = instance
        self.cursor: str | None = None
        self.log = ReplayLog()

    def execute(self, job_name: str, first_day: int | None = None, last_day: int | None = None,
                run_config: dict | None = None, tags: dict | None = None, job=None) -> dg.ExecuteInProcessResult:
        job = job or self.defs.resolve_job_def(job_name)
        run_tags = {**(tags or {}), **in_process_run_tags()}
        if first_day is not None:
            run_tags |= day_range_tags(first_day, last_day)
        run_config = {**(run_config or {}), "loggers": {"console": {"config": {"log_level": CONSOLE_LOG_LEVEL}}}}
        result = job.execute_in_process(instance=self.instance, run_config=run_config, tags=run_tags,
                                        raise_on_error=False)
        if not result.success:
            raise RuntimeError(f"{job_name} failed for days {first_day}..{last_day} (run {result.run_id})")
        return result

    def start(self, first_model_as_of: int) -> None:
        """Days 0..first_model_as_of ingested, the first champion trained, those days scored."""
        self.execute("daily_ingest_job", 0, first_model_as_of)
        self.execute("train_model_job", run_config=self.training_config(first_model_as_of))
        self.execute("daily_scoring_job", 0, first_model_as_of)

    def training_config(self, as_of_day: int) -> dict:
        return {"ops": {FRAUD_MODEL.path[-1]: {"config": {**self.model_config, "as_of_day": as_of_day}}}}

    def advance(self, day: int) -> None:
        """One clock tick: the day's run, the matured day's recall check, then the sensors."""
        result = self.execute("simulation_day_job", day, day)
        failures = [e.check_name for e in result.get_asset_check_evaluations()
                    if not e.passed and e.check_name in WATCHED]
        matured = day - self.settings.label_delay_days
        if matured >= 0:
            check_job = self.defs.resolve_job_def("simulation_day_job").get_subset(
                asset_selection=set(), asset_check_selection={RECALL_CHECK})
            checked = self.execute("recall check", matured, matured, job=check_job)
            failures += [f"{e.check_name} (day {matured})" for e in checked.get_asset_check_evaluations()
                         if not e.passed]
        if failures:
            self.log.failed_checks[day] = failures
        self.run_sensors(day)

    def run_sensors(self, day: int) -> None:
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor, definitions=self.defs,
                                          resources={key: self.defs.resources[key]
                                                     for key in ("model_registry", "retrain_policy")})
        tick = retrain_on_failed_checks_sensor.evaluate_tick(context)
        self.cursor = tick.cursor
        if not tick.run_requests:
            return
        (request,) = tick.run_requests
        self.log.retrain_requests.append((day, request.tags.get("fraud/reason", "")))
        config = request.run_config["ops"][FRAUD_MODEL.path[-1]]["config"]
        trained = self.execute("train_model_job", run_config=self.training_config(config["as_of_day"]),
                               tags=request.tags)
        (success,) = [event for event in trained.all_events if event.event_type == dg.DagsterEventType.RUN_SUCCESS]
        status_context = dg.build_run_status_sensor_context(
            sensor_name=rescore_after_retraining_sensor.name, dagster_event=success,
            dagster_instance=self.instance, dagster_run=trained.dagster_run)
        rescore = rescore_after_retraining_sensor(status_context)
        if isinstance(rescore, dg.RunRequest):
            self.execute("daily_scoring_job", tags=rescore.tags)
            self.log.promotions.append((day, self.defs.resources["model_registry"].champion_version()))


def recall_at_budget(settings: Settings, days: tuple[int, int],
                     scores: pd.DataFrame | None = None) -> float:
    """Recall at the daily alert budget over a range of days, from the stored predictions (or given scores)."""
    with open_warehouse(settings.warehouse_location, read_only=True) as connection:
        frame = connection.execute(
            "SELECT p.transaction_id, p.day, p.score, c.isFraud FROM fraud.scored_predictions p "
            "JOIN fraud.cleaned_transactions c USING (transaction_id) WHERE p.day BETWEEN ? AND ?",
            list(days)).fetchdf()
    if scores is not None:
        frame = frame.drop(columns="score").merge(scores, on="transaction_id")
    alerted = alerts_within_budget(frame["score"].to_numpy(), [frame["day"].to_numpy()],
                                   settings.alerts_per_1000_transactions)
    fraud = frame["isFraud"].to_numpy() == 1
    return float((alerted & fraud).sum() / fraud.sum()) if fraud.any() else float("nan")


def scores_of_version(settings: Settings, version: str, days: tuple[int, int]) -> pd.DataFrame:
    """Scores a registered model version would give on the stored days (the model that was never retrained)."""
    from fraud_assets.ml.features import build_features
    from fraud_assets.ml.training import predict_scores

    booster, _, _ = ModelRegistry.from_settings(settings).load_version(version)
    with open_warehouse(settings.warehouse_location, read_only=True) as connection:
        rows = connection.execute("SELECT * FROM fraud.cleaned_transactions WHERE day BETWEEN ? AND ?",
                                  list(days)).fetchdf()
    return pd.DataFrame({"transaction_id": rows["transaction_id"],
                         "score": predict_scores(booster, build_features(rows))})


def replay_scenario(settings: Settings, first_model_as_of: int, model_config: dict | None = None) -> ReplayLog:
    """Replay every day after the first model's as-of day; returns what happened."""
    prepare_dagster_home(settings.dagster_home)
    with dg.DagsterInstance.get() as instance:
        replay = ClockReplay(settings, model_config or {}, instance)
        replay.start(first_model_as_of)
        for day in range(first_model_as_of + 1, settings.simulation_days):
            replay.advance(day)
        return replay.log


def prepare_live_clock(settings: Settings) -> int:
    prepare_dagster_home(settings.dagster_home)
    with dg.DagsterInstance.get() as instance:
        ClockReplay(settings, {}, instance).start(FIRST_MODEL_AS_OF_DAY)
    print(f"Days 0-{FIRST_MODEL_AS_OF_DAY} ingested and scored, first champion trained, in {settings.data_dir}.\n"
          f"Next: FRAUD_DATA_DIR={settings.data_dir} FRAUD_DRIFT_SCENARIO={settings.simulation.scenario} "
          f"FRAUD_DRIFT_START_DAY={settings.simulation.drift_start_day} "
          f"FRAUD_ALERTS_PER_1000_TRANSACTIONS={settings.alerts_per_1000_transactions:g} "
          "FRAUD_RETRAIN_COOLDOWN_SECONDS=60 make up, "
          "then start simulation_clock_sensor in the Dagster UI (Automation): a new day every FRAUD_CLOCK_TICK_SECONDS "
          "(two minutes by default).")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="fraud_pattern_shift")
    parser.add_argument("--start-day", type=int, default=20)
    parser.add_argument("--scale", type=float, default=None)
    parser.add_argument("--alerts-per-1000", type=float, default=None,
                        help="the alert budget per 1,000 transactions (default FRAUD_ALERTS_PER_1000_TRANSACTIONS)")
    parser.add_argument("--prepare-only", action="store_true",
                        help="stop after the first champion, for the live clock in the Dagster UI")
    args = parser.parse_args(argv)
    quiet_dagster_warnings()
    keep_sigterm_deliverable()
    settings = Settings.from_env()
    simulation = replace(settings.simulation, scenario=args.scenario, drift_start_day=args.start_day,
                         scale=args.scale or settings.simulation.scale)
    settings = replace(settings, simulation=simulation, retrain_cooldown_seconds=0,
                       alerts_per_1000_transactions=args.alerts_per_1000 or settings.alerts_per_1000_transactions)
    if args.prepare_only:
        return prepare_live_clock(settings)
    log = replay_scenario(settings, FIRST_MODEL_AS_OF_DAY)
    for day, failures in sorted(log.failed_checks.items()):
        print(f"day {day}: failed {', '.join(failures)}")
    print(f"retraining requests: {log.retrain_requests}\npromotions: {log.promotions}")
    after = (args.start_day + 3, settings.simulation_days - 1)
    before = (16, args.start_day - 1)
    first_version = "1"
    never_retrained = scores_of_version(settings, first_version, after)
    print(f"recall at the alert budget ({settings.alerts_per_1000_transactions:g} per 1,000 transactions): "
          f"days {before[0]}-{before[1]} {recall_at_budget(settings, before):.3f}; "
          f"days {after[0]}-{after[1]} with retraining {recall_at_budget(settings, after):.3f}, "
          f"never retrained {recall_at_budget(settings, after, never_retrained):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
