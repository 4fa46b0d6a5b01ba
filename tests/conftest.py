"""Shared fixtures: a private data cache and tiny real image folders."""

from __future__ import annotations

import os
from pathlib import Path

import keras  # noqa: F401  (see below)
import numpy as np
import pytest
from PIL import Image

# Keras reads KERAS_HOME once, when it is first imported. Importing it here
# pins it to the session's cache, so a test that points KERAS_HOME somewhere
# else (the data_root fixture) cannot change where later tests find weights.
ASSETS = Path(os.environ.get("COURSE_ASSETS_DIR", Path(__file__).parents[2] / "shared" / "assets"))


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty course data cache (COURSE_DATA_DIR) and an empty Keras cache."""
    root = tmp_path / "cache"
    root.mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(root))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return root


def write_rgb(path: Path, size: tuple[int, int] = (12, 10), seed: int = 0) -> Path:
    """A small real JPEG with random pixels."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture
def image_tree(tmp_path: Path) -> Path:
    """``tree/{train,validation}/{cats,dogs}/`` with 6 small JPEGs per class."""
    root = tmp_path / "pets"
    for split in ("train", "validation"):
        for cls in ("cats", "dogs"):
            for i in range(6):
                write_rgb(root / split / cls / f"{cls[:-1]}.{i}.jpg", seed=i)
    return root
