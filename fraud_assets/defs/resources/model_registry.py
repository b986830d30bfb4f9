"""The model registry (MLflow) and the served-model store (BentoML, `fraud_assets/core/served_models.py`), behind one
typed resource.

MLflow holds every trained version and the `champion` alias. The BentoML model store holds what the service
serves: promoting a version (or rolling back to one) saves it there as the newest `fraud_model` entry, with its
model card (threshold, feature list, training window, metrics, MLflow run id) and a reference sample of its
training data. Every version carries its training fingerprint (tag `training_fingerprint`, on the version and on
its MLflow run), so that a training whose fingerprint is already registered reuses that version instead of
registering the same model again. MLflow is imported inside the methods that use it: loading the definitions does not
pay for it.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import pandas as pd
import xgboost as xgb

from fraud_assets.core.model_card import ModelCard
from fraud_assets.core.served_models import (
    CHAMPION_ALIAS,
    MODEL_NAME,
    REFERENCE_SAMPLE_FILE,
    ChampionModel,
    load_served_model,
    save_served_model,
)
from fraud_assets.core.settings import Settings

MODEL_CARD_ARTIFACT = "model_card.json"
FINGERPRINT_TAG = "training_fingerprint"  # on a registered version and its MLflow run
UNCHANGED_AS_TAG = "unchanged_as_version"  # on the MLflow run of a training that found its fingerprint registered


@dataclass(frozen=True)
class RegisteredVersion:
    """A registered version found by its training fingerprint, with the validation AUPRC its run logged."""

    version: str
    run_id: str
    validation_auprc: float


def ensure_experiment(tracking_uri: str, experiment_name: str, artifact_location: str) -> str:
    """The experiment's id, creating it with its artifacts under `artifact_location` when it does not exist."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is not None:
        return experiment.experiment_id
    return client.create_experiment(experiment_name, artifact_location=Path(artifact_location).resolve().as_uri())


class ModelRegistry(dg.ConfigurableResource):
    """MLflow registry plus the BentoML model store that serves the champion."""

    tracking_uri: str
    registered_model_name: str = MODEL_NAME
    bentoml_home: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelRegistry:
        return cls(tracking_uri=settings.tracking_uri, bentoml_home=str(settings.model_store_home))

    def _client(self):
        from mlflow.tracking import MlflowClient

        return MlflowClient(self.tracking_uri)

    def champion_version(self) -> str | None:
        from mlflow.exceptions import MlflowException

        try:
            return str(self._client().get_model_version_by_alias(self.registered_model_name, CHAMPION_ALIAS).version)
        except MlflowException:
            return None

    def version_trained_on(self, fingerprint: str) -> RegisteredVersion | None:
        """The newest registered version whose training fingerprint is `fingerprint`, or None."""
        client = self._client()
        versions = client.search_model_versions(
            f"name = '{self.registered_model_name}' and tags.{FINGERPRINT_TAG} = '{fingerprint}'")
        if not versions:
            return None
        newest = max(versions, key=lambda model_version: int(model_version.version))
        metrics = client.get_run(newest.run_id).data.metrics
        return RegisteredVersion(str(newest.version), newest.run_id, metrics.get("validation_auprc", math.nan))

    def tag_run(self, run_id: str, tags: dict[str, str]) -> None:
        """Tag an MLflow run (the training run's fingerprint, or the version an unchanged training stands for)."""
        client = self._client()
        for key, value in tags.items():
            client.set_tag(run_id, key, value)

    def load_version(self, version: str) -> tuple[xgb.Booster, ModelCard, pd.DataFrame]:
        """A registered version's booster, model card (with its MLflow run id) and reference sample."""
        import mlflow.xgboost

        client = self._client()
        model_version = client.get_model_version(self.registered_model_name, version)
        with tempfile.TemporaryDirectory() as scratch:
            card_path = client.download_artifacts(model_version.run_id, MODEL_CARD_ARTIFACT, scratch)
            card = ModelCard.from_dict({**json.loads(Path(card_path).read_text()),
                                        "mlflow_run_id": model_version.run_id})
            sample_path = client.download_artifacts(model_version.run_id, REFERENCE_SAMPLE_FILE, scratch)
            reference_sample = pd.read_parquet(sample_path)
        booster = mlflow.xgboost.load_model(f"models:/{self.registered_model_name}/{version}")
        return booster, card, reference_sample

    def promote(self, version: str) -> ModelCard:
        """Make a registered version the champion: MLflow alias, then a new entry in the BentoML model store."""
        booster, card, reference_sample = self.load_version(version)
        card = card.promoted(str(version), datetime.now(timezone.utc).isoformat(timespec="seconds"))
        self._client().set_registered_model_alias(self.registered_model_name, CHAMPION_ALIAS, str(version))
        save_served_model(self.bentoml_home, self.registered_model_name, booster, card, reference_sample)
        return card

    def load_champion(self) -> ChampionModel | None:
        """The model the service serves: the newest entry of the BentoML store, or None before the first promotion."""
        return load_served_model(self.bentoml_home, self.registered_model_name)
