"""Figures: image grids, before/after triptychs, frame strips and loss curves (matplotlib).

Each function draws and returns the figure; notebooks end the cell with
``plt.show()`` so that nothing but the picture is printed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

from .images import to_float_image

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from numpy.typing import ArrayLike

__all__ = ["show_images", "show_result", "show_frames", "plot_losses", "show_feature_maps", "JPEG_QUALITY",
           "native_dpi", "setup_figures"]


def show_images(images: Sequence[ArrayLike], titles: Sequence[str] | None = None, *, ncols: int | None = None,
                size: float = 4.0, suptitle: str | None = None,
                zoom: tuple[float, float, float, float] | None = None) -> Figure:
    """Show images side by side, e.g. ``show_images([content, style], ["content", "style"])``.

    Derived in notebook 02, §6 ("Showing images with matplotlib").

    Args:
        images: ``[0, 1]`` RGB arrays (anything :func:`nst_helpers.to_float_image` accepts).
        titles: one title per image, or ``None``.
        ncols: images per row (default: all in one row).
        size: the width of each image, in inches.
        suptitle: a title above the whole figure.
        zoom: ``(top, left, height, width)`` as fractions of the image: crops every image
            to the same region, e.g. to compare fine texture (drawn without smoothing).

    Returns:
        The matplotlib figure.
    """
    images = [to_float_image(image) for image in images]
    if zoom is not None:
        top, left, height, width = zoom
        images = [im[int(top * im.shape[0]): int((top + height) * im.shape[0]),
                     int(left * im.shape[1]): int((left + width) * im.shape[1])] for im in images]
    count = len(images)
    ncols = ncols or count
    nrows = math.ceil(count / ncols)
    aspect = max(im.shape[0] / im.shape[1] for im in images)
    figsize = (size * ncols, size * aspect * nrows + (0.4 if titles else 0))
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < count:
            ax.imshow(images[index], interpolation="lanczos" if zoom is None else "nearest")
            if titles:
                ax.set_title(titles[index], fontsize=11)
    if suptitle:
        fig.suptitle(suptitle, fontsize=13)
    fig.tight_layout()
    return fig


def show_result(content: ArrayLike, style: ArrayLike | Sequence[ArrayLike], result: ArrayLike | object, *,
                size: float = 4.5, titles: tuple[str, str, str] = ("content", "style", "result")) -> Figure:
    """The classic triptych: content | style(s) | result, e.g. ``show_result(content, style, result)``.

    Derived in notebook 01, §4 ("The result").

    Args:
        content: the content image.
        style: the style image, or a list of them (one panel each).
        result: a :class:`nst_helpers.StyleResult` (its ``.image`` is shown) or an image.
        size: the width of each panel, in inches.
        titles: the titles of the content, style and result panels.

    Returns:
        The matplotlib figure.
    """
    styles = style if isinstance(style, (list, tuple)) else [style]
    image = getattr(result, "image", result)
    style_titles = [titles[1]] if len(styles) == 1 else [f"style {i + 1}" for i in range(len(styles))]
    names = [titles[0], *style_titles]
    return show_images([content, *styles, image], names + [titles[2]], size=size)


def show_frames(frames: Sequence[tuple[int, ArrayLike]], *, ncols: int = 5, size: float = 2.6) -> Figure:
    """Intermediate images as a grid titled by iteration, e.g. ``show_frames(result.frames)``.

    Derived in notebook 06, §7 ("The packaged loop: `nh.stylize(optimizer="adam")`").

    Args:
        frames: ``[(iteration, image), ...]``, as ``stylize(..., frame_every=N)`` collects them.
        ncols: images per row.
        size: the width of each image, in inches.

    Returns:
        The matplotlib figure.
    """
    if not frames:
        from .errors import OptionError

        raise OptionError("no frames to show: run stylize(..., frame_every=N) to collect them")
    return show_images([image for _, image in frames], [f"iteration {i}" for i, _ in frames],
                       ncols=min(ncols, len(frames)), size=size)


def plot_losses(history: Sequence[dict], *, terms: Sequence[str] = ("total", "content", "style", "tv"),
                x: str = "iteration", ax: Axes | None = None, label: str | None = None,
                logy: bool = True) -> Axes:
    """Loss curves against iteration or seconds, e.g. ``plot_losses(result.history)``.

    Derived in notebook 01, §5 ("What the optimiser did: the loss curve").

    Args:
        history: ``StyleResult.history``, a list of dicts with one key per term.
        terms: the keys to plot, one curve each.
        x: the key on the horizontal axis, ``"iteration"`` or ``"seconds"``.
        ax: the axes to draw on (default: a new figure), e.g. to overlay two runs.
        label: a prefix for the legend entries (which run).
        logy: a logarithmic loss axis.

    Returns:
        The matplotlib axes.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    xs = [row[x] for row in history]
    for term in terms:
        ys = [row[term] for row in history]
        ax.plot(xs, ys, label=f"{label} {term}" if label else term)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("seconds" if x == "seconds" else "iteration")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def show_feature_maps(features: ArrayLike, *, channels: int = 8, size: float = 1.8,
                      title: str | None = None) -> Figure:
    """The first ``channels`` feature maps of an activation, in one row.

    Derived in notebook 03, §5 ("Feature maps as images").

    Args:
        features: a ``(1, h, w, c)`` layer output.
        channels: how many channels to show, from the first.
        size: the width of each map, in inches.
        title: a title above the row.

    Returns:
        The matplotlib figure.
    """
    maps = np.asarray(features)[0]
    figsize = (size * channels, size * maps.shape[0] / maps.shape[1] + 0.3)
    fig, axes = plt.subplots(1, channels, figsize=figsize)
    for index, ax in enumerate(np.atleast_1d(axes)):
        ax.imshow(maps[..., index], cmap="viridis")
        ax.set_title(f"ch {index}", fontsize=8)
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------
# How notebooks store figures: JPEG for pictures, PNG for plots, pictures drawn 1:1.

JPEG_QUALITY = 88
_DPI_RANGE = (40, 150)


def _pictures(fig):
    """The images drawn with ``imshow`` in ``fig``, with their axes."""
    return [(ax, image) for ax in fig.axes for image in ax.get_images()]


def native_dpi(fig: Figure, default: float | None = None) -> float:
    """The dpi at which the widest picture in ``fig`` is drawn one figure pixel per image pixel.

    A grid of 256 px images laid out at 4 inches each would be upscaled 1.25x at 80 dpi;
    drawn at its native dpi it is neither blurred nor heavier than it needs to be.

    Args:
        fig: a matplotlib figure.
        default: the dpi when ``fig`` holds no picture (default: the rcParams value).

    Returns:
        The dpi, clamped to 40-150.
    """
    default = default or plt.rcParams["figure.dpi"]
    best = None
    width_inches = fig.get_figwidth()
    for ax, image in _pictures(fig):
        ax.apply_aspect()
        axes_inches = ax.get_position().width * width_inches
        columns = np.shape(image.get_array())[1]
        if axes_inches > 0:
            best = max(best or 0, columns / axes_inches)
    if best is None:
        return default
    return float(min(max(best, _DPI_RANGE[0]), _DPI_RANGE[1]))


def setup_figures(dpi: int = 80, quality: int = JPEG_QUALITY) -> None:
    """Inline figures for notebooks: pictures as JPEG at their native size, plots as PNG.

    Paintings stored losslessly made notebooks of 5-8 MB; as JPEG (quality 88) at 1:1
    they take a fifth of that and look the same.  Line plots stay PNG, whose sharp
    edges JPEG would blur.  Outside IPython this only sets the default dpi.  The first
    cell of every notebook calls it.

    Args:
        dpi: the default figure dpi.
        quality: the JPEG quality of pictures.
    """
    plt.rcParams["figure.dpi"] = dpi
    try:
        from IPython import get_ipython
        from IPython.core.pylabtools import print_figure
    except ImportError:  # pragma: no cover - IPython is a dependency of the notebooks only
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    from matplotlib.figure import Figure

    plt.close(plt.figure())  # load the inline backend now: its first figure would re-register its formatters
    formatters = shell.display_formatter.formatters

    def as_png(fig):
        return None if _pictures(fig) else print_figure(fig, "png", bbox_inches="tight", base64=True)

    def as_jpeg(fig):
        if not _pictures(fig):
            return None
        return print_figure(fig, "jpeg", bbox_inches="tight", base64=True, dpi=native_dpi(fig, dpi),
                            pil_kwargs={"quality": quality, "optimize": True})

    for mime in ("image/svg+xml", "application/pdf", "image/retina"):
        if mime in formatters:
            formatters[mime].pop(Figure, None)
    formatters["image/png"].for_type(Figure, as_png)
    formatters["image/jpeg"].for_type(Figure, as_jpeg)
