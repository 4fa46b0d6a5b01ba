"""Drawn diagrams of window geometry: convolution windows, padding, stride, pooling (lessons 01-02).

Each function returns a matplotlib ``Figure`` drawn from the same arithmetic
the layers use (``keras.layers.Conv2D(...).compute_output_shape`` agrees with
:func:`output_size`), so the picture cannot drift from the formula::

    >>> output_size(5, 3, stride=2, padding="valid")
    2
    >>> len(conv_geometry([(3, 1, "valid"), (3, 1, "same")]).axes)
    4
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

#: Colours of the highlighted windows and the outputs they produce.
WINDOW_COLOURS = ("tab:orange", "tab:blue", "tab:green", "tab:purple")


def output_size(n: int, f: int, stride: int = 1, padding: str = "valid") -> int:
    """Output length along one axis, as Keras computes it.

    >>> output_size(7, 3), output_size(7, 3, padding="same"), output_size(7, 3, stride=2)
    (5, 7, 3)
    """
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return math.ceil(n / stride) if padding == "same" else (n - f) // stride + 1


def same_padding(n: int, f: int, stride: int = 1) -> tuple[int, int]:
    """Zeros added before and after along one axis by ``padding="same"`` (TensorFlow's rule).

    The total is split evenly, any odd one going after:

    >>> same_padding(5, 3), same_padding(6, 3, stride=2)
    ((1, 1), (0, 1))
    """
    out = math.ceil(n / stride)
    total = max((out - 1) * stride + f - n, 0)
    return total // 2, total - total // 2


def _grid(
    ax: Axes,
    rows: int,
    cols: int,
    *,
    origin: tuple[float, float] = (0, 0),
    shade: np.ndarray | None = None,
    labels: np.ndarray | None = None,
) -> None:
    x0, y0 = origin
    for r in range(rows):
        for c in range(cols):
            face = "0.85" if shade is not None and shade[r, c] else "white"
            ax.add_patch(Rectangle((x0 + c, y0 + r), 1, 1, facecolor=face, edgecolor="0.4", lw=0.8))
            if labels is not None:
                ax.text(
                    x0 + c + 0.5,
                    y0 + r + 0.5,
                    str(labels[r, c]),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="0.3" if shade is not None and shade[r, c] else "black",
                )


def _window(ax: Axes, x: float, y: float, w: float, h: float, colour: str) -> None:
    ax.add_patch(
        Rectangle((x + 0.06, y + 0.06), w - 0.12, h - 0.12, fill=False, edgecolor=colour, lw=2.5)
    )


def _finish(ax: Axes, width: float, height: float, title: str) -> None:
    ax.set_xlim(-0.3, width + 0.3)
    ax.set_ylim(height + 0.3, -0.3)  # row 0 at the top, like an image
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=10)


def conv_geometry(
    settings: Sequence[tuple[int, int, str]], n: int = 5, size: float = 2.6
) -> Figure:
    """For each ``(kernel, stride, padding)``: the input (zero padding shaded) and the output.

    Two output neurons are highlighted with their receptive fields on the
    input, in matching colours: the first one and the last one of the top row.

    >>> fig = conv_geometry([(3, 2, "same")], n=5)
    >>> [ax.get_title() for ax in fig.axes]
    ['input 5x5, kernel 3, stride 2, same', 'output 3x3']
    """
    fig, axes = plt.subplots(
        len(settings), 2, figsize=(2 * size, size * len(settings)), squeeze=False
    )
    for (f, stride, padding), (ax_in, ax_out) in zip(settings, axes, strict=True):
        before, after = same_padding(n, f, stride) if padding == "same" else (0, 0)
        total = n + before + after
        shade = np.ones((total, total), bool)
        shade[before : before + n, before : before + n] = False
        labels = np.where(shade, 0, np.full_like(shade, " ", dtype=object))
        _grid(ax_in, total, total, shade=shade, labels=labels)
        out = output_size(n, f, stride, padding)
        _grid(ax_out, out, out)
        for colour, j in zip(WINDOW_COLOURS, sorted({0, out - 1}), strict=False):
            _window(ax_in, j * stride, 0, f, f, colour)
            _window(ax_out, j, 0, 1, 1, colour)
        _finish(ax_in, total, total, f"input {n}x{n}, kernel {f}, stride {stride}, {padding}")
        _finish(ax_out, total, total, f"output {out}x{out}")  # same cell size as the input
    fig.tight_layout()
    return fig


def pooling_windows(values: np.ndarray, pool: int = 2, size: float = 2.6) -> Figure:
    """A small single-channel grid, its ``pool x pool`` windows, and max and average pooling.

    Stride equals the pool size (Keras's default), so windows do not overlap;
    each window and the output it produces share a colour.

    >>> fig = pooling_windows(np.arange(16).reshape(4, 4))
    >>> [ax.get_title() for ax in fig.axes]
    ['input 4x4, windows 2x2', 'max pooling', 'average pooling']
    """
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"values must be a 2-D grid, got shape {values.shape}")
    rows, cols = values.shape[0] // pool, values.shape[1] // pool
    if rows == 0 or cols == 0:
        raise ValueError(f"a {values.shape} grid has no complete {pool}x{pool} window")
    windows = values[: rows * pool, : cols * pool].reshape(rows, pool, cols, pool)
    results = {
        "max pooling": windows.max(axis=(1, 3)),
        "average pooling": windows.mean(axis=(1, 3)),
    }
    fig, axes = plt.subplots(
        1, 3, figsize=(3 * size, size), gridspec_kw={"width_ratios": [values.shape[1], cols, cols]}
    )
    _grid(axes[0], *values.shape, labels=values)
    for ax, (title, out) in zip(axes[1:], results.items(), strict=True):
        _grid(ax, rows, cols, labels=np.vectorize(lambda v: f"{v:g}")(np.round(out, 2)))
        _finish(ax, cols, rows, title)
    for k, (r, c) in enumerate(np.ndindex(rows, cols)):
        colour = WINDOW_COLOURS[k % len(WINDOW_COLOURS)]
        _window(axes[0], c * pool, r * pool, pool, pool, colour)
        for ax in axes[1:]:
            _window(ax, c, r, 1, 1, colour)
    _finish(
        axes[0],
        values.shape[1],
        values.shape[0],
        f"input {values.shape[0]}x{values.shape[1]}, windows {pool}x{pool}",
    )
    fig.tight_layout()
    return fig
