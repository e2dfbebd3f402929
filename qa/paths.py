"""Where things live on disk, so every command and test agrees.

The index and the model cache follow the platform's conventions (platformdirs) and can be
redirected with `QA_INDEX` / `--index` and `QA_MODEL_CACHE`, which keeps several corpora and
test runs from colliding.
"""
from __future__ import annotations

import os
from pathlib import Path

from index.models import DEFAULT_MODEL

APP_NAME = "qa"


def data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(os.environ.get("QA_MODEL_CACHE") or user_cache_dir(APP_NAME, appauthor=False))


def default_index_dir() -> Path:
    env = os.environ.get("QA_INDEX")
    return Path(env).expanduser() if env else data_dir() / "indexes" / "default"


def conversations_db() -> Path:
    """One database for the conversations held with every index (each names its index)."""
    return data_dir() / "conversations.sqlite"


def model_name() -> str:
    return os.environ.get("QA_MODEL") or DEFAULT_MODEL


def seeds_dir() -> Path:
    """The bundled corpus: inside the installed package, or beside it in a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "seeds", here.parent / "seeds"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("bundled seeds folder not found; reinstall qa")
