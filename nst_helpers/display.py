"""Figures: image grids, before/after triptychs, frame strips and loss curves (matplotlib).

Each function draws and returns the figure; notebooks end the cell with
``plt.show()`` so that nothing but the picture is printed.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from .images import to_float_image


def show_images(images, titles=None, *, ncols=None, size=4.0, suptitle=None, zoom=None):
    """Show images side by side (``ncols`` per row), each ``size`` inches wide.

    ``zoom=(top, left, height, width)`` as fractions of the image crops every
    image to the same region, e.g. to compare fine texture.
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
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * aspect * nrows + (0.4 if titles else 0)),
                             squeeze=False)
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


def show_result(content, style, result, *, size=4.5, titles=("content", "style", "result")):
    """The classic triptych: content | style(s) | result."""
    styles = style if isinstance(style, (list, tuple)) else [style]
    image = getattr(result, "image", result)
    names = [titles[0]] + ([titles[1]] if len(styles) == 1 else [f"style {i + 1}" for i in range(len(styles))])
    return show_images([content, *styles, image], names + [titles[2]], size=size)


def show_frames(frames, *, ncols=5, size=2.6):
    """Intermediate images ``[(iteration, image), ...]`` as a grid titled by iteration."""
    if not frames:
        from .errors import OptionError

        raise OptionError("no frames to show: run stylize(..., frame_every=N) to collect them")
    return show_images([image for _, image in frames], [f"iteration {i}" for i, _ in frames],
                       ncols=min(ncols, len(frames)), size=size)


def plot_losses(history, *, terms=("total", "content", "style", "tv"), x="iteration", ax=None, label=None,
                logy=True):
    """Loss curves from ``StyleResult.history`` (list of dicts) against iteration or seconds."""
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


def show_feature_maps(features, *, channels=8, size=1.8, title=None):
    """The first ``channels`` feature maps of a ``(1, h, w, c)`` activation, one row."""
    maps = np.asarray(features)[0]
    fig, axes = plt.subplots(1, channels, figsize=(size * channels, size * maps.shape[0] / maps.shape[1] + 0.3))
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


def native_dpi(fig, default=None):
    """The dpi at which the widest picture in ``fig`` is drawn one figure pixel per image pixel.

    A grid of 256 px images laid out at 4 inches each would be upscaled 1.25x at 80 dpi;
    drawn at its native dpi it is neither blurred nor heavier than it needs to be.
    Clamped to 40-150 dpi; ``default`` (the rcParams value) when there is no picture.
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


def setup_figures(dpi=80, quality=JPEG_QUALITY):
    """Inline figures for notebooks: pictures as JPEG at their native size, plots as PNG.

    Paintings stored losslessly made notebooks of 5-8 MB; as JPEG (quality 88) at 1:1
    they take a fifth of that and look the same.  Line plots stay PNG, whose sharp
    edges JPEG would blur.  Outside IPython this only sets the default dpi.
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
