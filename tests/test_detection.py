"""Detection maths: NMS (vs TensorFlow's), YOLO encoding and decoding, anchors, AP."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from helpers import random_boxes

from course_utils import detection as D


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


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
    ours = D.non_max_suppression(boxes, scores, iou_threshold=iou_threshold)
    np.testing.assert_array_equal(ours, tf_keep)
    assert len(ours) < 60  # something was suppressed


def test_nms_score_threshold_and_max_output_match_tensorflow() -> None:
    rng = np.random.default_rng(7)
    boxes = random_boxes(rng, 40).astype(np.float32)
    scores = rng.random(40).astype(np.float32)
    tf_keep = tf.image.non_max_suppression(
        boxes, scores, max_output_size=5, iou_threshold=0.4, score_threshold=0.5
    ).numpy()
    ours = D.non_max_suppression(boxes, scores, 0.4, score_threshold=0.5, max_output_size=5)
    np.testing.assert_array_equal(ours, tf_keep)


def test_nms_boundary_iou_is_kept_like_tensorflow() -> None:
    boxes = np.array([[0, 0, 1, 1], [0, 0, 1, 0.5]], np.float32)  # IoU exactly 0.5
    scores = np.array([0.9, 0.8], np.float32)
    tf_keep = tf.image.non_max_suppression(boxes, scores, 2, iou_threshold=0.5).numpy()
    np.testing.assert_array_equal(D.non_max_suppression(boxes, scores, 0.5), tf_keep)


def test_nms_empty_detections() -> None:
    keep = D.non_max_suppression(np.zeros((0, 4)), np.zeros(0))
    assert keep.shape == (0,) and keep.dtype == np.int64
    assert D.non_max_suppression([[0, 0, 1, 1]], [0.1], score_threshold=0.5).size == 0


def test_nms_zero_area_boxes_never_suppress_each_other() -> None:
    boxes = np.zeros((3, 4), np.float32)
    keep = D.non_max_suppression(boxes, [0.3, 0.2, 0.1], iou_threshold=0.0)
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
        D.non_max_suppression(**kwargs)


# ----------------------------------------------------------------- YOLO


def test_yolo_round_trip(rng: np.random.Generator) -> None:
    anchors = np.array([[0.1, 0.1], [0.3, 0.2], [0.5, 0.6]])
    truth = np.array([[0.05, 0.05, 0.2, 0.15], [0.4, 0.3, 0.7, 0.5], [0.2, 0.3, 0.75, 0.95]])
    labels = np.array([2, 0, 1])
    target = D.encode_yolo(truth, labels, grid_size=4, anchors=anchors, num_classes=3)
    assert target.shape == (4, 4, 3, 8)
    found = D.decode_yolo(target, anchors, score_threshold=0.5)
    assert len(found) == 3
    order = np.argsort(found.boxes[:, 0])
    np.testing.assert_allclose(found.boxes[order], truth[np.argsort(truth[:, 0])], atol=1e-4)
    np.testing.assert_array_equal(found.classes[order], labels[np.argsort(truth[:, 0])])
    assert np.all(found.scores > 0.99)


def test_yolo_decode_hand_computed_cell() -> None:
    out = np.full((3, 3, 1, 7), -20.0)
    # cell row 2, col 1; offsets sigmoid(0) = 0.5; size = anchor * e^0; class 1 dominant
    out[2, 1, 0] = [0.0, 0.0, np.log(2.0), 0.0, 20.0, 0.0, 20.0]
    found = D.decode_yolo(out, anchors=[[0.1, 0.2]], score_threshold=0.5)
    xc, yc = (1 + 0.5) / 3, (2 + 0.5) / 3
    np.testing.assert_allclose(found.boxes, [[xc - 0.1, yc - 0.1, xc + 0.1, yc + 0.1]], atol=1e-9)
    assert found.classes.tolist() == [1]


def test_yolo_nms_removes_duplicates() -> None:
    out = np.full((2, 2, 2, 6), -20.0)
    out[0, 0, 0] = [0, 0, 0, 0, 5.0, 1.0]
    out[0, 0, 1] = [0, 0, 0, 0, 4.0, 1.0]  # same box from the second (identical) anchor
    anchors = [[0.4, 0.4], [0.4, 0.4]]
    assert len(D.decode_yolo(out, anchors, score_threshold=0.5, iou_threshold=None)) == 2
    assert len(D.decode_yolo(out, anchors, score_threshold=0.5)) == 1


def test_yolo_empty_output() -> None:
    found = D.decode_yolo(np.full((2, 2, 1, 6), -10.0), [[0.5, 0.5]])
    assert found.boxes.shape == (0, 4) and len(found) == 0


@pytest.mark.parametrize(
    ("shape", "anchors"),
    [
        ((2, 2, 6), [[0.5, 0.5]]),
        ((2, 3, 1, 6), [[0.5, 0.5]]),
        ((2, 2, 2, 6), [[0.5, 0.5]]),
        ((2, 2, 1, 5), [[0.5, 0.5]]),
        ((2, 2, 1, 6), [0.5, 0.5]),
    ],
)
def test_yolo_decode_shape_errors(shape: tuple[int, ...], anchors: list) -> None:
    with pytest.raises(ValueError):
        D.decode_yolo(np.zeros(shape), anchors)


def test_yolo_encode_errors() -> None:
    with pytest.raises(ValueError, match="labels"):
        D.encode_yolo([[0, 0, 0.5, 0.5]], [3], 2, [[0.5, 0.5]], num_classes=2)
    with pytest.raises(ValueError, match="zero width"):
        D.encode_yolo([[0.2, 0.2, 0.2, 0.5]], [0], 2, [[0.5, 0.5]], num_classes=2)
    with pytest.raises(ValueError, match="labels"):
        D.encode_yolo([[0, 0, 0.5, 0.5]], [0, 1], 2, [[0.5, 0.5]], num_classes=2)


# ----------------------------------------------------------------- anchors


def test_kmeans_recovers_clear_clusters(rng: np.random.Generator) -> None:
    centres = np.array([[0.1, 0.1], [0.2, 0.5], [0.6, 0.3]])
    wh = np.concatenate([c + rng.normal(0, 0.005, size=(50, 2)) for c in centres])
    anchors = D.kmeans_anchors(wh, k=3, seed=0)
    np.testing.assert_allclose(anchors, centres, atol=0.01)  # sorted by area, as centres are
    assert D.mean_best_iou(wh, anchors) > 0.9
    np.testing.assert_array_equal(anchors, D.kmeans_anchors(wh, k=3, seed=0))  # deterministic


def test_more_anchors_fit_better(rng: np.random.Generator) -> None:
    wh = rng.uniform(0.05, 0.9, size=(300, 2))
    one, five = D.kmeans_anchors(wh, 1), D.kmeans_anchors(wh, 5)
    assert D.mean_best_iou(wh, five) > D.mean_best_iou(wh, one)


def test_wh_iou_known_values() -> None:
    np.testing.assert_allclose(
        D.wh_iou([[1, 1]], [[1, 1], [2, 2], [2, 0.5]]), [[1.0, 0.25, 0.5 / 1.5]]
    )


@pytest.mark.parametrize(
    ("wh", "k", "match"),
    [
        ([[0.1, 0.1]], 0, "k must"),
        ([[0.1, 0.1], [0.1, 0.1]], 2, "distinct"),
        ([[0.0, 0.1], [0.2, 0.2]], 1, "positive"),
    ],
)
def test_kmeans_errors(wh: list, k: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        D.kmeans_anchors(wh, k)


# ----------------------------------------------------------------- average precision


def test_average_precision_hand_computed() -> None:
    truth = [[[0, 0, 1, 1], [2, 2, 3, 3]]]
    # ranked: TP (p=1, r=.5), FP (p=.5, r=.5), TP (p=2/3, r=1) -> AP = .5*1 + .5*2/3
    dets = [([[0, 0, 1, 1], [5, 5, 6, 6], [2, 2, 3, 3]], [0.9, 0.8, 0.7])]
    assert D.average_precision(dets, truth) == pytest.approx(0.5 + 0.5 * 2 / 3)


def test_average_precision_duplicates_count_once() -> None:
    truth = [[[0, 0, 1, 1]]]
    dets = [([[0, 0, 1, 1], [0, 0, 1, 1]], [0.9, 0.8])]
    assert D.average_precision(dets, truth) == pytest.approx(1.0)
    assert D.average_precision([(np.zeros((0, 4)), [])], truth) == 0.0


def test_average_precision_errors() -> None:
    with pytest.raises(ValueError, match="undefined"):
        D.average_precision([([[0, 0, 1, 1]], [0.5])], [np.zeros((0, 4))])
    with pytest.raises(ValueError, match="images"):
        D.average_precision([], [[[0, 0, 1, 1]]])


# ----------------------------------------------------------------- training targets


def test_yolo_targets_match_encode_yolo(rng: np.random.Generator) -> None:
    """Same cell and anchor as encode_yolo; the offsets are encode_yolo's sigmoids."""
    anchors = np.array([[0.1, 0.1], [0.3, 0.2], [0.2, 0.4]])
    boxes = [random_boxes(rng, 3), random_boxes(rng, 1)]
    labels = [np.array([0, 2, 1]), np.array([1])]
    targets = D.yolo_targets(boxes, labels, grid_size=7, anchors=anchors, num_classes=3)
    assert targets.shape == (2, 7, 7, 3, 6) and targets.dtype == np.float32
    for i in range(2):
        encoded = D.encode_yolo(boxes[i], labels[i], 7, anchors, num_classes=3)
        where = targets[i, ..., 4] == 1
        np.testing.assert_array_equal(where, encoded[..., 4] > 0)
        np.testing.assert_allclose(
            targets[i][where][:, :2], 1 / (1 + np.exp(-encoded[where][:, :2])), atol=1e-5
        )
        np.testing.assert_allclose(targets[i][where][:, 2:4], encoded[where][:, 2:4], atol=1e-5)
        np.testing.assert_array_equal(targets[i][where][:, 5], encoded[where][:, 5:].argmax(axis=1))
    assert 1 <= targets[..., 4].sum() <= 4  # fewer when two boxes share a cell and anchor


def test_yolo_targets_collision_keeps_the_later_box() -> None:
    a = [[0.3, 0.3]]
    boxes = [[[0.1, 0.1, 0.4, 0.4], [0.12, 0.1, 0.42, 0.4]]]
    t = D.yolo_targets(boxes, [[0, 1]], grid_size=2, anchors=a, num_classes=2)
    assert t[..., 4].sum() == 1 and t[0, 0, 0, 0, 5] == 1


def test_yolo_targets_decode_back_to_the_boxes() -> None:
    anchors = np.array([[0.2, 0.2], [0.4, 0.3]])
    boxes = np.array([[0.05, 0.1, 0.3, 0.3], [0.5, 0.55, 0.95, 0.8]])
    t = D.yolo_targets([boxes], [[0, 1]], grid_size=5, anchors=anchors, num_classes=2)[0]
    raw = np.full((5, 5, 2, 7), -20.0)
    where = t[..., 4] == 1
    fx = np.clip(t[where][:, :2], 1e-6, 1 - 1e-6)
    raw[where, :2] = np.log(fx / (1 - fx))
    raw[where, 2:4] = t[where][:, 2:4]
    raw[where, 4] = 20.0
    raw[where, 5 + t[where][:, 5].astype(int)] = 20.0
    found = D.decode_yolo(raw, anchors, iou_threshold=None)
    np.testing.assert_allclose(np.sort(found.boxes, 0), np.sort(boxes, 0), atol=1e-4)


def test_anchor_boxes_are_what_zero_outputs_decode_to() -> None:
    anchors = np.array([[0.2, 0.3], [0.5, 0.4]])
    raw = np.zeros((3, 3, 2, 6))
    raw[..., 4] = 20.0  # every slot sure of an object, offsets and size ratios all 0
    decoded = D.decode_yolo(raw, anchors, score_threshold=0.0, iou_threshold=None).boxes
    priors = D.anchor_boxes(3, anchors).reshape(-1, 4)
    np.testing.assert_allclose(np.sort(decoded, 0), np.sort(priors, 0), atol=1e-9)


@pytest.mark.parametrize("ignore_iou", [0.2, 0.35])
def test_yolo_targets_ignore_the_priors_that_overlap_an_object(
    rng: np.random.Generator, ignore_iou: float
) -> None:
    anchors = np.array([[0.1, 0.1], [0.3, 0.2], [0.2, 0.4]])
    boxes = [random_boxes(rng, 3), random_boxes(rng, 2), np.zeros((0, 4))]
    labels = [np.array([0, 2, 1]), np.array([1, 1]), np.array([], int)]
    plain = D.yolo_targets(boxes, labels, 6, anchors, num_classes=3)
    marked = D.yolo_targets(boxes, labels, 6, anchors, num_classes=3, ignore_iou=ignore_iou)
    assert not (plain[..., 4] < 0).any()
    np.testing.assert_array_equal(plain[marked[..., 4] != -1], marked[marked[..., 4] != -1])
    priors = D.anchor_boxes(6, anchors)
    for i, truth in enumerate(boxes):
        best = np.zeros(priors.shape[:3])
        if len(truth):
            best = D.iou_matrix(priors.reshape(-1, 4), truth).max(axis=1).reshape(best.shape)
        unmatched = plain[i, ..., 4] == 0
        np.testing.assert_array_equal(marked[i, ..., 4] == -1, unmatched & (best > ignore_iou))
    assert (marked[:2, ..., 4] == -1).any() and not (marked[2, ..., 4] == -1).any()
    with pytest.raises(ValueError, match="ignore_iou"):
        D.yolo_targets(boxes, labels, 6, anchors, num_classes=3, ignore_iou=1.0)


def test_yolo_targets_errors() -> None:
    a = [[0.5, 0.5]]
    with pytest.raises(ValueError, match="label lists"):
        D.yolo_targets([[[0, 0, 1, 1]]], [], 2, a, 1)
    with pytest.raises(ValueError, match="image 0: 1 boxes but 2 labels"):
        D.yolo_targets([[[0, 0, 1, 1]]], [[0, 0]], 2, a, 1)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 1\)"):
        D.yolo_targets([[[0, 0, 1, 1]]], [[3]], 2, a, 1)
    with pytest.raises(ValueError, match="zero width"):
        D.yolo_targets([[[0.5, 0, 0.5, 1]]], [[0]], 2, a, 1)
    empty = D.yolo_targets([np.zeros((0, 4))], [[]], 2, a, 1)
    assert empty.shape == (1, 2, 2, 1, 6) and empty.sum() == 0


# ----------------------------------------------------------------- precision-recall and mAP


def test_precision_recall_curve_hand_computed() -> None:
    truth = [[[0, 0, 1, 1], [2, 2, 3, 3]]]
    found = [([[0, 0, 1, 1], [5, 5, 6, 6], [2, 2, 3, 3]], [0.9, 0.8, 0.7])]
    recall, precision = D.precision_recall_curve(found, truth)
    np.testing.assert_allclose(recall, [0, 0.5, 0.5, 1.0])
    np.testing.assert_allclose(precision, [1, 1, 0.5, 2 / 3])
    assert D.average_precision(found, truth) == pytest.approx(0.5 + 0.5 * 2 / 3)


def test_mean_average_precision_counts_a_wrong_class_twice() -> None:
    """A box in the right place with the wrong class: a false positive and a miss."""
    box = np.array([[0.1, 0.1, 0.5, 0.5]])
    right = D.Detections(box, np.array([0.9]), np.array([0]))
    wrong = D.Detections(box, np.array([0.9]), np.array([1]))
    truth_boxes, truth_labels = [box, box], [np.array([0]), np.array([0])]
    m, aps = D.mean_average_precision([right, wrong], truth_boxes, truth_labels, num_classes=2)
    assert aps[0] == pytest.approx(0.5) and np.isnan(aps[1]) and m == pytest.approx(0.5)


def test_mean_average_precision_errors() -> None:
    none = D.Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64))
    with pytest.raises(ValueError, match="one of each per image"):
        D.mean_average_precision([none], [], [], 1)
    with pytest.raises(ValueError, match="undefined"):
        D.mean_average_precision([none], [np.zeros((0, 4))], [np.zeros(0)], 1)
