"""Plotting helpers that keep boilerplate out of the lessons.

Every function draws with matplotlib and returns the ``Figure`` so a lesson
can tweak or save it::

    >>> import numpy as np
    >>> fig = show_images(np.zeros((2, 8, 8, 3)), titles=["a", "b"])
    >>> len(fig.axes)
    2
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


def _grid(n: int, ncols: int, size: float) -> tuple[Figure, np.ndarray]:
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for ax in axes.flat[n:]:
        fig.delaxes(ax)
    return fig, axes.flat[:n]


def show_images(
    images: Sequence[np.ndarray] | np.ndarray,
    titles: Sequence[str] | None = None,
    ncols: int = 4,
    size: float = 3.0,
    cmap: str | None = None,
) -> Figure:
    """Show images in a grid, axes off, one optional title each.

    Float images are expected in [0, 1], integer images in [0, 255];
    single-channel images are drawn with ``cmap`` (default grey).

    >>> show_images([np.ones((4, 4))]).axes[0].get_title()
    ''
    """
    images = list(images)
    fig, axes = _grid(len(images), ncols, size)
    for i, (ax, img) in enumerate(zip(axes, images, strict=True)):
        img = np.asarray(img)
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        ax.imshow(img, cmap=cmap or ("gray" if img.ndim == 2 else None))
        ax.set_title(titles[i] if titles else "", fontsize=10)
        ax.axis("off")
    fig.tight_layout()
    return fig


def show_feature_maps(
    maps: np.ndarray, titles: Sequence[str] | None = None, ncols: int = 4, size: float = 3.0
) -> Figure:
    """Show the channels of one feature map ``[height, width, channels]`` side by side.

    >>> len(show_feature_maps(np.zeros((5, 5, 3))).axes)
    3
    """
    maps = np.asarray(maps)
    if maps.ndim != 3:
        raise ValueError(f"expected [height, width, channels], got shape {maps.shape}")
    channels = [maps[..., c] for c in range(maps.shape[-1])]
    return show_images(channels, titles=titles, ncols=ncols, size=size, cmap="gray")


def plot_history(
    history: Any, metrics: Sequence[str] = ("loss", "accuracy"), phase_starts: Sequence[int] = ()
) -> Figure:
    """Learning curves (training and validation) from a ``History`` or its ``.history`` dict.

    ``phase_starts`` draws a vertical line at each epoch where a new phase
    (e.g. fine-tuning) begins.

    >>> fig = plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, metrics=["loss"])
    >>> fig.axes[0].get_title()
    'loss'
    """
    logs: Mapping[str, Sequence[float]] = getattr(history, "history", history)
    present = [m for m in metrics if m in logs]
    if not present:
        raise ValueError(f"none of {list(metrics)} in history keys {sorted(logs)}")
    fig, axes = plt.subplots(1, len(present), figsize=(5 * len(present), 3.5), squeeze=False)
    for ax, metric in zip(axes.flat, present, strict=True):
        epochs = np.arange(1, len(logs[metric]) + 1)
        ax.plot(epochs, logs[metric], "o-", label="training")
        if f"val_{metric}" in logs:
            ax.plot(epochs, logs[f"val_{metric}"], "s--", label="validation")
        for start in phase_starts:
            ax.axvline(start + 0.5, color="grey", linestyle=":", label="next phase")
        ax.set_title(metric)
        ax.set_xlabel("epoch")
        ax.legend()
    fig.tight_layout()
    return fig


def plot_confusion_matrix(
    y_true: Sequence[int], y_pred: Sequence[int], class_names: Sequence[str]
) -> Figure:
    """A labelled confusion matrix (rows: true class, columns: predicted class).

    Drawn by scikit-learn's ``ConfusionMatrixDisplay``; this only sizes the
    figure for the number of classes and names the axes.

    >>> fig = plot_confusion_matrix([0, 1, 1], [0, 1, 0], ["cat", "dog"])
    >>> fig.axes[0].get_ylabel(), [t.get_text() for t in fig.axes[0].texts]
    ('true', ['1', '0', '1', '1'])
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    n = len(class_names)
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * n, 1.0 + 0.7 * n))
    ConfusionMatrixDisplay.from_predictions(
        y_true, y_pred, labels=list(range(n)), display_labels=list(class_names),
        cmap="Blues", colorbar=False, xticks_rotation=45, ax=ax,
    )  # fmt: skip
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.tight_layout()
    return fig


def plot_top_k(labels: Sequence[str], scores: Sequence[float], title: str = "") -> Figure:
    """Horizontal bar chart of top-k class names and their probabilities.

    >>> plot_top_k(["cat", "dog"], [0.7, 0.2], "photo").axes[0].get_title()
    'photo'
    """
    fig, ax = plt.subplots(figsize=(5, 0.4 + 0.4 * len(labels)))
    y = np.arange(len(labels))[::-1]
    ax.barh(y, scores)
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    ax.set_title(title)
    fig.tight_layout()
    return fig
