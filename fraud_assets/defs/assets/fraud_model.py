"""The fraud model: a challenger trained on a time window, promoted when it beats the champion by a real gain or the
champion fails its checks; a training that would repeat a registered version (same training fingerprint) reuses it.
"""

import functools
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
from dagster_duckdb import DuckDBResource

from fraud_assets.core.model_card import ModelCard
from fraud_assets.core.served_models import ChampionModel
from fraud_assets.defs.names import CLEANED_TRANSACTIONS, WAREHOUSE_POOL
from fraud_assets.defs.partitions import newest_cleaned_day
from fraud_assets.defs.resources.mlflow_tracking import MlflowRunLogger
from fraud_assets.defs.resources.model_registry import (
    FINGERPRINT_TAG,
    MODEL_CARD_ARTIFACT,
    REFERENCE_SAMPLE_FILE,
    UNCHANGED_AS_TAG,
    ModelRegistry,
    RegisteredVersion,
)
from fraud_assets.defs.resources.review_policy import ReviewPolicy
from fraud_assets.defs.resources.warehouse import ARRIVAL_ORDER, WAREHOUSE_SCHEMA, read_stored_days, typed_for_duckdb
from fraud_assets.ml.evaluation import precision_recall_curve_figure
from fraud_assets.ml.features import FEATURE_COLUMNS, REQUIRED_COLUMNS
from fraud_assets.ml.label_maturity import TrainingWindow, known_labels, training_window
from fraud_assets.ml.lifecycle import (
    REFERENCE_COLUMNS,
    Challenger,
    DaySample,
    LabeledRows,
    PromotionDecision,
    RowsDigest,
    ThresholdPolicy,
    auprc_on_rows,
    decide_promotion,
    reference_positions,
    train_challenger,
    training_fingerprint,
)
from fraud_assets.ml.thresholds import describe_budget_use
from fraud_assets.ml.training import XGBoostParams

XGBOOST_DEFAULTS = XGBoostParams()

# Tags of a retraining run (set by retrain_on_failed_checks_sensor): the checks the champion failed, and which
# champion that was. They let a challenger replace that champion without a gain (see decide_promotion).
CHAMPION_FAILED_CHECKS_TAG = "fraud/champion_failed_checks"
FAILING_CHAMPION_TAG = "fraud/failing_champion_version"
# Config fields that decide promotion without shaping the model: left out of the training fingerprint.
PROMOTION_FIELDS = {"promotion_min_gain", "promotion_tolerance"}

CLEANED_TABLE = CLEANED_TRANSACTIONS.path[-1]
# Read from the training days: the PaySim columns (the reference sample keeps them all), the id and the day (labels).
TRAINING_COLUMNS = ["transaction_id", *REFERENCE_COLUMNS]
# Read from the validation days, every row: what the features (REQUIRED_COLUMNS and step), the labels (id, day,
# isFraud) and the threshold (day, amount) use. nameOrig and isFlaggedFraud, which none of them reads, stay behind.
VALIDATION_COLUMNS = ["transaction_id", "day", "step", *REQUIRED_COLUMNS, "isFraud"]
SAMPLE_WEIGHT = "sample_weight"  # added to a training day's rows read: the rows of its day each stands for
ANALYST_LABELED = "analyst_labeled"  # the ids of the transactions analysts labeled, registered on the connection
# A training row is kept whatever the sampling when it is fraud or an analyst labeled it; the others are genuine.
KEPT = f"(isFraud <> 0 OR transaction_id IN (SELECT transaction_id FROM {ANALYST_LABELED}))"
ROWS_PER_DAY_SQL = (f"SELECT day, count(*), count(*) FILTER (WHERE NOT {KEPT}) FROM {WAREHOUSE_SCHEMA}.{CLEANED_TABLE} "
                    "WHERE day BETWEEN ? AND ? GROUP BY day")
# Every read of a training day is in a fixed order: a row's place changes the model (XGBoost subsamples by position),
# and neither a join nor a DuckLake's scan keeps the order rows were stored in (read_stored_days takes ARRIVAL_ORDER).
KEPT_ROWS_SQL = (f"SELECT {', '.join(TRAINING_COLUMNS)} FROM {WAREHOUSE_SCHEMA}.{CLEANED_TABLE} "
                 f"WHERE day = ? AND {KEPT} ORDER BY transaction_id")
# A repeatable sample of a day's genuine rows, drawn in the warehouse as the drift report draws its samples: a hash of
# each row's id and the seed orders them, so the same rows and seed give the same sample.
SAMPLED_GENUINE_SQL = (f"SELECT {', '.join(TRAINING_COLUMNS)} FROM {WAREHOUSE_SCHEMA}.{CLEANED_TABLE} "
                       f"WHERE day = ? AND NOT {KEPT} ORDER BY hash(transaction_id || ?), transaction_id LIMIT ?")


class FraudModelConfig(dg.Config):
    """How the challenger is trained, thresholded and compared with the champion (the label delay and the alert
    budget come from the `review_policy` resource)."""

    as_of_day: int | None = None  # "today"; None = the newest day in cleaned_transactions
    training_days: int = 12
    validation_days: int = 3
    seed: int = 7
    n_estimators: int = XGBOOST_DEFAULTS.n_estimators
    max_depth: int = XGBOOST_DEFAULTS.max_depth
    learning_rate: float = XGBOOST_DEFAULTS.learning_rate
    early_stopping_rounds: int = XGBOOST_DEFAULTS.early_stopping_rounds
    # a training row's weight halves every this many days of age; None = equal
    recency_half_life_days: float | None = 3.0
    # A training day with more genuine rows than this trains on its fraud, its analyst-labeled rows and this many of
    # its genuine rows (a repeatable sample by seed), each weighing for the genuine rows it stands for; None = every
    # row. 250,000 is above the steady simulation's 205,000 genuine rows a day at scale 1.0: up to there every row
    # trains; at scale 5.0 a training day reads a quarter of its rows.
    max_genuine_rows_per_training_day: int | None = 250_000
    threshold_strategy: str = "alert_budget"  # or "net_value"
    review_cost_per_alert: float = 200.0
    # The challenger's validation AUPRC must beat the champion's on the same rows by this much: 0.03 is the spread of
    # AUPRC over eight seeds of one training at the demo scale (0.968-0.996, 76 validation frauds), i.e. what
    # reseeding alone gives. A negative value accepts a challenger that much worse.
    promotion_min_gain: float = 0.03
    # When the champion fails its checks, a challenger not worse than it by more than this replaces it.
    promotion_tolerance: float = 0.005

    def xgboost_params(self) -> XGBoostParams:
        return XGBoostParams(n_estimators=self.n_estimators, max_depth=self.max_depth, learning_rate=self.learning_rate,
                             early_stopping_rounds=self.early_stopping_rounds)

    def threshold_policy(self, alerts_per_1000: float) -> ThresholdPolicy:
        return ThresholdPolicy(self.threshold_strategy, alerts_per_1000, self.review_cost_per_alert)

    def fingerprint_settings(self, window: TrainingWindow, review_policy: ReviewPolicy) -> dict:
        """What of the config and the review policy shapes the model: everything but the promotion fields, with the
        as-of day resolved (None and the newest day it stands for train the same model)."""
        return {"config": {**self.model_dump(exclude=PROMOTION_FIELDS), "as_of_day": window.as_of_day},
                "label_delay_days": review_policy.label_delay_days,
                "alerts_per_1000_transactions": review_policy.alerts_per_1000_transactions}


@dataclass(frozen=True)
class TrainingData:
    """The window; the rows a challenger trains on (a busy training day's genuine rows sampled, see `samples`) and is
    validated on (every row of the validation days), labels known; a reference sample of the training rows in the
    PaySim schema; and the fingerprint of a training on them."""

    window: TrainingWindow
    samples: tuple[DaySample, ...]
    train: LabeledRows
    validation: LabeledRows
    reference: pd.DataFrame
    fingerprint: str


@dataclass(frozen=True)
class ChampionState:
    """The champion a challenger is compared with, and the checks it fails (named by a retraining run's tags)."""

    model: ChampionModel | None
    failed_checks: tuple[str, ...]

    @property
    def version(self) -> str | None:
        return self.model.version if self.model else None

    def auprc_on(self, data: TrainingData) -> float | None:
        """The champion's AUPRC on the challenger's validation rows; None without a champion."""
        if self.model is None:
            return None
        return auprc_on_rows(self.model.booster, data.validation)

    def decide(self, challenger_auprc: float, champion_auprc: float | None,
               config: FraudModelConfig) -> PromotionDecision:
        return decide_promotion(challenger_auprc, champion_auprc, config.promotion_min_gain,
                                config.promotion_tolerance, self.failed_checks)


def champion_failure_tags(failed_checks: tuple[str, ...], champion_version: str | None) -> dict[str, str]:
    """The tags a retraining run carries: the checks the champion (`champion_version`) failed."""
    return {CHAMPION_FAILED_CHECKS_TAG: ",".join(failed_checks), FAILING_CHAMPION_TAG: champion_version or ""}


def champion_failed_checks(run_tags: Mapping[str, str], champion: ChampionModel | None) -> tuple[str, ...]:
    """The checks the current champion fails, from the run's tags; none when the run names none, or names another
    champion (one replaced since the sensor asked)."""
    checks = tuple(check for check in run_tags.get(CHAMPION_FAILED_CHECKS_TAG, "").split(",") if check)
    if champion is None or run_tags.get(FAILING_CHAMPION_TAG) != champion.version:
        return ()
    return checks


@dg.asset(
    deps=[CLEANED_TRANSACTIONS],
    group_name="model",
    kinds={"xgboost", "mlflow"},
    pool=WAREHOUSE_POOL,
    description="An XGBoost challenger trained on a time window, logged to MLflow, promoted to champion by the "
                "AUPRC rule; an unchanged training (same fingerprint) reuses its registered version.",
)
def fraud_model(
    context: dg.AssetExecutionContext,
    config: FraudModelConfig,
    warehouse: DuckDBResource,
    model_registry: ModelRegistry,
    review_policy: ReviewPolicy,
    reviewed_labels: pd.DataFrame,
    mlflow: dg.ResourceParam[MlflowRunLogger],
) -> dg.MaterializeResult:
    data = read_training_data(context, config, warehouse, review_policy, reviewed_labels)
    champion_model = model_registry.load_champion()
    champion = ChampionState(champion_model, champion_failed_checks(context.run.tags, champion_model))
    registered = model_registry.version_trained_on(data.fingerprint)
    if registered is not None:
        return reuse_registered_version(context, config, model_registry, mlflow, data, champion, registered)
    return train_and_register(context, config, model_registry, mlflow, review_policy, data, champion)


def read_training_data(context: dg.AssetExecutionContext, config: FraudModelConfig, warehouse: DuckDBResource,
                       review_policy: ReviewPolicy, reviewed_labels: pd.DataFrame) -> TrainingData:
    """The window's rows and known labels, fingerprinted before anything is fitted."""
    window = config_window(config, review_policy.label_delay_days, newest_cleaned_day(context.instance))
    data = read_window(warehouse, config, window, review_policy, reviewed_labels)
    sampled = [sample for sample in data.samples if sample.sampled]
    if sampled:
        context.log.info(f"{len(sampled)} of {len(data.samples)} training days have more than "
                         f"{config.max_genuine_rows_per_training_day:,} genuine rows: a sample of that many trains, "
                         f"{len(data.train.day):,} rows standing for {data.train.weight.sum():,.0f}")
    return data


def train_and_register(context: dg.AssetExecutionContext, config: FraudModelConfig, model_registry: ModelRegistry,
                       mlflow: MlflowRunLogger, review_policy: ReviewPolicy, data: TrainingData,
                       champion: ChampionState) -> dg.MaterializeResult:
    """Fit a challenger, log and register it with its fingerprint, promote it if it wins."""
    challenger = train_challenger(data.train.known(), data.validation, data.reference, data.window,
                                  config.xgboost_params(),
                                  config.threshold_policy(review_policy.alerts_per_1000_transactions), config.seed,
                                  config.recency_half_life_days)
    metrics = challenger.validation_metrics
    champion_auprc = champion.auprc_on(data)
    decision = champion.decide(metrics["auprc"], champion_auprc, config)
    card = model_card(challenger, data.window, review_policy)
    version, run_id = log_to_mlflow(mlflow, model_registry, config, challenger, card, champion_auprc,
                                    decision.promote, data.fingerprint)
    if decision.promote:
        model_registry.promote(version)
    context.log.info(f"challenger v{version}: {decision.reason}")
    budget_text = describe_budget_use(challenger.threshold)
    if challenger.threshold.alerts_over_budget_per_day > 0:
        context.log.warning(f"challenger v{version}: {budget_text}")
    return dg.MaterializeResult(data_version=dg.DataVersion(data.fingerprint), metadata={
        **promotion_metadata(version, run_id, data, champion, decision, metrics["auprc"], champion_auprc),
        "unchanged": False,
        "validation_roc_auc": metrics["roc_auc"],
        "validation_recall_at_budget": metrics["recall_at_budget"],
        "validation_precision_at_budget": metrics["precision_at_budget"],
        "threshold": challenger.threshold.threshold,
        "expected_precision": challenger.threshold.expected_precision,
        "expected_recall": challenger.threshold.expected_recall,
        "expected_alerts_per_day": challenger.threshold.expected_alerts_per_day,
        "alert_budget_per_day": challenger.threshold.alert_budget_per_day,
        "alerts_over_budget_per_day": challenger.threshold.alerts_over_budget_per_day,
        "alert_budget_use": budget_text,
        "train_rows": challenger.trained.n_train,
        "train_rows_represented": round(float(data.train.weight.sum())),
        "train_days_sampled": sum(sample.sampled for sample in data.samples),
        "train_fraud": challenger.trained.n_train_fraud,
        "validation_rows": challenger.trained.n_valid,
        "validation_fraud": challenger.trained.n_valid_fraud,
        "analyst_labels_used": challenger.n_analyst_labels,
        "feature_importance": dg.MetadataValue.md(
            pd.Series(challenger.feature_importance()).sort_values(ascending=False).rename("total_gain")
            .to_frame().to_markdown()),
    })


def reuse_registered_version(context: dg.AssetExecutionContext, config: FraudModelConfig,
                             model_registry: ModelRegistry, mlflow: MlflowRunLogger, data: TrainingData,
                             champion: ChampionState, registered: RegisteredVersion) -> dg.MaterializeResult:
    """The same window, labels, config and code already trained `registered`: fit and register nothing. That version
    stands as this window's challenger, promoted only if the rule says so against today's champion (which may have
    changed, or failed its checks, since), and the data version stays the fingerprint: Dagster sees nothing new."""
    version = registered.version
    if champion.version == version:
        champion_auprc = registered.validation_auprc
        decision = PromotionDecision(False, f"version {version} is already the champion")
    else:
        champion_auprc = champion.auprc_on(data)
        decision = champion.decide(registered.validation_auprc, champion_auprc, config)
    if decision.promote:
        model_registry.promote(version)
    model_registry.tag_run(mlflow.active_run().info.run_id,
                           {FINGERPRINT_TAG: data.fingerprint, UNCHANGED_AS_TAG: version})
    mlflow.end_run()
    context.log.info(f"unchanged: version {version} was trained on the same window, labels, config and model code "
                     f"(fingerprint {data.fingerprint}); nothing trained or registered. {decision.reason}")
    return dg.MaterializeResult(data_version=dg.DataVersion(data.fingerprint), metadata={
        **promotion_metadata(version, registered.run_id, data, champion, decision, registered.validation_auprc,
                             champion_auprc),
        "unchanged": True,
        "unchanged_reason": f"same training fingerprint as version {version}: nothing trained or registered",
    })


def promotion_metadata(version: str, run_id: str, data: TrainingData, champion: ChampionState,
                       decision: PromotionDecision, challenger_auprc: float,
                       champion_auprc: float | None) -> dict[str, object]:
    """What every materialization says about the version it stands for and the promotion decision."""
    return {
        "model_version": version,
        "mlflow_run_id": run_id,
        "training_fingerprint": data.fingerprint,
        "training_window": data.window.describe(),
        "promoted": decision.promote,
        "promotion_reason": decision.reason,
        "challenger_auprc": challenger_auprc,
        "champion_auprc": champion_auprc if champion_auprc is not None else float("nan"),
        "champion_version_before": champion.version or "none",
        "champion_failed_checks": ", ".join(champion.failed_checks) or "none",
    }


def model_card(challenger: Challenger, window: TrainingWindow, review_policy: ReviewPolicy) -> ModelCard:
    """The challenger's card: its threshold and what it promised on the validation days."""
    return ModelCard(
        threshold=challenger.threshold.threshold,
        threshold_strategy=challenger.threshold.strategy,
        expected_precision=challenger.threshold.expected_precision,
        expected_recall=challenger.threshold.expected_recall,
        expected_alerts_per_day=challenger.threshold.expected_alerts_per_day,
        alert_budget_per_day=challenger.threshold.alert_budget_per_day,
        high_score_level=challenger.high_score_level,
        high_score_reference=challenger.high_score_reference,
        alerts_per_1000_transactions=review_policy.alerts_per_1000_transactions,
        feature_columns=list(FEATURE_COLUMNS),
        training_window=window.as_dict(),
        label_delay_days=review_policy.label_delay_days,
        metrics=challenger.validation_metrics,
        n_analyst_labels=challenger.n_analyst_labels,
        best_iteration=challenger.trained.best_iteration,
    )


def config_window(config: FraudModelConfig, label_delay_days: int, newest_day: int | None) -> TrainingWindow:
    """The training window as of `config.as_of_day` (default: `newest_day`, the newest cleaned day)."""
    as_of_day = config.as_of_day if config.as_of_day is not None else newest_day
    if as_of_day is None:
        raise dg.Failure("cleaned_transactions has no materialized day yet: run daily_ingest_job over some days first.")
    return training_window(as_of_day, config.training_days, config.validation_days, label_delay_days)


def read_window(warehouse: DuckDBResource, config: FraudModelConfig, window: TrainingWindow,
                review_policy: ReviewPolicy, reviewed_labels: pd.DataFrame) -> TrainingData:
    """The window's rows, read from the warehouse a day at a time (see `WindowReader`). A busy training day's genuine
    rows are sampled in the warehouse (`DaySample`); validation days are read whole, for the alert budget is a day's."""
    labels_of = functools.partial(known_labels, as_of_day=window.as_of_day,
                                  label_delay_days=review_policy.label_delay_days, analyst_labels=reviewed_labels)
    reader = WindowReader(warehouse, reviewed_labels, labels_of, RowsDigest())
    samples = reader.day_samples(window, config.max_genuine_rows_per_training_day)
    train, reference = reader.training_days(samples, config.seed)
    validation = LabeledRows.concat([reader.validation_day(day)
                                     for day in range(window.first_validation_day, window.last_validation_day + 1)])
    fingerprint = training_fingerprint(reader.digest, config.fingerprint_settings(window, review_policy))
    return TrainingData(window, samples, train, validation.known(), reference, fingerprint)


@dataclass(frozen=True)
class WindowReader:
    """Reads a window's days one at a time, so that memory holds one day's rows besides the window's features: a
    day's string columns are dropped as soon as its labels, features, share of the fingerprint (`digest`) and of the
    reference sample are taken. Each day is read on a connection of its own: closing it frees the blocks DuckDB keeps
    cached of what it read (about 40 MB a day at scale 5.0; on one connection, the whole window's)."""

    warehouse: DuckDBResource
    reviewed_labels: pd.DataFrame
    labels_of: Callable[[pd.DataFrame], pd.DataFrame]  # `known_labels` of a day's rows
    digest: RowsDigest

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A warehouse connection that knows which transactions analysts labeled (`ANALYST_LABELED`)."""
        with self.warehouse.get_connection() as connection:
            connection.register(ANALYST_LABELED, typed_for_duckdb(self.reviewed_labels[["transaction_id"]]))
            yield connection

    def day_samples(self, window: TrainingWindow, cap: int | None) -> tuple[DaySample, ...]:
        """How each training day is read, from its rows and genuine rows (neither fraud nor labeled by an analyst)."""
        with self.connection() as connection:
            counts = {day: (rows, genuine) for day, rows, genuine in connection.execute(
                ROWS_PER_DAY_SQL, [window.first_train_day, window.last_train_day]).fetchall()}
        return tuple(DaySample(day, *counts.get(day, (0, 0)), cap)
                     for day in range(window.first_train_day, window.last_train_day + 1))

    def training_days(self, samples: tuple[DaySample, ...], seed: int) -> tuple[LabeledRows, pd.DataFrame]:
        """The training days' rows as `samples` say, and the reference sample drawn from them (in proportion to the
        rows each stands for, as `reference_positions` draws, picked from each day while its strings are at hand)."""
        positions = reference_positions(np.concatenate([sample.weights() for sample in samples]), seed)
        parts, picked, offset = [], [], 0
        for sample in samples:
            with self.connection() as connection:
                rows = training_day_rows(connection, sample, seed)
            parts.append(self.labeled(rows))
            day_positions = positions[(positions >= offset) & (positions < offset + len(rows))]
            picked.append(rows.iloc[day_positions - offset][REFERENCE_COLUMNS].set_axis(day_positions))
            offset += len(rows)
        return LabeledRows.concat(parts), pd.concat(picked).loc[positions]

    def validation_day(self, day: int) -> LabeledRows:
        with self.connection() as connection:
            rows = read_stored_days(connection, CLEANED_TABLE, day, day, VALIDATION_COLUMNS, order_by=ARRIVAL_ORDER)
        return self.labeled(rows)

    def labeled(self, rows: pd.DataFrame) -> LabeledRows:
        """A day's rows as training uses them, added to the digest on the way (the caller then drops the frame)."""
        labels = self.labels_of(rows)
        self.digest.add(rows, labels)
        weight = rows[SAMPLE_WEIGHT].to_numpy() if SAMPLE_WEIGHT in rows else None
        return LabeledRows.of(rows, labels, weight)


def training_day_rows(connection: duckdb.DuckDBPyConnection, sample: DaySample, seed: int) -> pd.DataFrame:
    """A training day's rows, with the weight of each (`SAMPLE_WEIGHT`): every row, or its kept rows followed by a
    repeatable sample of its genuine rows."""
    if sample.sampled:
        rows = pd.concat([connection.execute(KEPT_ROWS_SQL, [sample.day]).fetchdf(),
                          connection.execute(SAMPLED_GENUINE_SQL, [sample.day, str(seed), sample.cap]).fetchdf()],
                         ignore_index=True)
    else:
        rows = read_stored_days(connection, CLEANED_TABLE, sample.day, sample.day, TRAINING_COLUMNS,
                                order_by=ARRIVAL_ORDER)
    if len(rows) != sample.rows_read:
        raise RuntimeError(f"day {sample.day} of {CLEANED_TABLE} changed while it was read: {len(rows)} rows read, "
                           f"{sample.rows_read} expected; train the model again")
    rows[SAMPLE_WEIGHT] = sample.weights()
    return rows


def log_to_mlflow(mlflow: MlflowRunLogger, registry: ModelRegistry, config: FraudModelConfig, challenger: Challenger,
                  card: ModelCard, champion_auprc: float | None, promoted: bool,
                  fingerprint: str) -> tuple[str, str]:
    """Log the challenger's parameters, metrics, plots, card and model; register it with its training fingerprint
    (on the run, and on the version in the same call that creates it). Returns (version, run id)."""
    run_id = mlflow.active_run().info.run_id
    registry.tag_run(run_id, {FINGERPRINT_TAG: fingerprint})
    mlflow.log_params({**config.model_dump(), "alerts_per_1000_transactions": card.alerts_per_1000_transactions,
                       "label_delay_days": card.label_delay_days,
                       "scale_pos_weight": challenger.trained.scale_pos_weight,
                       **{f"window_{key}": value for key, value in card.training_window.items()}})
    mlflow.log_metrics({f"validation_{key}": value for key, value in challenger.validation_metrics.items()
                        if value == value})
    mlflow.log_metrics({"champion_auprc": champion_auprc if champion_auprc is not None else -1.0,
                        "promoted": float(promoted)})
    mlflow.log_figure(precision_recall_curve_figure(challenger.validation["label"].to_numpy(),
                                                    challenger.validation["score"].to_numpy(),
                                                    challenger.threshold.threshold), "pr_curve.png")
    mlflow.log_dict(challenger.feature_importance(), "feature_importance.json")
    mlflow.log_dict(card.to_dict(), MODEL_CARD_ARTIFACT)
    with tempfile.TemporaryDirectory() as scratch:
        sample_path = Path(scratch) / REFERENCE_SAMPLE_FILE
        challenger.reference_sample.to_parquet(sample_path, index=False)
        mlflow.log_artifact(str(sample_path))
    info = mlflow.xgboost.log_model(challenger.trained.booster, name="model",
                                    registered_model_name=registry.registered_model_name,
                                    tags={FINGERPRINT_TAG: fingerprint})
    mlflow.end_run()
    return str(info.registered_model_version), run_id
