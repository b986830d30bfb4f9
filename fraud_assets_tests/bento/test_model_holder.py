"""The model holder (hot swap) on its own: broken entries, partly written entries, the cross-worker reload marker,
the packed store, and the team database as the champion's source."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bento.model_holder import ModelHolder
from fraud_assets.cli.local_postgres import free_port
from fraud_assets.core.bentoml_compat import create_model
from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.served_models import (
    ChampionPromotion,
    cached_promotion_tag,
    complete_served_entries,
    load_published_champion,
    load_served_model,
    newest_champion_promotion,
    newest_served_tag,
    publish_champion,
    served_model_store,
)


def copy_store(source, target):
    shutil.copytree(source / "models", target / "models")
    return target


def save_broken_entry(home, champion, version: str) -> None:
    """A newer, complete `fraud_model` entry whose booster file is garbage (a failed or foreign write)."""
    with create_model("fraud_model", served_model_store(home), {}, champion.card(version).to_dict()) as model:
        Path(model.path_of("booster.json")).write_text("{not a booster")
        champion.reference_sample.to_parquet(model.path_of("reference_sample.parquet"), index=False)


def test_a_broken_newer_entry_keeps_the_current_model_until_a_good_one_comes(tmp_path, model_home, trained_champion):
    home = copy_store(model_home, tmp_path)
    holder = ModelHolder([home])
    assert holder.refresh().current.version == "1"
    save_broken_entry(home, trained_champion, "2")
    assert holder.refresh_quietly() is False  # logs the error
    assert holder.current.version == "1"
    trained_champion.save(home, "3")
    outcome = holder.refresh()
    assert (outcome.changed, outcome.previous.version, outcome.current.version) == (True, "1", "3")
    assert holder.refresh().changed is False


def test_entries_written_only_in_part_are_skipped_and_hide_no_later_promotion(tmp_path, model_home, trained_champion):
    home = copy_store(model_home, tmp_path)
    served = newest_served_tag(home, "fraud_model")
    entries = home / "models" / "fraud_model"
    # A promotion killed before BentoML wrote model.yaml; one killed while writing it; one without its booster.
    (entries / "killedbeforeyaml").mkdir()
    (entries / "killedbeforeyaml" / "booster.json").write_text("{")
    cut_short = entries / "killedinyaml"
    shutil.copytree(entries / served.split(":")[1], cut_short)
    (cut_short / "model.yaml").write_text("name: fraud_model\nversion: killedinyaml\ncreation_time: [")
    without_booster = entries / "withoutbooster"
    shutil.copytree(entries / served.split(":")[1], without_booster)
    (without_booster / "booster.json").unlink()
    with pytest.raises(Exception):  # what BentoML's own listing does with such a folder
        served_model_store(home).list("fraud_model")

    assert newest_served_tag(home, "fraud_model") == served
    assert load_served_model(home, "fraud_model").version == "1"
    holder = ModelHolder([home])
    assert holder.refresh().current.version == "1"
    newer = trained_champion.save(home, "2")  # a later promotion is seen despite the debris
    assert newest_served_tag(home, "fraud_model") == newer
    outcome = holder.refresh()
    assert (outcome.changed, outcome.current.version, outcome.current.tag) == (True, "2", newer)
    assert load_served_model(home, "fraud_model", served).version == "1"  # an older entry, by its tag


def test_the_reload_marker_makes_other_holders_check_the_store_at_once(tmp_path, model_home, trained_champion):
    home = copy_store(model_home, tmp_path)
    marker = tmp_path / "data" / "fraud_service.reload"
    other_worker = ModelHolder([home], poll_seconds=3600, reload_marker=marker)
    other_worker.refresh()
    other_worker.start()
    try:
        trained_champion.save(home, "2")
        time.sleep(1.0)
        assert other_worker.current.version == "1"  # its next poll is an hour away
        ModelHolder([home], reload_marker=marker).request_reload_everywhere()
        deadline = time.monotonic() + 10
        while other_worker.current.version != "2" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert other_worker.current.version == "2"
    finally:
        other_worker.stop()


def test_a_packed_store_is_used_only_when_the_configured_one_is_empty(tmp_path, model_home, trained_champion):
    configured, packed = tmp_path / "configured", copy_store(model_home, tmp_path / "packed")
    holder = ModelHolder([configured, packed])
    assert holder.refresh().current.home == packed
    trained_champion.save(configured, "7")
    assert holder.refresh().current.version == "7"


def test_the_store_is_parsed_again_only_when_its_entries_change(tmp_path, model_home, trained_champion, monkeypatch):
    """Polls of an unchanged store cost a few stat calls, not a parse of every entry's model.yaml."""
    import bento.model_holder

    home = copy_store(model_home, tmp_path)
    parses: list[Path] = []

    def counting_newest_served_tag(bentoml_home, name):
        parses.append(Path(bentoml_home))
        return newest_served_tag(bentoml_home, name)

    monkeypatch.setattr(bento.model_holder, "newest_served_tag", counting_newest_served_tag)
    holder = ModelHolder([home])
    assert holder.refresh().current.version == "1"
    for _ in range(5):
        assert holder.refresh().changed is False
    assert len(parses) == 1
    trained_champion.save(home, "2")
    outcome = holder.refresh()
    assert (outcome.changed, outcome.current.version) == (True, "2")
    assert len(parses) == 2
    shutil.rmtree(home / "models" / "fraud_model" / outcome.current.tag.split(":")[1])  # the newest entry removed
    assert holder.newest()[1] != outcome.current.tag  # noticed without any other change
    assert len(parses) == 3


def test_the_team_database_champion_is_cached_on_the_host_and_served_while_the_database_is_down(
        tmp_path, postgres_database, trained_champion):
    database = DatabaseUrl.parse(postgres_database)
    host = tmp_path / "host_a" / "bentoml"
    holder = ModelHolder([host], database=database)
    assert holder.refresh().current is None
    assert "fraud_online.champion_promotions of postgresql://fraud:***@" in holder.no_model_message()

    def publish(version: str) -> int:
        return publish_champion(database, "fraud_model", trained_champion.booster, trained_champion.card(version),
                                trained_champion.reference_sample)

    first = publish("1")
    assert newest_champion_promotion(database, "fraud_model") == ChampionPromotion(first, "1")
    outcome = holder.refresh()
    assert (outcome.changed, outcome.current.version, outcome.current.home) == (True, "1", host)
    assert cached_promotion_tag(host, "fraud_model", first) == outcome.current.tag  # cached in this host's store
    second = publish("2")
    assert holder.refresh().current.version == "2"
    rolled_back = publish("1")  # a rollback is a promotion of an older version
    outcome = holder.refresh()
    assert (outcome.changed, outcome.current.version) == (True, "1")
    assert cached_promotion_tag(host, "fraud_model", rolled_back) == outcome.current.tag
    assert holder.refresh().changed is False
    assert second > first and rolled_back > second

    served = load_published_champion(database, second)
    np.testing.assert_array_equal(served.booster.inplace_predict(trained_champion.reference_sample),
                                  trained_champion.booster.inplace_predict(trained_champion.reference_sample))
    pd.testing.assert_frame_equal(served.reference_sample, trained_champion.reference_sample.reset_index(drop=True))

    down = DatabaseUrl.parse(f"postgresql://fraud:pw@127.0.0.1:{free_port()}/fraud")
    restarted = ModelHolder([host], database=down)  # a worker of the same host starting while the database is down
    assert restarted.refresh_quietly() is True
    assert (restarted.current.version, restarted.current.tag) == ("1", outcome.current.tag)
    assert restarted.refresh_quietly() is False  # a failed check keeps the model it serves
    assert restarted.current.version == "1"
    assert ModelHolder([tmp_path / "host_b"], database=down).refresh_quietly() is False  # nothing cached there


def test_a_replica_keeps_only_its_newest_cached_champions(tmp_path, postgres_database, trained_champion):
    database = DatabaseUrl.parse(postgres_database)
    host = tmp_path / "host" / "bentoml"
    holder = ModelHolder([host], database=database, cache_kept=3)
    for version in range(1, 7):
        publish_champion(database, "fraud_model", trained_champion.booster, trained_champion.card(str(version)),
                         trained_champion.reference_sample)
        assert holder.refresh().current.version == str(version)
    cached = complete_served_entries(host, "fraud_model")
    assert [entry.info.metadata["version"] for entry in cached] == ["4", "5", "6"]
    assert holder.current.tag == str(cached[-1].tag)
