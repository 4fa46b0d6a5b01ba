"""Box formats, IoU (vs a slow reference and Keras's own), the IoU metric, NMS, YOLO, anchors."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

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


def random_boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    xy = rng.uniform(0, 0.8, size=(n, 2))
    wh = rng.uniform(0.02, 0.5, size=(n, 2))
    return np.concatenate([xy, xy + wh], axis=1)


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


# ----------------------------------------------------------------- NMS


@pytest.mark.parametrize("iou_threshold", [0.1, 0.3, 0.5, 0.7])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nms_matches_tensorflow(iou_threshold: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, 60).astype(np.float32)
    scores = rng.random(60).astype(np.float32)
    tf_keep = tf.image.non_max_suppression(
        boxes[:, [1, 0, 3, 2]], scores, max_output_size=60, iou_threshold=iou_threshold
    ).numpy()
    ours = B.non_max_suppression(boxes, scores, iou_threshold=iou_threshold)
    np.testing.assert_array_equal(ours, tf_keep)
    assert len(ours) < 60  # something was suppressed


def test_nms_score_threshold_and_max_output_match_tensorflow() -> None:
    rng = np.random.default_rng(7)
    boxes = random_boxes(rng, 40).astype(np.float32)
    scores = rng.random(40).astype(np.float32)
    tf_keep = tf.image.non_max_suppression(
        boxes, scores, max_output_size=5, iou_threshold=0.4, score_threshold=0.5
    ).numpy()
    ours = B.non_max_suppression(boxes, scores, 0.4, score_threshold=0.5, max_output_size=5)
    np.testing.assert_array_equal(ours, tf_keep)


def test_nms_boundary_iou_is_kept_like_tensorflow() -> None:
    boxes = np.array([[0, 0, 1, 1], [0, 0, 1, 0.5]], np.float32)  # IoU exactly 0.5
    scores = np.array([0.9, 0.8], np.float32)
    tf_keep = tf.image.non_max_suppression(boxes, scores, 2, iou_threshold=0.5).numpy()
    np.testing.assert_array_equal(B.non_max_suppression(boxes, scores, 0.5), tf_keep)


def test_nms_empty_detections() -> None:
    keep = B.non_max_suppression(np.zeros((0, 4)), np.zeros(0))
    assert keep.shape == (0,) and keep.dtype == np.int64
    assert B.non_max_suppression([[0, 0, 1, 1]], [0.1], score_threshold=0.5).size == 0


def test_nms_zero_area_boxes_never_suppress_each_other() -> None:
    boxes = np.zeros((3, 4), np.float32)
    keep = B.non_max_suppression(boxes, [0.3, 0.2, 0.1], iou_threshold=0.0)
    np.testing.assert_array_equal(keep, [0, 1, 2])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"boxes": [[0, 0, 1, 1]], "scores": [0.1, 0.2]}, "scores"),
        ({"boxes": [[0, 0, 1, 1]], "scores": [0.1], "iou_threshold": 1.5}, "iou_threshold"),
        ({"boxes": [[0, 0, 1, 1]], "scores": [0.1], "max_output_size": -1}, "max_output_size"),
    ],
)
def test_nms_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        B.non_max_suppression(**kwargs)


# ----------------------------------------------------------------- YOLO


def test_yolo_round_trip(rng: np.random.Generator) -> None:
    anchors = np.array([[0.1, 0.1], [0.3, 0.2], [0.5, 0.6]])
    truth = np.array([[0.05, 0.05, 0.2, 0.15], [0.4, 0.3, 0.7, 0.5], [0.2, 0.3, 0.75, 0.95]])
    labels = np.array([2, 0, 1])
    target = B.encode_yolo(truth, labels, grid_size=4, anchors=anchors, num_classes=3)
    assert target.shape == (4, 4, 3, 8)
    found = B.decode_yolo(target, anchors, score_threshold=0.5)
    assert len(found) == 3
    order = np.argsort(found.boxes[:, 0])
    np.testing.assert_allclose(found.boxes[order], truth[np.argsort(truth[:, 0])], atol=1e-4)
    np.testing.assert_array_equal(found.classes[order], labels[np.argsort(truth[:, 0])])
    assert np.all(found.scores > 0.99)


def test_yolo_decode_hand_computed_cell() -> None:
    out = np.full((3, 3, 1, 7), -20.0)
    # cell row 2, col 1; offsets sigmoid(0) = 0.5; size = anchor * e^0; class 1 dominant
    out[2, 1, 0] = [0.0, 0.0, np.log(2.0), 0.0, 20.0, 0.0, 20.0]
    found = B.decode_yolo(out, anchors=[[0.1, 0.2]], score_threshold=0.5)
    xc, yc = (1 + 0.5) / 3, (2 + 0.5) / 3
    np.testing.assert_allclose(found.boxes, [[xc - 0.1, yc - 0.1, xc + 0.1, yc + 0.1]], atol=1e-9)
    assert found.classes.tolist() == [1]


def test_yolo_nms_removes_duplicates() -> None:
    out = np.full((2, 2, 2, 6), -20.0)
    out[0, 0, 0] = [0, 0, 0, 0, 5.0, 1.0]
    out[0, 0, 1] = [0, 0, 0, 0, 4.0, 1.0]  # same box from the second (identical) anchor
    anchors = [[0.4, 0.4], [0.4, 0.4]]
    assert len(B.decode_yolo(out, anchors, score_threshold=0.5, iou_threshold=None)) == 2
    assert len(B.decode_yolo(out, anchors, score_threshold=0.5)) == 1


def test_yolo_empty_output() -> None:
    found = B.decode_yolo(np.full((2, 2, 1, 6), -10.0), [[0.5, 0.5]])
    assert found.boxes.shape == (0, 4) and len(found) == 0


@pytest.mark.parametrize(
    ("shape", "anchors"),
    [((2, 2, 6), [[0.5, 0.5]]), ((2, 3, 1, 6), [[0.5, 0.5]]), ((2, 2, 2, 6), [[0.5, 0.5]]),
     ((2, 2, 1, 5), [[0.5, 0.5]]), ((2, 2, 1, 6), [0.5, 0.5])],
)
def test_yolo_decode_shape_errors(shape: tuple[int, ...], anchors: list) -> None:
    with pytest.raises(ValueError):
        B.decode_yolo(np.zeros(shape), anchors)


def test_yolo_encode_errors() -> None:
    with pytest.raises(ValueError, match="labels"):
        B.encode_yolo([[0, 0, 0.5, 0.5]], [3], 2, [[0.5, 0.5]], num_classes=2)
    with pytest.raises(ValueError, match="zero width"):
        B.encode_yolo([[0.2, 0.2, 0.2, 0.5]], [0], 2, [[0.5, 0.5]], num_classes=2)
    with pytest.raises(ValueError, match="labels"):
        B.encode_yolo([[0, 0, 0.5, 0.5]], [0, 1], 2, [[0.5, 0.5]], num_classes=2)


# ----------------------------------------------------------------- anchors


def test_kmeans_recovers_clear_clusters(rng: np.random.Generator) -> None:
    centres = np.array([[0.1, 0.1], [0.2, 0.5], [0.6, 0.3]])
    wh = np.concatenate([c + rng.normal(0, 0.005, size=(50, 2)) for c in centres])
    anchors = B.kmeans_anchors(wh, k=3, seed=0)
    np.testing.assert_allclose(anchors, centres, atol=0.01)  # sorted by area, as centres are
    assert B.mean_best_iou(wh, anchors) > 0.9
    np.testing.assert_array_equal(anchors, B.kmeans_anchors(wh, k=3, seed=0))  # deterministic


def test_more_anchors_fit_better(rng: np.random.Generator) -> None:
    wh = rng.uniform(0.05, 0.9, size=(300, 2))
    one, five = B.kmeans_anchors(wh, 1), B.kmeans_anchors(wh, 5)
    assert B.mean_best_iou(wh, five) > B.mean_best_iou(wh, one)


def test_wh_iou_known_values() -> None:
    np.testing.assert_allclose(B.wh_iou([[1, 1]], [[1, 1], [2, 2], [2, 0.5]]),
                               [[1.0, 0.25, 0.5 / 1.5]])


@pytest.mark.parametrize(
    ("wh", "k", "match"),
    [([[0.1, 0.1]], 0, "k must"), ([[0.1, 0.1], [0.1, 0.1]], 2, "distinct"),
     ([[0.0, 0.1], [0.2, 0.2]], 1, "positive")],
)
def test_kmeans_errors(wh: list, k: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        B.kmeans_anchors(wh, k)


# ----------------------------------------------------------------- average precision


def test_average_precision_hand_computed() -> None:
    truth = [[[0, 0, 1, 1], [2, 2, 3, 3]]]
    # ranked: TP (p=1, r=.5), FP (p=.5, r=.5), TP (p=2/3, r=1) -> AP = .5*1 + .5*2/3
    dets = [([[0, 0, 1, 1], [5, 5, 6, 6], [2, 2, 3, 3]], [0.9, 0.8, 0.7])]
    assert B.average_precision(dets, truth) == pytest.approx(0.5 + 0.5 * 2 / 3)


def test_average_precision_duplicates_count_once() -> None:
    truth = [[[0, 0, 1, 1]]]
    dets = [([[0, 0, 1, 1], [0, 0, 1, 1]], [0.9, 0.8])]
    assert B.average_precision(dets, truth) == pytest.approx(1.0)
    assert B.average_precision([(np.zeros((0, 4)), [])], truth) == 0.0


def test_average_precision_errors() -> None:
    with pytest.raises(ValueError, match="undefined"):
        B.average_precision([([[0, 0, 1, 1]], [0.5])], [np.zeros((0, 4))])
    with pytest.raises(ValueError, match="images"):
        B.average_precision([], [[[0, 0, 1, 1]]])


def test_draw_boxes_scales_and_checks_labels() -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    B.draw_boxes(ax, [[0.5, 0.5, 0.2, 0.4]], box_format="center", image_size=(100, 200))
    rect = ax.patches[0]
    assert rect.get_x() == pytest.approx(80) and rect.get_height() == pytest.approx(40)
    with pytest.raises(ValueError, match="labels"):
        B.draw_boxes(ax, [[0, 0, 1, 1]], ["a", "b"])
    plt.close(fig)
