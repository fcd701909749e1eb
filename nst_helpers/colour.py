r"""Colour preservation, the first of Gatys et al. 2017's artist's controls ("Controlling
Perceptual Factors in Neural Style Transfer"; the 2015 paper, arXiv 1508.06576, has none).

Both are options of :func:`nst_helpers.stylize` (``preserve_color=...``); the functions here
are the pieces, usable on their own, and are also importable from :mod:`nst_helpers.controls`.

* ``"luminance"``: style transfer on the luminance only.  Content and style become
  grey images of their YIQ luminance :math:`Y = 0.299R + 0.587G + 0.114B` (the style's
  luminance first matched to the content's mean and standard deviation,
  :func:`match_luminance`); the optimisation runs on those; the result's :math:`Y` is
  recombined with the content's chroma :math:`(I, Q)` (:func:`transfer_luminance`).
* ``"match"``: the style image's colours are matched to the content's before the
  transfer (:func:`match_color`): :math:`x' = A (x - \mu_s) + \mu_c` with
  :math:`A = \Sigma_c^{1/2} \Sigma_s^{-1/2}`, so the style's mean and covariance of
  RGB become the content's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .errors import OptionError
from .images import resize, to_float_image
from .settings import PRESERVE_COLOR, normalised_weights

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "YIQ_FROM_RGB", "RGB_FROM_YIQ", "rgb_to_yiq", "yiq_to_rgb", "luminance", "match_luminance",
    "transfer_luminance", "color_stats", "blend_color_stats", "match_color", "recolor", "prepare_colour",
    "wrap_callback",
]

# YIQ (FCC NTSC) from RGB, as in scikit-image's rgb2yiq; rows give Y, I, Q.
YIQ_FROM_RGB = np.array([[0.299, 0.587, 0.114],
                         [0.59590059, -0.27455667, -0.32134392],
                         [0.21153661, -0.52273617, 0.31119955]], dtype=np.float64)
RGB_FROM_YIQ = np.linalg.inv(YIQ_FROM_RGB)



def rgb_to_yiq(image: ArrayLike) -> np.ndarray:
    """RGB -> YIQ (FCC NTSC, as scikit-image's ``rgb2yiq``): Y the luminance, I and Q the chroma.

    Derived in notebook 08, §1a ("Luminance only, in YIQ").

    Args:
        image: ``[0, 1]`` RGB ``(h, w, 3)``.

    Returns:
        float32 YIQ ``(h, w, 3)``, Y in ``[0, 1]``.
    """
    image = to_float_image(image)
    return (image.astype(np.float64) @ YIQ_FROM_RGB.T).astype(np.float32)


def yiq_to_rgb(yiq: ArrayLike) -> np.ndarray:
    """Inverse of :func:`rgb_to_yiq`.

    Derived in notebook 08, §1a ("Luminance only, in YIQ").

    Args:
        yiq: YIQ ``(h, w, 3)``.

    Returns:
        float32 RGB, clipped to ``[0, 1]`` (some YIQ values lie outside the RGB cube).
    """
    rgb = np.asarray(yiq, dtype=np.float64) @ RGB_FROM_YIQ.T
    return np.clip(rgb, 0.0, 1.0).astype(np.float32)


def luminance(image: ArrayLike) -> np.ndarray:
    """The grey image of the luminance Y, as 3 equal channels (what VGG expects).

    Derived in notebook 08, §1a ("Luminance only, in YIQ").

    Args:
        image: ``[0, 1]`` RGB ``(h, w, 3)``.

    Returns:
        float32 ``(h, w, 3)`` with R = G = B = Y.
    """
    y = rgb_to_yiq(image)[..., 0]
    return np.repeat(np.clip(y, 0.0, 1.0)[..., None], 3, axis=-1)


def match_luminance(style: ArrayLike, content: ArrayLike) -> np.ndarray:
    r"""Grey luminance of ``style`` with the mean and standard deviation of ``content``'s.

    :math:`Y_s' = \frac{\sigma_c}{\sigma_s}(Y_s - \mu_s) + \mu_c` (Gatys et al. 2017, section
    5.1; not part of the 2015 paper, arXiv 1508.06576).

    Derived in notebook 08, §1a ("Luminance only, in YIQ").

    Args:
        style: the style image, ``[0, 1]`` RGB.
        content: the content image, ``[0, 1]`` RGB.

    Returns:
        float32 ``(h, w, 3)`` grey (3 equal channels), the style's size, clipped to ``[0, 1]``.
    """
    ys = rgb_to_yiq(style)[..., 0].astype(np.float64)
    yc = rgb_to_yiq(content)[..., 0].astype(np.float64)
    matched = (ys - ys.mean()) * (yc.std() / max(ys.std(), 1e-6)) + yc.mean()
    return np.repeat(np.clip(matched, 0.0, 1.0).astype(np.float32)[..., None], 3, axis=-1)


def transfer_luminance(stylised: ArrayLike, content: ArrayLike) -> np.ndarray:
    """The luminance Y of ``stylised`` with the chroma (I, Q) of ``content``, as RGB.

    Gatys et al. 2017's luminance-only transfer (not part of the 2015 paper).
    Derived in notebook 08, §1a ("Luminance only, in YIQ").

    Args:
        stylised: the result of a luminance-only run.
        content: the content image (resized to ``stylised``'s size when they differ).

    Returns:
        float32 RGB ``(h, w, 3)`` in ``[0, 1]``.
    """
    stylised = to_float_image(stylised, name="stylised")
    content = to_float_image(content, name="content")
    if content.shape[:2] != stylised.shape[:2]:
        content = resize(content, *stylised.shape[:2])
    yiq = rgb_to_yiq(content)
    yiq[..., 0] = rgb_to_yiq(stylised)[..., 0]
    return yiq_to_rgb(yiq)


def color_stats(image: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of an image's RGB pixels, e.g. ``mean, cov = color_stats(style)``.

    Derived in notebook 08, §1b ("Colour matching").

    Args:
        image: ``[0, 1]`` RGB ``(h, w, 3)``.

    Returns:
        ``(mean, cov)``: float64 arrays of shapes ``(3,)`` and ``(3, 3)``.
    """
    pixels = to_float_image(image).reshape(-1, 3).astype(np.float64)
    return pixels.mean(axis=0), np.cov(pixels, rowvar=False, bias=True)


def blend_color_stats(images: Sequence[ArrayLike], weights: Sequence[float] | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of the pixels of several images pooled in the proportions ``weights``.

    The mixture's statistics: the weighted means, and the weighted second moments minus the
    mean's outer product (a blend of styles' colours, as a blend of their Gram matrices).

    Args:
        images: ``[0, 1]`` RGB images.
        weights: one non-negative weight per image (normalised here); None for equal shares.

    Returns:
        ``(mean, cov)``: float64 arrays of shapes ``(3,)`` and ``(3, 3)``.
    """
    shares = list(normalised_weights(weights, range(len(images)), "style_weights").values())
    stats = [color_stats(image) for image in images]
    mean = sum(share * m for (m, _), share in zip(stats, shares))
    second = sum(share * (c + np.outer(m, m)) for (m, c), share in zip(stats, shares))
    return mean, second - np.outer(mean, mean)


def _sqrtm(cov, inverse=False, eps=1e-5):
    values, vectors = np.linalg.eigh(cov + eps * np.eye(3))
    values = np.maximum(values, eps)
    return (vectors * (values ** (-0.5 if inverse else 0.5))) @ vectors.T


def match_color(style: ArrayLike, content: ArrayLike, *, eps: float = 1e-5) -> np.ndarray:
    r"""Recolour ``style`` so that its RGB mean and covariance equal ``content``'s.

    :math:`x' = A (x - \mu_s) + \mu_c`, :math:`A = \Sigma_c^{1/2} \Sigma_s^{-1/2}` with
    symmetric matrix square roots: the "Image Analogies" variant of Gatys et al.
    2017's linear colour transfer (the paper also gives a Cholesky variant; the 2015
    paper has no colour control).  The result is clipped to ``[0, 1]``, which moves the
    statistics only where the matched colours leave the RGB cube.

    Derived in notebook 08, §1b ("Colour matching").

    Args:
        style: the image to recolour, ``[0, 1]`` RGB.
        content: the image whose colour statistics to take.
        eps: added to the covariances' diagonals: regularises a nearly grey style.

    Returns:
        float32 RGB, the style's shape.
    """
    return recolor(to_float_image(style, name="style"), *color_stats(content), eps=eps)


def recolor(image: ArrayLike, mean: np.ndarray, cov: np.ndarray, *, eps: float = 1e-5) -> np.ndarray:
    """Recolour ``image`` so that its RGB mean and covariance are ``mean`` and ``cov``.

    The map of :func:`match_color`, with the target statistics given (e.g. a blend's,
    :func:`blend_color_stats`).

    Args:
        image: the image to recolour, ``[0, 1]`` RGB.
        mean: the target mean, ``(3,)``.
        cov: the target covariance, ``(3, 3)``.
        eps: added to the covariances' diagonals.

    Returns:
        float32 RGB, the image's shape, clipped to ``[0, 1]``.
    """
    source = to_float_image(image, name="image")
    mean_s, cov_s = color_stats(source)
    mean_t, cov_t = np.asarray(mean, np.float64), np.asarray(cov, np.float64)
    a = _sqrtm(cov_t, eps=eps) @ _sqrtm(cov_s, inverse=True, eps=eps)
    pixels = (source.reshape(-1, 3).astype(np.float64) - mean_s) @ a.T + mean_t
    return np.clip(pixels, 0.0, 1.0).reshape(source.shape).astype(np.float32)


def prepare_colour(content: np.ndarray, styles: Sequence[np.ndarray | None], init: str | np.ndarray,
                   preserve_color: str | None) -> tuple[np.ndarray, list, str | np.ndarray, Callable]:
    """Apply ``stylize``'s ``preserve_color`` option before a run.

    Derived in notebook 08, §1 ("Keeping the photo's colours").

    Args:
        content: the content image.
        styles: the style images; ``None`` entries (no style in that mask's region) stay ``None``.
        init: the initial image or its name (``"content"``, ``"noise"``, ...).
        preserve_color: ``None``, ``"luminance"`` or ``"match"``.

    Returns:
        ``(content, styles, init, finish)``: the images to optimise with, and
        ``finish(image)``, which turns an optimised image into the displayed result (for
        ``"luminance"``: its Y with the content's chroma; otherwise unchanged).
    """
    if preserve_color is None or preserve_color is False:
        return content, styles, init, (lambda image: image)
    if preserve_color == "match":
        matched = [None if s is None else match_color(s, content) for s in styles]
        return content, matched, init, (lambda image: image)
    if preserve_color == "luminance":
        if not isinstance(init, str):
            init = luminance(to_float_image(init, name="init"))
        grey = luminance(content)
        styles = [None if s is None else match_luminance(s, content) for s in styles]
        return grey, styles, init, (lambda image: transfer_luminance(image, content))
    raise OptionError(f"preserve_color must be None or one of {PRESERVE_COLOR}, got {preserve_color!r}")


def wrap_callback(callback: Callable | None, finish: Callable) -> Callable | None:
    """A callback that shows the user ``finish(image)`` instead of the optimised image.

    Args:
        callback: ``stylize``'s ``callback`` (or ``None``).
        finish: the function :func:`prepare_colour` returned.

    Returns:
        The wrapped callback, or ``None`` when ``callback`` is.
    """
    if callback is None:
        return None

    def wrapped(info):
        return callback(dataclasses.replace(info, image=finish(np.clip(info.image, 0.0, 1.0))))

    return wrapped
