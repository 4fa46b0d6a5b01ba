"""The lesson-08 detector: head shapes, the loss, decoding a batch, and that it learns."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from course_utils import detection as D
from course_utils import detector


def test_head_shape_and_objectness_prior() -> None:
    head = detector.detection_head(4, 16, num_anchors=2, num_classes=3, width=8)
    assert head.output_shape == (None, 4, 4, 2, 8)
    out = np.asarray(head(np.zeros((1, 4, 4, 16), "float32")))
    np.testing.assert_allclose(1 / (1 + np.exp(-out[..., 4])), 0.01, rtol=1e-4)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"width": 0}, "must be >= 1"), ({"object_prior": 1.0}, "object_prior")],
)
def test_head_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        detector.detection_head(4, 16, 2, 3, **kwargs)


def test_loss_is_zero_for_the_targets_and_grows_with_errors() -> None:
    anchors = np.array([[0.3, 0.3], [0.5, 0.2]])
    boxes, labels = [[0.1, 0.1, 0.4, 0.45], [0.5, 0.6, 1.0, 0.8]], [0, 2]
    perfect = D.encode_yolo(boxes, labels, 3, anchors, num_classes=3)[None].astype("float32")
    target = D.yolo_targets([boxes], [labels], 3, anchors, num_classes=3)
    loss = detector.YoloLoss()
    assert float(loss(target, perfect)) < 1e-3
    losses = []
    for shift in (0.5, 1.0, 2.0):
        worse = perfect.copy()
        worse[target[..., 4] == 1, 2:4] += shift  # wrong box sizes
        losses.append(float(loss(target, worse)))
    assert losses == sorted(losses) and losses[0] > 0.1
    no_objects = np.full_like(perfect, -12.0)
    assert float(loss(target, no_objects)) > 10  # missing both objects costs a lot


def test_loss_skips_the_objectness_of_dont_care_slots() -> None:
    anchors = np.array([[0.3, 0.3]])
    box = [[0.1, 0.1, 0.8, 0.45]]  # the prior of the next cell to the right: IoU 0.22
    target = D.yolo_targets([box], [[0]], 2, anchors, num_classes=2, ignore_iou=0.2)
    dont_care = np.argwhere(target[0, ..., 0, 4] == -1)
    empty = np.argwhere(target[0, ..., 0, 4] == 0)
    assert len(dont_care) and len(empty)
    pred = D.encode_yolo(box, [0], 2, anchors, num_classes=2)[None].astype("float32")
    loss = detector.YoloLoss()
    base = float(loss(target, pred))
    for (row, col), changes in [(dont_care[0], False), (empty[0], True)]:
        sure = pred.copy()
        sure[0, row, col, 0, 4] = 8.0  # claim an object there
        assert (abs(float(loss(target, sure)) - base) > 1.0) == changes


def test_loss_config_round_trip() -> None:
    loss = detector.YoloLoss(box_weight=2.0, empty_weight=0.25)
    again = detector.YoloLoss.from_config(loss.get_config())
    assert (again.box_weight, again.empty_weight) == (2.0, 0.25)


def test_the_head_learns_to_find_a_bright_cell() -> None:
    """Features with one 'hot' cell per scene: the head must find it and its class."""
    rng = np.random.default_rng(0)
    n, s, ch = 256, 4, 8
    features = rng.normal(0, 0.1, (n, s, s, ch)).astype("float32")
    boxes, labels = [], []
    for i in range(n):
        row, col, c = rng.integers(s), rng.integers(s), rng.integers(2)
        features[i, row, col, c] += 3.0
        x0, y0 = (col + 0.25) / s, (row + 0.25) / s
        boxes.append(np.array([[x0, y0, x0 + 0.5 / s, y0 + 0.5 / s]]))
        labels.append(np.array([c]))
    anchors = np.array([[0.5 / s, 0.5 / s]])
    targets = D.yolo_targets(boxes, labels, s, anchors, num_classes=2)
    keras.utils.set_random_seed(0)
    head = detector.detection_head(s, ch, 1, 2, width=16, dropout=0.0)
    head.compile(optimizer=keras.optimizers.Adam(1e-2), loss=detector.YoloLoss())
    head.fit(features[:192], targets[:192], epochs=30, batch_size=32, verbose=0)
    found = detector.detect(head.predict(features[192:], verbose=0), anchors)
    m, _ = D.mean_average_precision(found, boxes[192:], labels[192:], num_classes=2)
    assert m > 0.9
    assert detector.recall_at(found, boxes[192:]) > 0.95


def test_detect_and_recall_errors() -> None:
    with pytest.raises(ValueError, match=r"\[n, S, S, B, 5 \+ C\]"):
        detector.detect(np.zeros((2, 2, 1, 6)), [[0.5, 0.5]])
    with pytest.raises(ValueError, match="no true boxes"):
        detector.recall_at([], [])
