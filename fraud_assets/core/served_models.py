"""The served-model store: the BentoML model store whose newest `fraud_model` entry is the champion.

Light on purpose (xgboost, pandas, BentoML's store): the scoring service's workers import it at start-up, without
Dagster or MLflow. Promotion and rollback write to it through
`fraud_assets.defs.resources.model_registry.ModelRegistry`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xgboost as xgb

from fraud_assets.core.bentoml_compat import MODEL_YAML_FILENAME, create_model, model_store, model_tag
from fraud_assets.core.model_card import ModelCard

MODEL_NAME = "fraud_model"  # the registered model in MLflow and its entries in the served-model store
CHAMPION_ALIAS = "champion"
BOOSTER_FILE = "booster.json"
REFERENCE_SAMPLE_FILE = "reference_sample.parquet"
ENTRY_FILES = (MODEL_YAML_FILENAME, BOOSTER_FILE, REFERENCE_SAMPLE_FILE)  # an entry with all three is complete


@dataclass
class ChampionModel:
    """A promoted model as the service and batch scoring use it."""

    booster: xgb.Booster
    version: str
    threshold: float
    feature_columns: list[str]
    card: ModelCard
    reference_sample: pd.DataFrame


def served_model_store(bentoml_home: str | Path):
    """The BentoML model store under `bentoml_home`.

    BentoML's public API reads the store from BENTOML_HOME once, at import; an explicit store lets the pipeline,
    the service and each test name their own folder.
    """
    models_dir = Path(bentoml_home) / "models"
    models_dir.mkdir(parents=True, exist_ok=True)
    return model_store(models_dir)


def save_served_model(bentoml_home: str | Path, name: str, booster: xgb.Booster, card: ModelCard,
                      reference_sample: pd.DataFrame) -> str:
    """Save a model as the newest entry `name` of the BentoML store, its card (with its version) as the entry's
    metadata; returns its BentoML tag."""
    if card.version is None:
        raise ValueError("only a promoted model card (with its version) can be served")
    labels = {"mlflow_version": card.version, "stage": CHAMPION_ALIAS}
    with create_model(name, served_model_store(bentoml_home), labels, card.to_dict()) as model:
        booster.save_model(model.path_of(BOOSTER_FILE))
        reference_sample.to_parquet(model.path_of(REFERENCE_SAMPLE_FILE), index=False)
    return str(model.tag)


def complete_served_entries(bentoml_home: str | Path, name: str) -> list:
    """The entries `name` of the store that were written to the end, oldest first.

    An entry whose folder lacks BentoML's model.yaml, the booster or the reference sample is one being written now,
    or one whose writer was killed: BentoML removes a failed entry only when the writer raises. Such folders are
    skipped; BentoML's own listing fails on the first of them, so one killed promotion would hide every later one.
    """
    store = served_model_store(bentoml_home)
    entries_dir = Path(bentoml_home) / "models" / name
    if not entries_dir.is_dir():
        return []
    entries = []
    for folder in sorted(path for path in entries_dir.iterdir() if path.is_dir()):
        if not all((folder / file).is_file() for file in ENTRY_FILES):
            continue
        try:
            entries.append(store.get(model_tag(name, folder.name)))
        except Exception:  # a model.yaml cut short by a killed writer does not parse
            continue
    return sorted(entries, key=lambda model: model.info.creation_time)


def served_entries_signature(bentoml_home: str | Path, name: str) -> tuple:
    """A cheap fingerprint of the entries `name` of the store: each entry folder with the modification times of the
    files that make it complete. It changes when an entry is added, completed, rewritten or removed, so a poller can
    skip `newest_served_tag` (which parses every entry's model.yaml: about 3 ms each) while it stays the same."""
    entries_dir = Path(bentoml_home) / "models" / name
    try:
        folders = sorted(entry.name for entry in os.scandir(entries_dir) if entry.is_dir())
    except FileNotFoundError:
        return ()
    return tuple((folder, *(_mtime_ns(entries_dir / folder / file) for file in ENTRY_FILES)) for folder in folders)


def _mtime_ns(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


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
    card = ModelCard.from_dict(dict(model.info.metadata))
    return ChampionModel(
        booster=booster,
        version=card.version,
        threshold=float(card.threshold),
        feature_columns=list(card.feature_columns),
        card=card,
        reference_sample=pd.read_parquet(model.path_of(REFERENCE_SAMPLE_FILE)),
    )
