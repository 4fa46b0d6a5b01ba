"""The maths of detection (lesson 08): NMS, YOLO-style encoding and decoding, anchors, mAP.

Boxes are normalised ``"corners"`` arrays (:mod:`course_utils.boxes`). The
pieces here are the ones the lesson writes by hand and tests against a
library: :func:`non_max_suppression` equals ``tf.image.non_max_suppression``.

    >>> non_max_suppression([[0, 0, 1, 1], [0, 0, 1, 0.9]], [0.9, 0.8]).tolist()
    [0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit, softmax

from course_utils.boxes import (
    _as_boxes,
    _iou_broadcast,
    center_to_corners,
    corners_to_center,
    iou_matrix,
    to_corners,
)

# --------------------------------------------------------------------------- NMS


def non_max_suppression(
    boxes: Any,
    scores: Any,
    iou_threshold: float = 0.5,
    score_threshold: float = float("-inf"),
    max_output_size: int | None = None,
) -> np.ndarray:
    """Greedy non-max suppression: indices of the boxes kept, best score first.

    Repeat: take the highest-scoring box left, keep it, and drop every other
    box that overlaps it with IoU > ``iou_threshold``. Boxes scoring at or
    below ``score_threshold`` are never kept. Same rules as
    ``tf.image.non_max_suppression`` (which wants ``max_output_size``).

    >>> non_max_suppression([[0, 0, 1, 1], [0, 0, 1, 0.9], [2, 2, 3, 3]], [0.9, 0.8, 0.7]).tolist()
    [0, 2]
    """
    b = _as_boxes(boxes).reshape(-1, 4)
    s = np.asarray(scores)
    if not np.issubdtype(s.dtype, np.floating):
        s = s.astype(np.float64)
    s = s.reshape(-1)
    threshold = np.asarray(score_threshold, dtype=s.dtype)  # compare in the scores' precision
    if len(s) != len(b):
        raise ValueError(f"{len(b)} boxes but {len(s)} scores")
    if not 0.0 <= iou_threshold <= 1.0:
        raise ValueError(f"iou_threshold must be in [0, 1], got {iou_threshold}")
    limit = len(b) if max_output_size is None else int(max_output_size)
    if limit < 0:
        raise ValueError(f"max_output_size must be >= 0, got {max_output_size}")
    # tf.image accepts corners in either order; so do we.
    b = np.concatenate([np.minimum(b[:, :2], b[:, 2:]), np.maximum(b[:, :2], b[:, 2:])], axis=1)
    order = [i for i in np.argsort(-s, kind="stable") if s[i] > threshold]
    keep: list[int] = []
    while order and len(keep) < limit:
        best, rest = order[0], np.array(order[1:], dtype=int)
        keep.append(int(best))
        if rest.size == 0:
            break
        overlaps = _iou_broadcast(b[best][None, :], b[rest])
        order = [int(i) for i in rest[overlaps <= iou_threshold]]
    return np.array(keep, dtype=np.int64)


# --------------------------------------------------------------------------- YOLO


@dataclass(frozen=True)
class Detections:
    """Boxes (corners, normalised), their scores and class ids, best first."""

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)


def _check_yolo(output: np.ndarray, anchors: np.ndarray) -> tuple[int, int, int, int]:
    if anchors.ndim != 2 or anchors.shape[1] != 2 or len(anchors) == 0:
        raise ValueError(f"anchors must have shape [B, 2] (width, height), got {anchors.shape}")
    if output.ndim != 4 or output.shape[0] != output.shape[1] or output.shape[2] != len(anchors):
        raise ValueError(
            f"YOLO output must be [S, S, B, 5 + classes] with B={len(anchors)} anchors, "
            f"got {output.shape}"
        )
    if output.shape[3] < 6:
        raise ValueError(f"the last axis needs 5 box numbers + >= 1 class, got {output.shape[3]}")
    s, _, b, d = output.shape
    return s, b, d - 5, d


def decode_yolo(
    output: Any,
    anchors: Any,
    score_threshold: float = 0.5,
    iou_threshold: float | None = 0.5,
) -> Detections:
    """Turn a YOLO-style output tensor ``[S, S, B, 5 + C]`` into boxes.

    For grid cell (row, col) and anchor k, the five raw numbers
    ``(tx, ty, tw, th, to)`` mean: centre x = (col + sigmoid(tx)) / S (an offset
    of 0-1 inside the cell), centre y likewise with the row, width =
    anchor_w * exp(tw), height = anchor_h * exp(th), objectness = sigmoid(to).
    The C remaining numbers are class logits (softmax). A box's score is
    objectness x its best class probability; boxes scoring below
    ``score_threshold`` are dropped and, unless ``iou_threshold`` is None,
    :func:`non_max_suppression` removes duplicates (class by class).

    >>> out = np.full((2, 2, 1, 6), -9.0)
    >>> out[1, 0, 0] = [0.0, 0.0, 0.0, 0.0, 9.0, 0.0]   # a box centred in cell row 1, col 0
    >>> d = decode_yolo(out, anchors=[[0.5, 0.5]])
    >>> d.boxes.round(3).tolist()
    [[0.0, 0.5, 0.5, 1.0]]
    """
    raw = np.asarray(output, dtype=np.float64)
    anc = np.asarray(anchors, dtype=np.float64)
    s, _, _, _ = _check_yolo(raw, anc)
    rows, cols = np.meshgrid(np.arange(s), np.arange(s), indexing="ij")
    xc = (cols[..., None] + expit(raw[..., 0])) / s
    yc = (rows[..., None] + expit(raw[..., 1])) / s
    w = anc[:, 0] * np.exp(raw[..., 2])
    h = anc[:, 1] * np.exp(raw[..., 3])
    objectness = expit(raw[..., 4])
    probs = softmax(raw[..., 5:], axis=-1)
    classes = probs.argmax(axis=-1)
    scores = objectness * probs.max(axis=-1)
    boxes = center_to_corners(np.stack([xc, yc, w, h], axis=-1)).reshape(-1, 4)
    scores, classes = scores.reshape(-1), classes.reshape(-1)
    mask = scores >= score_threshold
    boxes, scores, classes = boxes[mask], scores[mask], classes[mask]
    if iou_threshold is not None:
        keep = np.concatenate(
            [
                np.flatnonzero(classes == c)[
                    non_max_suppression(boxes[classes == c], scores[classes == c], iou_threshold)
                ]
                for c in np.unique(classes)
            ]
            or [np.zeros(0, np.int64)]
        ).astype(np.int64)
        boxes, scores, classes = boxes[keep], scores[keep], classes[keep]
    order = np.argsort(-scores, kind="stable")
    return Detections(boxes[order].reshape(-1, 4), scores[order], classes[order].astype(np.int64))


def encode_yolo(
    boxes: Any,
    labels: Any,
    grid_size: int,
    anchors: Any,
    num_classes: int,
    box_format: str = "corners",
    confidence_logit: float = 12.0,
) -> np.ndarray:
    """The YOLO-style target tensor ``[S, S, B, 5 + C]`` that :func:`decode_yolo` inverts.

    Each box goes to the cell that holds its centre and to the anchor whose
    shape matches it best (IoU of widths and heights); that slot gets the
    offsets, log size ratios, a high objectness logit and a one-hot-ish class
    logit. Every other slot has a very low objectness. (A real YOLO *predicts*
    this tensor; here we build one by hand to see what it holds.)

    >>> t = encode_yolo([[0.0, 0.5, 0.5, 1.0]], [0], grid_size=2, anchors=[[0.5, 0.5]],
    ...                 num_classes=1)
    >>> t.shape, bool(t[1, 0, 0, 4] > 0), bool(t[0, 0, 0, 4] < 0)
    ((2, 2, 1, 6), True, True)
    """
    anc = np.asarray(anchors, dtype=np.float64)
    out = np.zeros((grid_size, grid_size, len(anc), 5 + num_classes))
    out[..., 4] = -confidence_logit
    _check_yolo(out, anc)
    centers = corners_to_center(to_corners(boxes, box_format).reshape(-1, 4))
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if len(labels) != len(centers):
        raise ValueError(f"{len(centers)} boxes but {len(labels)} labels")
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must be in [0, {num_classes}), got {labels.tolist()}")
    eps = 1e-6
    for (xc, yc, w, h), label in zip(centers, labels, strict=True):
        if w <= 0 or h <= 0:
            raise ValueError(f"cannot encode a box with zero width or height: {[xc, yc, w, h]}")
        col = min(int(xc * grid_size), grid_size - 1)
        row = min(int(yc * grid_size), grid_size - 1)
        k = int(np.argmax(wh_iou(np.array([[w, h]]), anc)[0]))
        fx = np.clip(xc * grid_size - col, eps, 1 - eps)
        fy = np.clip(yc * grid_size - row, eps, 1 - eps)
        out[row, col, k, :5] = [
            np.log(fx / (1 - fx)),
            np.log(fy / (1 - fy)),
            np.log(w / anc[k, 0]),
            np.log(h / anc[k, 1]),
            confidence_logit,
        ]
        out[row, col, k, 5:] = 0.0
        out[row, col, k, 5 + label] = confidence_logit
    return out


# --------------------------------------------------------------------------- anchors


def wh_iou(wh_a: Any, wh_b: Any) -> np.ndarray:
    """IoU of box *shapes* (width, height) placed at the same centre: ``[N, 2]`` x ``[K, 2]``.

    This is the "distance" YOLOv2 uses to cluster box sizes into anchors.

    >>> wh_iou([[1.0, 1.0]], [[1.0, 1.0], [2.0, 0.5]]).round(3).tolist()
    [[1.0, 0.333]]
    """
    a = np.asarray(wh_a, dtype=np.float64).reshape(-1, 2)
    b = np.asarray(wh_b, dtype=np.float64).reshape(-1, 2)
    inter = np.minimum(a[:, None, 0], b[None, :, 0]) * np.minimum(a[:, None, 1], b[None, :, 1])
    union = (a[:, 0] * a[:, 1])[:, None] + (b[:, 0] * b[:, 1])[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def kmeans_anchors(wh: Any, k: int, seed: int = 0, max_iter: int = 100) -> np.ndarray:
    """Cluster box sizes ``[N, 2]`` into ``k`` anchor shapes with distance ``1 - IoU``.

    Plain Lloyd's algorithm (assign each box to the anchor it overlaps most,
    move each anchor to the mean size of its boxes, repeat until nothing
    changes), started from ``k`` distinct boxes picked with ``seed``. Returns
    ``[k, 2]`` sorted by area. Deterministic for a given seed.

    >>> wh = [[0.1, 0.1], [0.11, 0.1], [0.5, 0.3], [0.52, 0.3]]
    >>> kmeans_anchors(wh, k=2).round(3).tolist()
    [[0.105, 0.1], [0.51, 0.3]]
    """
    data = np.asarray(wh, dtype=np.float64).reshape(-1, 2)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if np.any(data <= 0):
        raise ValueError("box widths and heights must be positive")
    distinct = np.unique(data, axis=0)
    if len(distinct) < k:
        raise ValueError(f"need at least k={k} distinct box sizes, got {len(distinct)}")
    rng = np.random.default_rng(seed)
    anchors = distinct[rng.choice(len(distinct), size=k, replace=False)]
    assign = np.full(len(data), -1)
    for _ in range(max_iter):
        new = wh_iou(data, anchors).argmax(axis=1)
        if np.array_equal(new, assign):
            break
        assign = new
        for j in range(k):
            members = data[assign == j]
            if len(members):
                anchors[j] = members.mean(axis=0)
    return anchors[np.argsort(anchors[:, 0] * anchors[:, 1], kind="stable")]


def mean_best_iou(wh: Any, anchors: Any) -> float:
    """Average, over boxes, of the IoU with their best-matching anchor (higher is better).

    >>> mean_best_iou([[1.0, 1.0]], [[1.0, 1.0]])
    1.0
    """
    return float(wh_iou(wh, anchors).max(axis=1).mean())


# --------------------------------------------------------------------------- mAP


def average_precision(
    detections: Sequence[tuple[Any, Any]], ground_truths: Sequence[Any], iou_threshold: float = 0.5
) -> float:
    """Average precision of one class over a set of images (all-point interpolation).

    ``detections[i] = (boxes, scores)`` and ``ground_truths[i] = boxes`` for
    image i (corners). All detections are ranked by score; one is a true
    positive when it overlaps a not-yet-matched true box with IoU >=
    ``iou_threshold``. AP is the area under the precision-recall curve (with
    precision made monotone); mAP is its mean over classes.

    >>> average_precision([([[0, 0, 1, 1], [5, 5, 6, 6]], [0.9, 0.8])], [[[0, 0, 1, 1]]])
    1.0
    """
    if len(detections) != len(ground_truths):
        raise ValueError(f"{len(detections)} detection lists but {len(ground_truths)} images")
    n_true = sum(len(_as_boxes(g).reshape(-1, 4)) for g in ground_truths)
    if n_true == 0:
        raise ValueError("no ground-truth boxes: average precision is undefined")
    ranked = []
    for image, (boxes, scores) in enumerate(detections):
        b = _as_boxes(boxes).reshape(-1, 4)
        for box, score in zip(b, np.asarray(scores, dtype=np.float64).reshape(-1), strict=True):
            ranked.append((-score, image, box))
    ranked.sort(key=lambda r: r[0])
    matched = [np.zeros(len(_as_boxes(g).reshape(-1, 4)), bool) for g in ground_truths]
    hits = []
    for _, image, box in ranked:
        truth = _as_boxes(ground_truths[image]).reshape(-1, 4)
        ious = iou_matrix(box[None], truth)[0] if len(truth) else np.zeros(0)
        ious[matched[image]] = -1.0
        j = int(np.argmax(ious)) if len(ious) else -1
        hit = j >= 0 and ious[j] >= iou_threshold
        if hit:
            matched[image][j] = True
        hits.append(hit)
    tp = np.cumsum(hits)
    recall = np.concatenate([[0.0], tp / n_true])
    precision = np.concatenate([[1.0], tp / np.arange(1, len(hits) + 1)])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum(np.diff(recall) * precision[1:]))
