"""Shared fixtures: a private data cache and tiny real image folders."""

from __future__ import annotations

from pathlib import Path

# course_utils first: TensorFlow then starts without its routine notices.
import course_utils  # noqa: F401

# isort: split

# Keras reads KERAS_HOME once, when it is first imported. Importing it here
# pins it to the session's cache, so a test that points KERAS_HOME somewhere
# else (the data_root fixture) cannot change where later tests find weights.
import keras  # noqa: F401
import pytest
from helpers import write_rgb


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty course data cache (COURSE_DATA_DIR) and an empty Keras cache."""
    root = tmp_path / "cache"
    root.mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(root))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return root


@pytest.fixture
def image_tree(tmp_path: Path) -> Path:
    """``tree/{train,validation}/{cats,dogs}/`` with 6 small JPEGs per class."""
    root = tmp_path / "pets"
    for split in ("train", "validation"):
        for cls in ("cats", "dogs"):
            for i in range(6):
                write_rgb(root / split / cls / f"{cls[:-1]}.{i}.jpg", seed=i)
    return root
