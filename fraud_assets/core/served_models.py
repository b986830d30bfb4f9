"""The served-model store: where the champion lives for the scoring service and batch scoring.

Embedded deployment: the BentoML model store under the data folder, whose newest complete `fraud_model` entry is the
champion. Team deployment (FRAUD_DATABASE_URL): table `fraud_online.champion_promotions` of the team database, one row
per promotion or rollback (booster, model card, reference sample), the newest row per model name being the champion.
Every service replica reads that table, so no folder is shared between hosts; each replica caches the champion it
loads as an entry of its own BentoML store (see `bento/model_holder.py`). The registry's MLflow alias names the same
version, but the service does not read MLflow: its workers stay free of MLflow, and one row holds everything a worker
needs in one read.

Light on purpose (xgboost, pandas, BentoML's store; psycopg2 only when the team database is used): the scoring
service's workers import it at start-up, without Dagster or MLflow. Promotion and rollback write to it through
`fraud_assets.defs.resources.model_registry.ModelRegistry`.
"""

from __future__ import annotations

import io
import json
import os
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xgboost as xgb

from fraud_assets.core.bentoml_compat import MODEL_YAML_FILENAME, create_model, model_store, model_tag
from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.model_card import ModelCard
from fraud_assets.core.online_db import ONLINE_SCHEMA, connect_online

MODEL_NAME = "fraud_model"  # the registered model in MLflow and its entries in the served-model store
CHAMPION_ALIAS = "champion"
BOOSTER_FILE = "booster.json"
REFERENCE_SAMPLE_FILE = "reference_sample.parquet"
ENTRY_FILES = (MODEL_YAML_FILENAME, BOOSTER_FILE, REFERENCE_SAMPLE_FILE)  # an entry with all three is complete
PROMOTION_ID_LABEL = "promotion_id"  # on a store entry cached from the team database: the row it was loaded from

CHAMPION_PROMOTIONS_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {ONLINE_SCHEMA}.champion_promotions (
    promotion_id      BIGSERIAL   PRIMARY KEY,
    model_name        TEXT        NOT NULL,
    version           TEXT        NOT NULL,
    card_json         TEXT        NOT NULL,
    booster           BYTEA       NOT NULL,  -- XGBoost's UBJSON model format
    reference_sample  BYTEA       NOT NULL,  -- Parquet
    promoted_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS champion_promotions_newest ON {ONLINE_SCHEMA}.champion_promotions
    (model_name, promotion_id DESC);
"""


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
                      reference_sample: pd.DataFrame, promotion_id: int | None = None) -> str:
    """Save a model as the newest entry `name` of the BentoML store, its card (with its version) as the entry's
    metadata; returns its BentoML tag. `promotion_id` labels an entry cached from the team database's row."""
    if card.version is None:
        raise ValueError("only a promoted model card (with its version) can be served")
    labels = {"mlflow_version": card.version, "stage": CHAMPION_ALIAS}
    if promotion_id is not None:
        labels[PROMOTION_ID_LABEL] = str(promotion_id)
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


def cached_promotion_tag(bentoml_home: str | Path, name: str, promotion_id: int) -> str | None:
    """The tag of the newest complete entry `name` cached from the team database's promotion `promotion_id`."""
    for entry in reversed(complete_served_entries(bentoml_home, name)):
        if entry.info.labels.get(PROMOTION_ID_LABEL) == str(promotion_id):
            return str(entry.tag)
    return None


@dataclass(frozen=True)
class ChampionPromotion:
    """A row of `fraud_online.champion_promotions`, without its model: what a poller compares."""

    promotion_id: int
    version: str


def connect_champion_promotions(database: DatabaseUrl, timeout_seconds: int = 10):
    """A psycopg2 connection to the team database, the promotions table created on first use."""
    return connect_online(database, "champion_promotions", CHAMPION_PROMOTIONS_SCHEMA, timeout_seconds)


def publish_champion(database: DatabaseUrl, name: str, booster: xgb.Booster, card: ModelCard,
                     reference_sample: pd.DataFrame) -> int:
    """Make a promoted model the champion `name` of the team database (one row, one transaction); returns the row's
    promotion id. Every replica of the service serves it after its next poll."""
    if card.version is None:
        raise ValueError("only a promoted model card (with its version) can be served")
    sample = io.BytesIO()
    reference_sample.to_parquet(sample, index=False)
    with closing(connect_champion_promotions(database)) as connection, connection, connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ONLINE_SCHEMA}.champion_promotions (model_name, version, card_json, booster, "
            "reference_sample) VALUES (%s, %s, %s, %s, %s) RETURNING promotion_id",
            (name, card.version, json.dumps(card.to_dict()), bytes(booster.save_raw("ubj")), sample.getvalue()))
        return int(cursor.fetchone()[0])


def newest_champion_promotion(database: DatabaseUrl, name: str, timeout_seconds: int = 10) -> ChampionPromotion | None:
    """The id and version of the champion `name` of the team database (its newest promotion), or None before the
    first one. One indexed row, no model bytes: cheap enough to poll every few seconds."""
    with closing(connect_champion_promotions(database, timeout_seconds)) as connection:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT promotion_id, version FROM {ONLINE_SCHEMA}.champion_promotions "
                           "WHERE model_name = %s ORDER BY promotion_id DESC LIMIT 1", (name,))
            row = cursor.fetchone()
        connection.rollback()
    return None if row is None else ChampionPromotion(int(row[0]), str(row[1]))


def load_published_champion(database: DatabaseUrl, promotion_id: int) -> ChampionModel:
    """The model of promotion `promotion_id` of the team database; a LookupError when there is no such row."""
    with closing(connect_champion_promotions(database)) as connection:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT card_json, booster, reference_sample FROM {ONLINE_SCHEMA}.champion_promotions "
                           "WHERE promotion_id = %s", (promotion_id,))
            row = cursor.fetchone()
        connection.rollback()
    if row is None:
        raise LookupError(f"no promotion {promotion_id} in {ONLINE_SCHEMA}.champion_promotions of "
                          f"{database.masked_url}")
    card_json, booster_bytes, sample_bytes = row
    booster = xgb.Booster()
    booster.load_model(bytearray(booster_bytes))
    card = ModelCard.from_dict(json.loads(card_json))
    return ChampionModel(booster=booster, version=card.version, threshold=float(card.threshold),
                         feature_columns=list(card.feature_columns), card=card,
                         reference_sample=pd.read_parquet(io.BytesIO(bytes(sample_bytes))))


def newest_published_champion(database: DatabaseUrl, name: str) -> ChampionModel | None:
    """The champion `name` of the team database, or None before the first promotion."""
    promotion = newest_champion_promotion(database, name)
    return None if promotion is None else load_published_champion(database, promotion.promotion_id)


def promoted_versions(database: DatabaseUrl, name: str) -> set[str]:
    """The versions of the promotions `name` the team database's champion table holds (retention keeps a few)."""
    with closing(connect_champion_promotions(database)) as connection:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT DISTINCT version FROM {ONLINE_SCHEMA}.champion_promotions WHERE model_name = %s",
                           (name,))
            rows = cursor.fetchall()
        connection.rollback()
    return {str(row[0]) for row in rows}
