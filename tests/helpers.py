"""Plain helpers shared by the test files (fixtures live in conftest.py)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import numpy as np
from PIL import Image

#: The offline datasets, weights and photos (``../shared/assets`` beside the clone in CI).
ASSETS = Path(os.environ.get("COURSE_ASSETS_DIR", Path(__file__).parents[2] / "shared" / "assets"))


def write_rgb(path: Path, size: tuple[int, int] = (12, 10), seed: int = 0) -> Path:
    """A small real JPEG with random pixels."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


def load_tool(name: str) -> ModuleType:
    """Import ``tools/<name>.py`` (the maintainer scripts are not a package)."""
    path = Path(__file__).parents[1] / "tools" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"tools_{name}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
