from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_utils import plots


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_show_images_grid_and_titles() -> None:
    fig = plots.show_images(np.zeros((5, 8, 8, 3)), titles=list("abcde"), ncols=3)
    assert len(fig.axes) == 5
    assert [ax.get_title() for ax in fig.axes] == list("abcde")


def test_single_channel_images_are_grey() -> None:
    fig = plots.show_images([np.zeros((4, 4, 1))])
    assert fig.axes[0].images[0].get_cmap().name == "gray"


def test_feature_maps_one_panel_per_channel() -> None:
    assert len(plots.show_feature_maps(np.random.default_rng(0).random((6, 6, 4))).axes) == 4
    with pytest.raises(ValueError, match="channels"):
        plots.show_feature_maps(np.zeros((6, 6)))


def test_history_curves_and_phase_line() -> None:
    logs = {"loss": [1.0, 0.8, 0.5], "val_loss": [1.1, 0.9, 0.7], "accuracy": [0.5, 0.6, 0.7]}
    fig = plots.plot_history(logs, phase_starts=[2])
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert len(fig.axes[0].lines) == 3  # training, validation, phase marker
    with pytest.raises(ValueError, match="none of"):
        plots.plot_history(logs, metrics=["auc"])


def test_confusion_matrix_counts() -> None:
    fig = plots.plot_confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1], ["cat", "dog"])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["1", "1", "0", "2"]


def test_top_k_bars() -> None:
    fig = plots.plot_top_k(["a", "b", "c"], [0.5, 0.3, 0.2], "x")
    assert len(fig.axes[0].patches) == 3
