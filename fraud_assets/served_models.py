"""The served-model store: the BentoML model store whose newest `fraud_model` entry is the champion.

Light on purpose (xgboost, pandas, BentoML's store): the scoring service's workers import it at start-up, without
Dagster or MLflow. Promotion and rollback write to it through `fraud_assets.model_registry.ModelRegistry`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xgboost as xgb

CHAMPION_ALIAS = "champion"
BOOSTER_FILE = "booster.json"
REFERENCE_SAMPLE_FILE = "reference_sample.parquet"


@dataclass
class ChampionModel:
    """A promoted model as the service and batch scoring use it."""

    booster: xgb.Booster
    version: str
    threshold: float
    feature_columns: list[str]
    card: dict
    reference_sample: pd.DataFrame


def served_model_store(bentoml_home: str | Path):
    """The BentoML model store under `bentoml_home`.

    BentoML's public API reads the store from BENTOML_HOME once, at import; an explicit store lets the pipeline,
    the service and each test name their own folder.
    """
    from bentoml._internal.models.model import ModelStore

    models_dir = Path(bentoml_home) / "models"
    models_dir.mkdir(parents=True, exist_ok=True)
    return ModelStore(str(models_dir))


def save_served_model(bentoml_home: str | Path, name: str, booster: xgb.Booster, card: dict,
                      reference_sample: pd.DataFrame) -> str:
    """Save a model as the newest entry `name` of the BentoML store; returns its BentoML tag.

    `card` must hold at least version, threshold and feature_columns (JSON-able values only).
    """
    import bentoml

    with bentoml.models.create(
        name,
        labels={"mlflow_version": str(card["version"]), "stage": CHAMPION_ALIAS},
        metadata=card,
        _model_store=served_model_store(bentoml_home),
    ) as model:
        booster.save_model(model.path_of(BOOSTER_FILE))
        reference_sample.to_parquet(model.path_of(REFERENCE_SAMPLE_FILE), index=False)
    return str(model.tag)


def complete_served_entries(bentoml_home: str | Path, name: str) -> list:
    """The entries `name` of the store that were written to the end, oldest first.

    An entry whose folder lacks BentoML's model.yaml, the booster or the reference sample is one being written now,
    or one whose writer was killed: BentoML removes a failed entry only when the writer raises. Such folders are
    skipped; BentoML's own listing fails on the first of them, so one killed promotion would hide every later one.
    """
    from bentoml._internal.models.model import MODEL_YAML_FILENAME
    from bentoml._internal.tag import Tag

    store = served_model_store(bentoml_home)
    entries_dir = Path(bentoml_home) / "models" / name
    if not entries_dir.is_dir():
        return []
    entries = []
    for folder in sorted(path for path in entries_dir.iterdir() if path.is_dir()):
        if not all((folder / file).is_file() for file in (MODEL_YAML_FILENAME, BOOSTER_FILE, REFERENCE_SAMPLE_FILE)):
            continue
        try:
            entries.append(store.get(Tag(name, folder.name)))
        except Exception:  # a model.yaml cut short by a killed writer does not parse
            continue
    return sorted(entries, key=lambda model: model.info.creation_time)


def newest_served_tag(bentoml_home: str | Path, name: str) -> str | None:
    """The BentoML tag of the newest complete entry `name` (the champion), or None before the first promotion."""
    entries = complete_served_entries(bentoml_home, name)
    return str(entries[-1].tag) if entries else None


def load_served_model(bentoml_home: str | Path, name: str, tag: str | None = None) -> ChampionModel | None:
    """The entry `tag` of the store, by default the newest complete entry `name` (the champion); None when the
    store holds no complete entry."""
    tag = tag or newest_served_tag(bentoml_home, name)
    if tag is None:
        return None
    model = served_model_store(bentoml_home).get(tag)
    booster = xgb.Booster()
    booster.load_model(model.path_of(BOOSTER_FILE))
    card = dict(model.info.metadata)
    return ChampionModel(
        booster=booster,
        version=str(card["version"]),
        threshold=float(card["threshold"]),
        feature_columns=list(card["feature_columns"]),
        card=card,
        reference_sample=pd.read_parquet(model.path_of(REFERENCE_SAMPLE_FILE)),
    )
