"""Plain helpers shared by the test files (fixtures live in conftest.py)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

#: The offline datasets, weights and photos (``../shared/assets`` beside the clone in CI).
ASSETS = Path(os.environ.get("COURSE_ASSETS_DIR", Path(__file__).parents[2] / "shared" / "assets"))


def write_rgb(path: Path, size: tuple[int, int] = (12, 10), seed: int = 0) -> Path:
    """A small real JPEG with random pixels."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


def load_tool(name: str, folder: str = "tools") -> ModuleType:
    """Import ``tools/<name>.py`` (the maintainer scripts are not a package), or ``folder``'s."""
    path = Path(__file__).parents[1] / folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{folder}_{name}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- lessons 05-06: a small MobileNetV2 and image batches -------------------------------

TINY = 32  # the smallest input MobileNetV2 accepts: fast models with the real layer structure


def tiny_base(**kwargs: object) -> keras.Model:
    """MobileNetV2 (random weights, alpha 0.35) at 32x32: all 154 layers, little compute."""
    return keras.applications.MobileNetV2(
        input_shape=(TINY, TINY, 3),
        include_top=False,
        weights=None,
        alpha=0.35,
        name="mobilenet_v2",
        **kwargs,
    )


def image_batches(n: int = 6, batch: int = 4, seed: int = 0) -> tf.data.Dataset:
    """``n`` random 32x32 images in [0, 255] with labels 0, 1, 0, 1, ..., in batches."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 255, (n, TINY, TINY, 3)).astype("float32")
    y = np.arange(n) % 2
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch)


def needs_imagenet_weights(name: str) -> pytest.MarkDecorator:
    """Skip a test unless ``name``'s ImageNet weights (with top) are in the Keras cache."""
    from course_utils.backbones import get_backbone

    return pytest.mark.skipif(
        not get_backbone(name).weights_path().is_file(),
        reason=f"{name} ImageNet weights are not in the Keras cache (KERAS_HOME)",
    )


def random_boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random corner boxes, normalised (the box and detection tests share them)."""
    xy = rng.uniform(0, 0.8, size=(n, 2))
    wh = rng.uniform(0.02, 0.5, size=(n, 2))
    return np.concatenate([xy, xy + wh], axis=1)
