"""The model registry (MLflow) and the served-model store (`fraud_assets/core/served_models.py`), behind one typed
resource.

MLflow holds every trained version and the `champion` alias. The served-model store holds what the service serves:
promoting a version (or rolling back to one) saves it there with its model card (threshold, feature list, training
window, metrics, MLflow run id) and a reference sample of its training data: as the newest `fraud_model` entry of the
local BentoML store, or, in the team deployment (`database_url` set), as a new row of the team database's
`fraud_online.champion_promotions`, which every service replica polls. Every version carries its training
fingerprint (tag `training_fingerprint`, on the version and on its MLflow run), so that a training whose fingerprint
is already registered reuses that version instead of registering the same model again. MLflow is imported inside the
methods that use it: loading the definitions does not pay for it.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import dagster as dg
import pandas as pd
import xgboost as xgb
from pydantic import Field

from fraud_assets.core.database import DATABASE_URL_ENV, DatabaseUrl
from fraud_assets.core.model_card import ModelCard
from fraud_assets.core.served_models import (
    CHAMPION_ALIAS,
    MODEL_NAME,
    REFERENCE_SAMPLE_FILE,
    ChampionModel,
    complete_served_entries,
    load_served_model,
    newest_published_champion,
    promoted_versions,
    publish_champion,
    save_served_model,
)
from fraud_assets.core.settings import Settings

MODEL_CARD_ARTIFACT = "model_card.json"
ARCHIVED_TAG = "archived"  # on a registered version past the registry's retention: "true", and the date it was set
FINGERPRINT_TAG = "training_fingerprint"  # on a registered version and its MLflow run
UNCHANGED_AS_TAG = "unchanged_as_version"  # on the MLflow run of a training that found its fingerprint registered


@dataclass(frozen=True)
class RegisteredVersion:
    """A registered version found by its training fingerprint, with the validation AUPRC its run logged."""

    version: str
    run_id: str
    validation_auprc: float


def ensure_experiment(tracking_uri: str, experiment_name: str, artifact_location: str) -> str:
    """The experiment's id, creating it when it does not exist.

    Against a tracking server (http or https) the experiment takes the server's default, `mlflow-artifacts:/`:
    clients on any host upload through the server, which keeps the files under its artifacts destination (the
    shared path); `artifact_location` is not used. Against a local store (sqlite) its artifacts go under
    `artifact_location`, where MLflow would otherwise use ./mlruns of whatever directory a run starts in."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is not None:
        return experiment.experiment_id
    if tracking_uri.startswith(("http://", "https://")):
        return client.create_experiment(experiment_name)
    return client.create_experiment(experiment_name, artifact_location=Path(artifact_location).resolve().as_uri())


class ModelRegistry(dg.ConfigurableResource):
    """MLflow registry plus the served-model store: the local BentoML store, or the team database's champion table."""

    tracking_uri: str
    registered_model_name: str = MODEL_NAME
    bentoml_home: str
    database_url: Optional[str] = Field(
        default=None, description="The team database (postgresql://...; give it as an EnvVar so the UI never shows "
                                  "the password): promotions go to its fraud_online.champion_promotions, which every "
                                  "service replica reads; unset, to the BentoML store under `bentoml_home`.")

    @classmethod
    def from_settings(cls, settings: Settings, database_url_as_env_var: bool = False) -> ModelRegistry:
        """The registry of `settings`; with `database_url_as_env_var` (the Dagster definitions) the team database's
        URL is given as `dg.EnvVar("FRAUD_DATABASE_URL")`, so that the UI shows the variable, not the password."""
        database_url = None
        if settings.database is not None:
            database_url = dg.EnvVar(DATABASE_URL_ENV) if database_url_as_env_var else settings.database.url
        return cls(tracking_uri=settings.tracking_uri, bentoml_home=str(settings.model_store_home),
                   database_url=database_url)

    @property
    def _database(self) -> DatabaseUrl | None:
        return DatabaseUrl.parse(self.database_url) if self.database_url else None

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
        """A registered version's booster, model card (with its MLflow run id) and reference sample.

        Everything is read through this registry's tracking URI, never MLflow's process-wide one: the rollback
        command runs outside any Dagster run, where that would be MLflow's default store in the current folder.
        """
        import mlflow.artifacts
        import mlflow.xgboost

        client = self._client()
        model_version = client.get_model_version(self.registered_model_name, version)
        with tempfile.TemporaryDirectory() as scratch:
            card_path = client.download_artifacts(model_version.run_id, MODEL_CARD_ARTIFACT, scratch)
            card = ModelCard.from_dict({**json.loads(Path(card_path).read_text()),
                                        "mlflow_run_id": model_version.run_id})
            sample_path = client.download_artifacts(model_version.run_id, REFERENCE_SAMPLE_FILE, scratch)
            reference_sample = pd.read_parquet(sample_path)
            # Where the version's files are, asked of this registry (`models:/name/version` would be resolved
            # against the process-wide URI, whatever the arguments say).
            model_path = mlflow.artifacts.download_artifacts(
                client.get_model_version_download_uri(self.registered_model_name, version),
                dst_path=str(Path(scratch) / "model"), tracking_uri=self.tracking_uri)
            booster = mlflow.xgboost.load_model(model_path)
        return booster, card, reference_sample

    def promote(self, version: str) -> ModelCard:
        """Make a registered version the champion: MLflow alias, then a new row of the team database's champion table
        (team deployment) or a new entry in the BentoML model store."""
        booster, card, reference_sample = self.load_version(version)
        card = card.promoted(str(version), datetime.now(timezone.utc).isoformat(timespec="seconds"))
        self._client().set_registered_model_alias(self.registered_model_name, CHAMPION_ALIAS, str(version))
        database = self._database
        if database is not None:
            publish_champion(database, self.registered_model_name, booster, card, reference_sample)
        else:
            save_served_model(self.bentoml_home, self.registered_model_name, booster, card, reference_sample)
        return card

    def served_versions(self) -> set[str]:
        """The versions the served-model store still holds (the champion and the ones before it: what a rollback
        or a replica's fallback returns to)."""
        database = self._database
        if database is not None:
            return promoted_versions(database, self.registered_model_name)
        return {entry.info.metadata.get("version") or "" for entry in
                complete_served_entries(self.bentoml_home, self.registered_model_name)} - {""}

    def archive_versions(self, keep: int) -> tuple[list[str], list[str]]:
        """Tag `archived` on every registered version past the newest `keep`, except the champion and the versions
        the served-model store holds; nothing is deleted, so `rollback --version` still finds an archived one.
        Returns (the versions archived now, the versions kept). Reads the registry's versions: a few a year."""
        client = self._client()
        versions = sorted(client.search_model_versions(f"name = '{self.registered_model_name}'"),
                          key=lambda model_version: int(model_version.version))
        protected = {str(version.version) for version in versions[-keep:]} if keep > 0 else set()
        protected |= self.served_versions() | ({self.champion_version()} - {None})
        archived_now = []
        today = datetime.now(timezone.utc).date().isoformat()
        for version in versions:
            number = str(version.version)
            if number in protected:
                if ARCHIVED_TAG in version.tags:  # served again (a rollback): no longer archived
                    client.delete_model_version_tag(self.registered_model_name, number, ARCHIVED_TAG)
            elif ARCHIVED_TAG not in version.tags:
                client.set_model_version_tag(self.registered_model_name, number, ARCHIVED_TAG, f"true ({today})")
                archived_now.append(number)
        return archived_now, sorted(protected, key=int)

    def load_champion(self) -> ChampionModel | None:
        """The model the service serves: the team database's newest promotion, or the newest entry of the BentoML
        store; None before the first promotion."""
        database = self._database
        if database is not None:
            return newest_published_champion(database, self.registered_model_name)
        return load_served_model(self.bentoml_home, self.registered_model_name)
