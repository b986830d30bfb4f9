"""The BentoML internals this project relies on, in one place (pinned by the `bentoml<1.5` bound).

- `model_store(folder)` and `create_model(..., store)`: a model store at an explicit folder, and a new entry in it.
  BentoML's public API reads BENTOML_HOME once, at import; an explicit store lets the pipeline, the service and
  each test name their own folder (`bentoml.models.create` takes it as the private `_model_store` argument).
- `MODEL_YAML_FILENAME` and `model_tag`: to tell a complete store entry from one still being written.
- `io_descriptor(annotation)`: the IO descriptor BentoML builds for an annotated return type, so the service can
  declare a faster serializer for it.

Each import happens on first use, so importing this module costs nothing.
"""

from __future__ import annotations

from pathlib import Path

MODEL_YAML_FILENAME = "model.yaml"  # bentoml._internal.models.model.MODEL_YAML_FILENAME, checked by a test


def model_store(models_dir: str | Path):
    """BentoML's ModelStore over `models_dir`."""
    from bentoml._internal.models.model import ModelStore

    return ModelStore(str(models_dir))


def create_model(name: str, store, labels: dict[str, str], metadata: dict):
    """`bentoml.models.create` into `store`: a context manager whose entry is kept only if the block succeeds."""
    import bentoml

    return bentoml.models.create(name, labels=labels, metadata=metadata, _model_store=store)


def model_tag(name: str, version: str):
    """BentoML's Tag of the entry `name:version`."""
    from bentoml._internal.tag import Tag

    return Tag(name, version)


def io_descriptor(annotation):
    """The IO-descriptor class BentoML derives from a type annotation (such as `list[Decision]`)."""
    from _bentoml_sdk.io_models import ensure_io_descriptor

    return ensure_io_descriptor(annotation)
