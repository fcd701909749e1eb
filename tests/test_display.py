"""nst_helpers.display: every figure function draws small inputs without error (Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nst_helpers import display  # noqa: E402
from nst_helpers.optimise import StyleResult  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    plt.close("all")
    yield
    plt.close("all")
    assert plt.get_fignums() == []


def _titles(fig):
    return [ax.get_title() for ax in fig.axes if ax.get_title()]


def _render(fig):
    fig.canvas.draw()  # actually rasterise, so drawing errors surface here
    width, height = fig.canvas.get_width_height()
    assert width > 0 and height > 0


def test_show_images_grid_titles_and_zoom(small_image, small_portrait):
    fig = display.show_images([small_image, small_portrait, small_image], ["a", "b", "c"], ncols=2,
                              suptitle="grid")
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 4  # 2x2 grid, the spare axis hidden
    assert _titles(fig) == ["a", "b", "c"] and fig._suptitle.get_text() == "grid"
    assert not fig.axes[3].images  # nothing drawn in the spare cell
    _render(fig)
    plt.close(fig)

    zoomed = display.show_images([small_image], zoom=(0.25, 0.5, 0.5, 0.5))
    (shown,) = zoomed.axes[0].images
    assert shown.get_array().shape == (24, 32, 3)  # rows 12:36, columns 32:64 of a 48x64 image
    np.testing.assert_allclose(np.asarray(shown.get_array()), small_image[12:36, 32:64], atol=1e-6)
    plt.close(zoomed)


def test_show_images_accepts_uint8_and_batched(small_image):
    as_uint8 = (small_image * 255).astype(np.uint8)
    fig = display.show_images([as_uint8, small_image[None]])
    assert len(fig.axes) == 2
    _render(fig)
    plt.close(fig)


def test_show_result_single_and_multiple_styles(small_image, small_portrait):
    result = StyleResult(image=small_image, loss=1.0)
    fig = display.show_result(small_image, small_portrait, result)
    assert _titles(fig) == ["content", "style", "result"]
    _render(fig)
    plt.close(fig)
    fig = display.show_result(small_image, [small_portrait, small_image],
                              small_image)  # a bare array works too
    assert _titles(fig) == ["content", "style 1", "style 2", "result"]
    plt.close(fig)


def test_show_frames(small_image):
    frames = [(i, np.clip(small_image * (0.5 + 0.1 * i), 0, 1)) for i in (10, 20, 30)]
    fig = display.show_frames(frames, ncols=2)
    assert _titles(fig) == ["iteration 10", "iteration 20", "iteration 30"]
    assert len(fig.axes) == 4
    _render(fig)
    plt.close(fig)


def test_plot_losses_iteration_and_seconds():
    history = [dict(iteration=i, seconds=0.1 * i, total=10.0 / i, content=1.0 / i, style=5.0 / i, tv=0.1)
               for i in range(1, 6)]
    ax = display.plot_losses(history)
    assert [line.get_label() for line in ax.get_lines()] == ["total", "content", "style", "tv"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [10.0 / i for i in range(1, 6)])
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "iteration"
    _render(ax.figure)
    plt.close(ax.figure)

    fig, given = plt.subplots()
    ax = display.plot_losses(history, terms=("total",), x="seconds", ax=given, label="adam", logy=False)
    assert ax is given and ax.get_xlabel() == "seconds" and ax.get_yscale() == "linear"
    assert [line.get_label() for line in ax.get_lines()] == ["adam total"]
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [0.1 * i for i in range(1, 6)])
    plt.close(fig)


def test_show_feature_maps(rng):
    features = rng.uniform(0, 3, (1, 6, 8, 5)).astype(np.float32)
    fig = display.show_feature_maps(features, channels=4, title="block1")
    assert len(fig.axes) == 4 and _titles(fig) == ["ch 0", "ch 1", "ch 2", "ch 3"]
    np.testing.assert_allclose(np.asarray(fig.axes[2].images[0].get_array()), features[0, ..., 2])
    _render(fig)
    plt.close(fig)
    fig = display.show_feature_maps(features, channels=1)  # a single axis, not an array of them
    assert len(fig.axes) == 1
    plt.close(fig)
