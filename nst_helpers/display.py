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
