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
    for (row, col, k, fx, fy, w, h), label in zip(
        _match(centers, grid_size, anc), labels, strict=True
    ):
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


def _match(
    centers: np.ndarray, grid_size: int, anchors: np.ndarray
) -> list[tuple[int, int, int, float, float, float, float]]:
    """For each ``(xc, yc, w, h)`` box: its cell, its best anchor and its offsets in the cell."""
    eps = 1e-6
    out = []
    for xc, yc, w, h in centers:
        if w <= 0 or h <= 0:
            raise ValueError(f"cannot encode a box with zero width or height: {[xc, yc, w, h]}")
        col = min(max(int(xc * grid_size), 0), grid_size - 1)
        row = min(max(int(yc * grid_size), 0), grid_size - 1)
        k = int(np.argmax(wh_iou(np.array([[w, h]]), anchors)[0]))
        fx = float(np.clip(xc * grid_size - col, eps, 1 - eps))
        fy = float(np.clip(yc * grid_size - row, eps, 1 - eps))
        out.append((row, col, k, fx, fy, float(w), float(h)))
    return out


#: What each of the 6 numbers of a training target slot means (:func:`yolo_targets`).
TARGET_FIELDS = ("x offset", "y offset", "log w/anchor", "log h/anchor", "object", "class")


def anchor_boxes(grid_size: int, anchors: Any) -> np.ndarray:
    """Every anchor placed at the centre of every cell: corner boxes ``[S, S, B, 4]``.

    That is where a slot's box sits before the network moves it (offsets of
    0 logits put the centre mid-cell, size ratios of 0 keep the anchor's size).

    >>> anchor_boxes(2, [[0.5, 0.5]])[0, 1, 0].tolist()
    [0.5, 0.0, 1.0, 0.5]
    """
    anc = np.asarray(anchors, dtype=np.float64).reshape(-1, 2)
    mid = (np.arange(grid_size) + 0.5) / grid_size
    xc = np.broadcast_to(mid[None, :, None], (grid_size, grid_size, len(anc)))
    yc = np.broadcast_to(mid[:, None, None], (grid_size, grid_size, len(anc)))
    w = np.broadcast_to(anc[:, 0], xc.shape)
    h = np.broadcast_to(anc[:, 1], xc.shape)
    return center_to_corners(np.stack([xc, yc, w, h], axis=-1))


def yolo_targets(
    boxes: Sequence[Any],
    labels: Sequence[Any],
    grid_size: int,
    anchors: Any,
    num_classes: int,
    ignore_iou: float | None = None,
) -> np.ndarray:
    """Training targets ``[n, S, S, B, 6]`` for a batch of images with several boxes each.

    ``boxes[i]`` (corners, normalised) and ``labels[i]`` are image i's
    objects. Each box is *matched* to the cell that holds its centre and to
    the anchor whose shape overlaps it most (as in :func:`encode_yolo`);
    that slot gets ``TARGET_FIELDS``: the centre's offsets in the cell (0-1,
    what the sigmoid of the prediction should be), the log size ratios to the
    anchor, objectness 1 and the class id. Every other slot has objectness 0
    (the rest of it is ignored by the loss). Two boxes matched to the same
    slot: the later one wins.

    ``ignore_iou`` (off by default): an unmatched slot whose anchor, at its
    cell's centre (:func:`anchor_boxes`), overlaps a true box with IoU above
    it gets objectness -1, "don't care": it sits on an object, so it is
    neither pushed towards "object" nor towards "nothing here" (the YOLOv3
    paper ignores such priors, with 0.5).

    >>> t = yolo_targets([[[0.0, 0.5, 0.5, 1.0]]], [[1]], grid_size=2, anchors=[[0.5, 0.5]],
    ...                  num_classes=2)
    >>> t.shape, t[0, 1, 0, 0].round(3).tolist()
    ((1, 2, 2, 1, 6), [0.5, 0.5, 0.0, 0.0, 1.0, 1.0])
    >>> wide = [[[0.0, 0.5, 0.75, 1.0]]]  # IoU 0.25 with the next cell's anchor
    >>> yolo_targets(wide, [[1]], 2, [[0.5, 0.5]], 2, ignore_iou=0.2)[0, 1, :, 0, 4].tolist()
    [1.0, -1.0]
    """
    if ignore_iou is not None and not 0.0 <= ignore_iou < 1.0:
        raise ValueError(f"ignore_iou must be in [0, 1) or None, got {ignore_iou}")
    anc = np.asarray(anchors, dtype=np.float64)
    if len(boxes) != len(labels):
        raise ValueError(f"{len(boxes)} box lists but {len(labels)} label lists")
    out = np.zeros((len(boxes), grid_size, grid_size, len(anc), 6), np.float32)
    _check_yolo(np.zeros((grid_size, grid_size, len(anc), 5 + num_classes)), anc)
    for i, (image_boxes, image_labels) in enumerate(zip(boxes, labels, strict=True)):
        centers = corners_to_center(_as_boxes(image_boxes).reshape(-1, 4))
        lab = np.asarray(image_labels, dtype=np.int64).reshape(-1)
        if len(lab) != len(centers):
            raise ValueError(f"image {i}: {len(centers)} boxes but {len(lab)} labels")
        if len(lab) and (lab.min() < 0 or lab.max() >= num_classes):
            raise ValueError(f"image {i}: labels must be in [0, {num_classes}), got {lab.tolist()}")
        for (row, col, k, fx, fy, w, h), label in zip(
            _match(centers, grid_size, anc), lab, strict=True
        ):
            out[i, row, col, k] = [fx, fy, np.log(w / anc[k, 0]), np.log(h / anc[k, 1]), 1, label]
    if ignore_iou is not None:
        priors = anchor_boxes(grid_size, anc).reshape(-1, 4)
        for i, image_boxes in enumerate(boxes):
            truth = _as_boxes(image_boxes).reshape(-1, 4)
            if len(truth):
                near = (iou_matrix(priors, truth).max(axis=1) > ignore_iou).reshape(out.shape[1:4])
                out[i, ..., 4][near & (out[i, ..., 4] == 0)] = -1.0
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


def precision_recall_curve(
    detections: Sequence[tuple[Any, Any]], ground_truths: Sequence[Any], iou_threshold: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Recall and precision after each detection of one class, ranked by score over all images.

    ``detections[i] = (boxes, scores)`` and ``ground_truths[i] = boxes`` for
    image i (corners). Walking down the ranking, a detection is a true
    positive when it overlaps a not-yet-matched true box of its image with
    IoU >= ``iou_threshold``, otherwise a false positive (a miss or a
    duplicate). Both arrays start at recall 0, precision 1.

    >>> r, p = precision_recall_curve([([[0, 0, 1, 1], [5, 5, 6, 6]], [0.9, 0.8])],
    ...                               [[[0, 0, 1, 1], [2, 2, 3, 3]]])
    >>> r.tolist(), p.tolist()
    ([0.0, 0.5, 0.5], [1.0, 1.0, 0.5])
    """
    if len(detections) != len(ground_truths):
        raise ValueError(f"{len(detections)} detection lists but {len(ground_truths)} images")
    truths = [_as_boxes(g).reshape(-1, 4) for g in ground_truths]
    n_true = sum(len(t) for t in truths)
    if n_true == 0:
        raise ValueError("no ground-truth boxes: average precision is undefined")
    ranked = []
    for image, (boxes, scores) in enumerate(detections):
        b = _as_boxes(boxes).reshape(-1, 4)
        for box, score in zip(b, np.asarray(scores, dtype=np.float64).reshape(-1), strict=True):
            ranked.append((-score, image, box))
    ranked.sort(key=lambda r: r[0])
    matched = [np.zeros(len(t), bool) for t in truths]
    hits = []
    for _, image, box in ranked:
        truth = truths[image]
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
    return recall, precision


def average_precision(
    detections: Sequence[tuple[Any, Any]], ground_truths: Sequence[Any], iou_threshold: float = 0.5
) -> float:
    """Average precision of one class over a set of images (all-point interpolation).

    The area under :func:`precision_recall_curve`, with precision made
    monotone (at each recall, the best precision at that recall or beyond);
    mAP is its mean over classes (:func:`mean_average_precision`).

    >>> average_precision([([[0, 0, 1, 1], [5, 5, 6, 6]], [0.9, 0.8])], [[[0, 0, 1, 1]]])
    1.0
    """
    recall, precision = precision_recall_curve(detections, ground_truths, iou_threshold)
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum(np.diff(recall) * precision[1:]))


def _of_class(detections: Detections, c: int) -> tuple[np.ndarray, np.ndarray]:
    keep = detections.classes == c
    return detections.boxes[keep], detections.scores[keep]


def mean_average_precision(
    detections: Sequence[Detections],
    true_boxes: Sequence[Any],
    true_labels: Sequence[Any],
    num_classes: int,
    iou_threshold: float = 0.5,
) -> tuple[float, np.ndarray]:
    """mAP@``iou_threshold`` and the AP of each class (NaN for a class with no true box).

    A detection counts for its predicted class only: a box in the right place
    with the wrong class is a false positive of one class and a miss of
    another.

    >>> found = Detections(np.array([[0, 0, 1, 1.0]]), np.array([0.9]), np.array([1]))
    >>> m, per_class = mean_average_precision([found], [[[0, 0, 1, 1]]], [[1]], num_classes=2)
    >>> m, per_class.tolist()
    (1.0, [nan, 1.0])
    """
    if not len(detections) == len(true_boxes) == len(true_labels):
        raise ValueError(
            f"{len(detections)} detections, {len(true_boxes)} box lists and "
            f"{len(true_labels)} label lists: one of each per image"
        )
    aps = np.full(num_classes, np.nan)
    for c in range(num_classes):
        truths = [
            _as_boxes(b).reshape(-1, 4)[np.asarray(lab).reshape(-1) == c]
            for b, lab in zip(true_boxes, true_labels, strict=True)
        ]
        if sum(len(t) for t in truths):
            aps[c] = average_precision([_of_class(d, c) for d in detections], truths, iou_threshold)
    if np.all(np.isnan(aps)):
        raise ValueError("no ground-truth boxes: mean average precision is undefined")
    return float(np.nanmean(aps)), aps
