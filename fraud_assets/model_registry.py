"""The model registry (MLflow) and the served-model store (BentoML), behind one typed resource.

MLflow holds every trained version and the `champion` alias. The BentoML model store holds what the service
serves: promoting a version (or rolling back to one) saves it there as the newest `fraud_model` entry, with its
threshold, feature list, training window, metrics, MLflow run id and a reference sample of its training data.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import mlflow
import pandas as pd
import xgboost as xgb
from mlflow.tracking import MlflowClient

CHAMPION_ALIAS = "champion"
BOOSTER_FILE = "booster.json"
REFERENCE_SAMPLE_FILE = "reference_sample.parquet"
MODEL_CARD_ARTIFACT = "model_card.json"


@dataclass
class ChampionModel:
    """A promoted model as the service and batch scoring use it."""

    booster: xgb.Booster
    version: str
    threshold: float
    feature_columns: list[str]
    card: dict
    reference_sample: pd.DataFrame


def ensure_experiment(tracking_uri: str, experiment_name: str, artifact_location: str) -> str:
    """The experiment's id, creating it with its artifacts under `artifact_location` when it does not exist."""
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is not None:
        return experiment.experiment_id
    return client.create_experiment(experiment_name, artifact_location=Path(artifact_location).resolve().as_uri())


class ModelRegistry(dg.ConfigurableResource):
    """MLflow registry plus the BentoML model store that serves the champion."""

    tracking_uri: str
    registered_model_name: str = "fraud_model"
    bentoml_home: str

    def _client(self) -> MlflowClient:
        return MlflowClient(self.tracking_uri)

    def _model_store(self):
        # BentoML's public API reads the store from BENTOML_HOME at import time; an explicit store lets the
        # pipeline (and each test) use its own folder.
        from bentoml._internal.models.model import ModelStore

        models_dir = Path(self.bentoml_home) / "models"
        models_dir.mkdir(parents=True, exist_ok=True)
        return ModelStore(str(models_dir))

    def champion_version(self) -> str | None:
        try:
            return str(self._client().get_model_version_by_alias(self.registered_model_name, CHAMPION_ALIAS).version)
        except mlflow.exceptions.MlflowException:
            return None

    def load_version(self, version: str) -> tuple[xgb.Booster, dict]:
        """A registered version's booster and model card (threshold, features, window, metrics)."""
        client = self._client()
        model_version = client.get_model_version(self.registered_model_name, version)
        with tempfile.TemporaryDirectory() as scratch:
            card_path = client.download_artifacts(model_version.run_id, MODEL_CARD_ARTIFACT, scratch)
            card = json.loads(Path(card_path).read_text())
            sample_path = client.download_artifacts(model_version.run_id, REFERENCE_SAMPLE_FILE, scratch)
            card["_reference_sample"] = pd.read_parquet(sample_path)
        booster = mlflow.xgboost.load_model(f"models:/{self.registered_model_name}/{version}")
        return booster, card

    def promote(self, version: str) -> dict:
        """Make a registered version the champion: MLflow alias, then a new entry in the BentoML model store."""
        import bentoml

        booster, card = self.load_version(version)
        reference_sample = card.pop("_reference_sample")
        promoted_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        card = {**card, "version": str(version), "promoted_at": promoted_at}
        self._client().set_registered_model_alias(self.registered_model_name, CHAMPION_ALIAS, str(version))
        with bentoml.models.create(
            self.registered_model_name,
            labels={"mlflow_version": str(version), "stage": CHAMPION_ALIAS},
            metadata=card,
            _model_store=self._model_store(),
        ) as model:
            booster.save_model(model.path_of(BOOSTER_FILE))
            reference_sample.to_parquet(model.path_of(REFERENCE_SAMPLE_FILE), index=False)
        return card

    def load_champion(self) -> ChampionModel | None:
        """The newest promoted model from the BentoML store, or None before the first promotion."""
        from bentoml.exceptions import NotFound

        try:
            entries = self._model_store().list(self.registered_model_name)
        except NotFound:
            return None
        newest = max(entries, key=lambda model: model.info.creation_time)
        booster = xgb.Booster()
        booster.load_model(newest.path_of(BOOSTER_FILE))
        card = dict(newest.info.metadata)
        return ChampionModel(
            booster=booster,
            version=str(card["version"]),
            threshold=float(card["threshold"]),
            feature_columns=list(card["feature_columns"]),
            card=card,
            reference_sample=pd.read_parquet(newest.path_of(REFERENCE_SAMPLE_FILE)),
        )

