r"""The artist's controls of Gatys et al. 2017 ("Controlling Perceptual Factors in Neural
Style Transfer"): colour preservation and spatial control with masks.

All of them are options of :func:`nst_helpers.stylize` (and of the CLI); the functions
here are the pieces, usable on their own.  The colour functions live in
:mod:`nst_helpers.colour` and are re-exported here.

Colour preservation (``stylize(..., preserve_color=...)``): ``"luminance"`` or ``"match"``,
explained in :mod:`nst_helpers.colour`.

Spatial control (``stylize(..., style_masks=[m_1, m_2, ...])``)

One ``(h, w)`` mask in ``[0, 1]`` per style image says where that style applies.  At
every style layer the mask is reduced to the feature map's size by 2x2 average
pooling, as VGG's own pooling reduces the image (:func:`layer_masks`), and the
*guided* Gram matrix of region :math:`r` is the Gram matrix of the features weighted
by the mask (:func:`guided_gram_matrix`):

.. math::

    G^r = \frac{\sum_p m^r_p \, F_p F_p^\top}{\sum_p m^r_p}
        = \frac{(F \circ \sqrt{m^r})^\top (F \circ \sqrt{m^r})}{\sum_p m^r_p}

(for a binary mask this is :math:`(F \circ m^r)^\top (F \circ m^r) / \sum_p m^r_p`,
the paper's guided Gram matrix).  Its target is the Gram matrix of style :math:`r`, and
the region's loss is weighted by the region's share of the layer,
:math:`\sum_p m^r_p / M`, so a mask of ones everywhere gives exactly the ordinary
style loss, a mask of zeros contributes nothing, and pixels that no mask covers get
only the content (and total variation) loss: "no style" there.  Masks are built
with :func:`mask_from_rectangle`, :func:`mask_from_color`, :func:`soften_mask`, or
loaded from an image file (:func:`to_mask`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import tensorflow as tf

from .colour import (
    RGB_FROM_YIQ,
    YIQ_FROM_RGB,
    color_stats,
    luminance,
    match_color,
    match_luminance,
    prepare_colour,
    rgb_to_yiq,
    transfer_luminance,
    wrap_callback,
    yiq_to_rgb,
)
from .errors import ImageError, OptionError
from .images import load_image, resize, to_float_image
from .losses import guided_gram
from .model import check_layers, feature_shapes

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "YIQ_FROM_RGB", "RGB_FROM_YIQ", "rgb_to_yiq", "yiq_to_rgb", "luminance", "match_luminance",
    "transfer_luminance", "color_stats", "match_color", "prepare_colour", "wrap_callback",
    "mask_from_rectangle", "mask_from_color", "soften_mask", "to_mask", "resize_mask", "prepare_masks",
    "layer_masks", "guided_gram_matrix",
]

# --------------------------------------------------------------------------------------
# Masks
# --------------------------------------------------------------------------------------
def _shape(shape):
    shape = tuple(np.shape(shape)[:2]) if isinstance(shape, np.ndarray) else tuple(shape)[:2]
    if len(shape) != 2 or min(shape) < 1:
        raise OptionError(f"shape must be (height, width) or an image, got {shape}")
    return int(shape[0]), int(shape[1])


def _pixels(value, side):
    """An int is pixels; a float is a fraction of ``side``."""
    if isinstance(value, (float, np.floating)):
        return int(round(float(value) * side))
    return int(value)


def mask_from_rectangle(shape: tuple[int, int] | np.ndarray, top: float, left: float, height: float,
                        width: float, *, feather: float = 0.0) -> np.ndarray:
    """A ``(h, w)`` mask that is 1 inside the rectangle and 0 outside.

    Example: the top half is ``mask_from_rectangle(image, 0, 0, 0.5, 1.0)``.
    Derived in notebook 08, §3 ("A style per region: masked (guided) Gram matrices").

    Args:
        shape: ``(h, w)`` or an image.
        top: the rectangle's top edge: pixels (an int) or a fraction of the height (a float).
        left: its left edge, pixels or a fraction of the width.
        height: its height, pixels or a fraction of the height.
        width: its width, pixels or a fraction of the width.
        feather: blur radius in pixels for soft edges (:func:`soften_mask`).

    Returns:
        float32 ``(h, w)`` in ``[0, 1]``.
    """
    h, w = _shape(shape)
    t, l = _pixels(top, h), _pixels(left, w)
    b, r = t + _pixels(height, h), l + _pixels(width, w)
    mask = np.zeros((h, w), np.float32)
    mask[max(t, 0):max(min(b, h), 0), max(l, 0):max(min(r, w), 0)] = 1.0
    return soften_mask(mask, feather) if feather else mask


def _parse_color(color):
    if isinstance(color, str):
        text = color.lstrip("#")
        if len(text) != 6:
            raise OptionError(f"colour {color!r} must be '#rrggbb' or (r, g, b)")
        return np.array([int(text[i:i + 2], 16) for i in (0, 2, 4)], np.float32) / 255.0
    rgb = np.asarray(color, dtype=np.float64).reshape(-1)
    if rgb.shape != (3,):
        raise OptionError(f"colour must be (r, g, b), got {color!r}")
    if rgb.max() > 1.0:  # 0-255 values
        rgb = rgb / 255.0
    return rgb.astype(np.float32)


def mask_from_color(image: ArrayLike | str, color: str | Sequence[float], tolerance: float = 0.15, *,
                    feather: float = 0.0) -> np.ndarray:
    """A ``(h, w)`` mask that is 1 where ``image``'s colour is within ``tolerance`` of ``color``.

    Example: ``mask_from_color(photo, "#3060c0", 0.3)`` for a blue sky.
    Derived in notebook 08, §3 ("A style per region: masked (guided) Gram matrices").

    Args:
        image: an image (array) or anything :func:`nst_helpers.load_image` reads.
        color: ``(r, g, b)`` in ``[0, 1]`` or 0-255, or ``"#rrggbb"``.
        tolerance: the largest Euclidean distance in RGB ``[0, 1]`` units (0: only that
            exact colour; about 1.7: everything).
        feather: blur radius in pixels for soft edges.

    Returns:
        float32 ``(h, w)`` in ``[0, 1]``.
    """
    image = load_image(image) if not isinstance(image, np.ndarray) else to_float_image(image)
    if not tolerance >= 0:
        raise OptionError(f"tolerance must be >= 0, got {tolerance}")
    distance = np.linalg.norm(image - _parse_color(color), axis=-1)
    mask = (distance <= tolerance).astype(np.float32)
    return soften_mask(mask, feather) if feather else mask


def soften_mask(mask: ArrayLike, radius: float) -> np.ndarray:
    """Soft edges: a Gaussian blur of a mask.

    Derived in notebook 08, §3 ("A style per region: masked (guided) Gram matrices").

    Args:
        mask: anything :func:`to_mask` accepts.
        radius: the blur's standard deviation in pixels (0: unchanged).

    Returns:
        float32 ``(h, w)`` in ``[0, 1]``.
    """
    from scipy.ndimage import gaussian_filter

    mask = to_mask(mask)
    if radius <= 0:
        return mask
    return np.clip(gaussian_filter(mask, sigma=float(radius), mode="nearest"), 0.0, 1.0).astype(np.float32)


def to_mask(source: ArrayLike | str, *, name: str = "mask") -> np.ndarray:
    """A mask from an array or an image file.

    Args:
        source: an array (``(h, w)``, ``(h, w, 1|3)``; bool, uint8 or float in ``[0, 1]``) or
            anything :func:`nst_helpers.load_image` reads (its grey level: white = 1, black = 0).
        name: what to call the mask in error messages.

    Returns:
        float32 ``(h, w)`` in ``[0, 1]``.
    """
    if isinstance(source, np.ndarray) and source.dtype == np.bool_:
        source = source.astype(np.float32)
    if isinstance(source, np.ndarray) and source.ndim == 2 and source.dtype.kind == "f":
        mask = source.astype(np.float32)
        if not np.all(np.isfinite(mask)) or mask.min() < -1e-6 or mask.max() > 1 + 1e-6:
            raise ImageError(f"{name} must hold values in [0, 1]; got "
                             f"[{np.nanmin(mask):.3g}, {np.nanmax(mask):.3g}]")
        return np.clip(mask, 0.0, 1.0)
    try:
        if isinstance(source, np.ndarray):
            image = to_float_image(source, name=name)
        else:
            image = load_image(source, min_side=1)
    except ImageError as error:
        raise ImageError(f"{name}: {error}") from None
    return image.mean(axis=-1).astype(np.float32)


def resize_mask(mask: ArrayLike, height: int, width: int) -> np.ndarray:
    """Resize a mask (bilinear, values kept in ``[0, 1]``).

    Args:
        mask: anything :func:`to_mask` accepts.
        height: the new height in pixels.
        width: the new width in pixels.

    Returns:
        float32 ``(height, width)``.
    """
    mask = to_mask(mask)
    if mask.shape == (height, width):
        return mask
    return resize(np.repeat(mask[..., None], 3, axis=-1), height, width, resample="bilinear")[..., 0]


def prepare_masks(styles: Sequence[np.ndarray | None], style_masks: Any, shape: tuple[int, int],
                  style_weights: Sequence[float] | None = None) -> tuple[list, list | None, list | None]:
    """Validate ``stylize``'s ``style_masks`` option for ``styles`` at the content's shape.

    Derived in notebook 08, §3 ("A style per region: masked (guided) Gram matrices").

    Args:
        styles: the style images; a ``None`` style means "no style in this region", so that
            pair is dropped.
        style_masks: ``None``, one mask, or one mask per style; a ``None`` mask means
            "wherever no other mask is" (``1 - sum`` of the others, at most one ``None``).
        shape: the content's ``(h, w)``; masks are resized to it, and their aspect ratio
            must match it.
        style_weights: one weight per style, or ``None``.

    Returns:
        ``(styles, masks, style_weights)`` with the ``None`` styles dropped (``masks`` is
        ``None`` without ``style_masks``).
    """
    if style_masks is None:
        if any(s is None for s in styles):
            raise OptionError("a style may be None only together with style_masks (no style in that region)")
        return styles, None, style_weights
    one_array = isinstance(style_masks, np.ndarray) and style_masks.ndim == 2
    if one_array or not isinstance(style_masks, (list, tuple)):
        style_masks = [style_masks]
    if len(style_masks) != len(styles):
        raise OptionError(f"style_masks needs one mask per style ({len(styles)}), got {len(style_masks)}")
    if sum(m is None for m in style_masks) > 1:
        raise OptionError("at most one of style_masks may be None (it takes the rest of the picture)")
    h, w = shape
    masks = []
    for index, mask in enumerate(style_masks):
        if mask is None:
            masks.append(None)
            continue
        mask = to_mask(mask, name=f"style_masks[{index}]")
        expected = mask.shape[1] * h / w  # the mask's height if it had the content's aspect ratio
        if abs(mask.shape[0] - expected) > max(1.0, 0.02 * expected):
            raise OptionError(f"style_masks[{index}] is {mask.shape[1]}x{mask.shape[0]} but the content is "
                              f"{w}x{h}: the aspect ratios differ. Build masks from the content image "
                              "(e.g. mask_from_rectangle(content, ...)).")
        masks.append(resize_mask(mask, h, w))
    if any(m is None for m in masks):
        rest = np.clip(1.0 - sum(m for m in masks if m is not None), 0.0, 1.0).astype(np.float32)
        masks = [rest if m is None else m for m in masks]
    if style_weights is not None and (isinstance(style_weights, dict) or len(style_weights) != len(styles)):
        raise OptionError(f"style_weights needs one number per style ({len(styles)}), got {style_weights!r}")
    kept = [i for i, s in enumerate(styles) if s is not None]
    if not kept:
        raise OptionError("every style is None: give at least one style image")
    weights = None if style_weights is None else [style_weights[i] for i in kept]
    return [styles[i] for i in kept], [masks[i] for i in kept], weights


def layer_masks(mask: ArrayLike, layers: Sequence[str], pool_padding: str = "same") -> dict[str, np.ndarray]:
    """The mask at each layer's feature-map size.

    VGG's convolutions keep the size and each 2x2 pooling halves it (rounding up with
    ``pool_padding="same"``, down with ``"valid"``); the mask is reduced the same way,
    by 2x2 average pooling (an odd side's last row or column then averages with itself).
    Gatys et al. 2017 (not the 2015 paper) also propagate masks through the network;
    this is their simplest variant.

    Derived in notebook 08, §3 ("A style per region: masked (guided) Gram matrices").

    Args:
        mask: the ``(h, w)`` mask at the image's size (anything :func:`to_mask` accepts).
        layers: VGG19 layer names.
        pool_padding: the model's pooling padding, ``"same"`` or ``"valid"``.

    Returns:
        ``{layer: (h_l, w_l) float32 array}`` for each of ``layers``.
    """
    mask = to_mask(mask)
    out, current = {}, mask
    wanted = set(check_layers(layers))
    for name, (h, w, _) in feature_shapes(*mask.shape, wanted, pool_padding).items():
        if name.endswith("_pool"):
            rows, cols = max(2 * h - current.shape[0], 0), max(2 * w - current.shape[1], 0)
            current = np.pad(current, ((0, rows), (0, cols)), mode="edge")  # odd side, "same": one more
            current = current[: 2 * h, : 2 * w].reshape(h, 2, w, 2).mean(axis=(1, 3))
        if name in wanted:
            out[name] = current
    return out


def guided_gram_matrix(features: tf.Tensor, mask: ArrayLike) -> tf.Tensor:
    r"""Gram matrix of the region ``mask``: :math:`\sum_p m_p F_p F_p^\top / \sum_p m_p`.

    :func:`nst_helpers.losses.guided_gram`, the representation the style term of
    :mod:`nst_helpers.objective` uses: the Gram matrix (mean over positions) of
    :math:`F \circ \sqrt{m}`, rescaled from the mean over all positions to the mean over
    the region, so that a region's Gram matrix does not depend on its size (Gatys et al.
    2017, not the 2015 paper).

    Derived in notebook 08, §3 ("A style per region: masked (guided) Gram matrices").

    Args:
        features: a ``(1, h, w, c)`` layer output.
        mask: ``(h, w)`` at the same size (see :func:`layer_masks`), not zero everywhere.

    Returns:
        The ``(1, c, c)`` guided Gram matrix.
    """
    mask = np.asarray(mask, dtype=np.float32)
    total = float(mask.sum())
    if total <= 0:
        raise OptionError("guided_gram_matrix: the mask is zero everywhere; the region has no Gram matrix")
    return guided_gram(features, tf.constant(np.sqrt(mask)[None, ..., None]), mask.size / total)
