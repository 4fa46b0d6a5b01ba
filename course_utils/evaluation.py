"""Accuracy with its uncertainty: how sure a score on N test images can be.

A test accuracy is a proportion measured on a sample. On 60 images one more
mistake moves it by 1.7 points, so lessons print every accuracy with its
count of errors and a 95 % Wilson score interval (computed by SciPy's
``binomtest``)::

    >>> print(Accuracy(56, 60))
    0.933 (4 errors of 60; 95% CI 0.841-0.974)
    >>> print(Accuracy(280, 300))
    0.933 (20 errors of 300; 95% CI 0.899-0.956)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


def wilson_interval(correct: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of the proportion ``correct / n``.

    >>> [round(v, 3) for v in wilson_interval(56, 60)]
    [0.841, 0.974]
    >>> wilson_interval(0, 10)[0]
    0.0
    """
    from scipy.stats import binomtest

    if n < 1 or not 0 <= correct <= n:
        raise ValueError(f"need 0 <= correct <= n and n >= 1, got correct={correct}, n={n}")
    ci = binomtest(int(correct), int(n)).proportion_ci(confidence, method="wilson")
    return float(ci.low), float(ci.high)


@dataclass(frozen=True)
class Accuracy:
    """``correct`` right answers out of ``n``, printed with the errors and the 95 % interval."""

    correct: int
    n: int

    @property
    def value(self) -> float:
        """The accuracy, ``correct / n``.

        >>> Accuracy(3, 4).value
        0.75
        """
        return self.correct / self.n

    @property
    def errors(self) -> int:
        """How many answers were wrong.

        >>> Accuracy(3, 4).errors
        1
        """
        return self.n - self.correct

    @property
    def interval(self) -> tuple[float, float]:
        """The 95 % Wilson interval (see :func:`wilson_interval`)."""
        return wilson_interval(self.correct, self.n)

    def __str__(self) -> str:
        low, high = self.interval
        return f"{self.value:.3f} ({self.errors} errors of {self.n}; 95% CI {low:.3f}-{high:.3f})"


def accuracy_of(y_true: Sequence[int] | np.ndarray, y_pred: Sequence[int] | np.ndarray) -> Accuracy:
    """Compare predicted with true class indices.

    >>> print(accuracy_of([0, 1, 1, 0], [0, 1, 0, 0]))
    0.750 (1 errors of 4; 95% CI 0.301-0.954)
    """
    true, pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    if true.shape != pred.shape or true.size == 0:
        raise ValueError(f"need as many predictions as labels (>0): {pred.size} vs {true.size}")
    return Accuracy(int((true == pred).sum()), int(true.size))


def model_accuracy(model: Any, dataset: Any) -> tuple[Accuracy, np.ndarray, np.ndarray]:
    """A classifier's :class:`Accuracy` on a ``(images, labels)`` dataset, with the labels
    and predictions (the dataset must not reshuffle between passes, e.g. a test split).

    >>> import keras, tensorflow as tf
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    >>> model.set_weights([np.array([[1.0], [0.0]]), np.array([0.0])])
    >>> ds = tf.data.Dataset.from_tensor_slices(([[2.0, 0.0], [-2.0, 0.0]], [1, 1])).batch(2)
    >>> acc, y_true, y_pred = model_accuracy(model, ds)
    >>> print(acc)
    0.500 (1 errors of 2; 95% CI 0.095-0.905)
    >>> y_pred.tolist()
    [1, 0]
    """
    from course_utils.transfer import predicted_classes

    y_true = np.concatenate([np.asarray(labels).reshape(-1) for _, labels in dataset])
    y_pred = predicted_classes(model.predict(dataset, verbose=0))
    return accuracy_of(y_true, y_pred), y_true, y_pred
