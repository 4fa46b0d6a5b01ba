"""Box formats, IoU (vs a slow reference and Keras's own), the IoU metric, drawing."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from helpers import random_boxes

from course_utils import boxes as B


def slow_iou(a: list[float], b: list[float]) -> float:
    """Reference IoU of two corner boxes, one pair at a time, written out longhand."""
    ix0, iy0 = max(a[0], b[0]), max(a[1], b[1])
    ix1, iy1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, ix1 - ix0) * max(0.0, iy1 - iy0)
    area_a = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1])
    area_b = max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])
    union = area_a + area_b - inter
    return inter / union if union > 0 else 0.0


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


# ----------------------------------------------------------------- formats


def test_format_round_trip(rng: np.random.Generator) -> None:
    corners = random_boxes(rng, 50)
    np.testing.assert_allclose(B.center_to_corners(B.corners_to_center(corners)), corners)


def test_formats_keep_leading_dims() -> None:
    boxes = np.zeros((2, 3, 4))
    assert B.corners_to_center(boxes).shape == (2, 3, 4)


def test_formats_agree_with_keras_converter(rng: np.random.Generator) -> None:
    corners = random_boxes(rng, 20).astype(np.float32)
    theirs = keras.utils.bounding_boxes.convert_format(corners, "xyxy", "center_xywh")
    np.testing.assert_allclose(B.corners_to_center(corners), np.asarray(theirs), atol=1e-6)


@pytest.mark.parametrize("bad", [np.zeros((3, 5)), np.zeros(3)])
def test_bad_box_shape(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"\[\.\.\., 4\]"):
        B.corners_to_center(bad)


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="box_format"):
        B.iou_matrix([[0, 0, 1, 1]], [[0, 0, 1, 1]], box_format="xywh")


# ----------------------------------------------------------------- IoU known cases

CASES = [
    ("identical", [0.1, 0.1, 0.5, 0.5], [0.1, 0.1, 0.5, 0.5], 1.0),
    ("disjoint", [0.0, 0.0, 0.2, 0.2], [0.5, 0.5, 0.9, 0.9], 0.0),
    ("contained", [0.0, 0.0, 1.0, 1.0], [0.25, 0.25, 0.75, 0.75], 0.25),
    ("touching edge", [0.0, 0.0, 0.5, 1.0], [0.5, 0.0, 1.0, 1.0], 0.0),
    ("touching corner", [0.0, 0.0, 0.5, 0.5], [0.5, 0.5, 1.0, 1.0], 0.0),
    ("half shifted", [0.0, 0.0, 2.0, 2.0], [1.0, 0.0, 3.0, 2.0], 1.0 / 3.0),
    ("zero-area point", [0.3, 0.3, 0.3, 0.3], [0.0, 0.0, 1.0, 1.0], 0.0),
    ("zero-area line", [0.2, 0.0, 0.2, 1.0], [0.0, 0.0, 1.0, 1.0], 0.0),
    ("both zero-area, same", [0.3, 0.3, 0.3, 0.3], [0.3, 0.3, 0.3, 0.3], 0.0),
    ("flipped corners", [0.5, 0.5, 0.1, 0.1], [0.1, 0.1, 0.5, 0.5], 0.0),
]


@pytest.mark.parametrize(("name", "a", "b", "expected"), CASES, ids=[c[0] for c in CASES])
def test_known_cases(name: str, a: list[float], b: list[float], expected: float) -> None:
    assert B.iou_matrix([a], [b])[0, 0] == pytest.approx(expected)
    assert B.paired_iou([a], [b])[0] == pytest.approx(expected)
    assert slow_iou(a, b) == pytest.approx(expected)


def test_matrix_matches_slow_reference(rng: np.random.Generator) -> None:
    a, b = random_boxes(rng, 30), random_boxes(rng, 20)
    expected = np.array([[slow_iou(list(x), list(y)) for y in b] for x in a])
    got = B.iou_matrix(a, b)
    assert got.shape == (30, 20)
    np.testing.assert_allclose(got, expected, atol=1e-12)
    assert (expected > 0).any() and (expected == 0).any()  # the data exercises both


def test_matrix_matches_keras_library(rng: np.random.Generator) -> None:
    a, b = random_boxes(rng, 25).astype(np.float32), random_boxes(rng, 15).astype(np.float32)
    theirs = np.asarray(keras.utils.bounding_boxes.compute_iou(a, b, "xyxy"))
    np.testing.assert_allclose(B.iou_matrix(a, b), theirs, atol=1e-5)


def test_symmetry_and_range(rng: np.random.Generator) -> None:
    a, b = random_boxes(rng, 40), random_boxes(rng, 40)
    m = B.iou_matrix(a, b)
    np.testing.assert_allclose(m, B.iou_matrix(b, a).T)
    assert m.min() >= 0.0 and m.max() <= 1.0
    np.testing.assert_allclose(np.diag(B.iou_matrix(a, a)), 1.0)


def test_center_format_gives_same_iou(rng: np.random.Generator) -> None:
    a, b = random_boxes(rng, 10), random_boxes(rng, 10)
    np.testing.assert_allclose(
        B.paired_iou(B.corners_to_center(a), B.corners_to_center(b), box_format="center"),
        B.paired_iou(a, b),
    )


def test_empty_inputs() -> None:
    assert B.iou_matrix(np.zeros((0, 4)), [[0, 0, 1, 1]]).shape == (0, 1)
    assert B.iou_matrix([], []).shape == (0, 0)


def test_box_area_degenerate() -> None:
    np.testing.assert_allclose(B.box_area([[0, 0, 2, 3], [1, 1, 1, 5], [3, 3, 1, 1]]), [6, 0, 0])


# ----------------------------------------------------------------- the metric


def test_metric_matches_numpy(rng: np.random.Generator) -> None:
    a, b = random_boxes(rng, 16), random_boxes(rng, 16)
    metric = B.BoxIoU(box_format="center")
    metric.update_state(B.corners_to_center(a)[:8], B.corners_to_center(b)[:8])
    metric.update_state(B.corners_to_center(a)[8:], B.corners_to_center(b)[8:])
    assert float(metric.result()) == pytest.approx(B.paired_iou(a, b).mean(), abs=1e-5)
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_metric_sample_weight_and_zero_area() -> None:
    metric = B.BoxIoU(box_format="corners")
    metric.update_state(
        [[0, 0, 1, 1], [0, 0, 0, 0]], [[0, 0, 1, 1], [0, 0, 0, 0]], sample_weight=[1.0, 3.0]
    )
    assert float(metric.result()) == pytest.approx(0.25)  # (1*1 + 3*0) / 4


def test_metric_rejects_bad_format() -> None:
    with pytest.raises(ValueError, match="box_format"):
        B.BoxIoU(box_format="xywh")


def test_metric_in_compile_and_saved_model(tmp_path) -> None:
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(4, activation="sigmoid", name="box")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=[B.BoxIoU(box_format="center")])
    x = np.random.default_rng(0).random((8, 3)).astype("float32")
    y = np.full((8, 4), 0.5, "float32")
    logs = model.evaluate(x, y, return_dict=True, verbose=0)
    assert 0.0 <= logs["box_iou"] <= 1.0
    path = tmp_path / "box_model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    again = loaded.evaluate(x, y, return_dict=True, verbose=0)
    assert again["box_iou"] == pytest.approx(logs["box_iou"], abs=1e-6)


def test_metric_serialises() -> None:
    metric = B.BoxIoU(box_format="corners", name="iou")
    clone = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert isinstance(clone, B.BoxIoU)
    assert clone.box_format == "corners" and clone.name == "iou"


def test_draw_boxes_scales_and_checks_labels() -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    B.draw_boxes(ax, [[0.5, 0.5, 0.2, 0.4]], box_format="center", image_size=(100, 200))
    rect = ax.patches[0]
    assert rect.get_x() == pytest.approx(80) and rect.get_height() == pytest.approx(40)
    with pytest.raises(ValueError, match="labels"):
        B.draw_boxes(ax, [[0, 0, 1, 1]], ["a", "b"])
    plt.close(fig)
