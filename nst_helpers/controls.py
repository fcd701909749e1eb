r"""The artist's controls of Gatys et al. 2017 ("Controlling Perceptual Factors in Neural
Style Transfer"): colour preservation and spatial control with masks.

All of them are options of :func:`nst_helpers.stylize` (and of the CLI); the functions
here are the pieces, usable on their own.

Colour preservation (``stylize(..., preserve_color=...)``)

* ``"luminance"``: style transfer on the luminance only.  Content and style become
  grey images of their YIQ luminance :math:`Y = 0.299R + 0.587G + 0.114B` (the style's
  luminance first matched to the content's mean and standard deviation,
  :func:`match_luminance`); the optimisation runs on those; the result's :math:`Y` is
  recombined with the content's chroma :math:`(I, Q)` (:func:`transfer_luminance`).
* ``"match"``: the style image's colours are matched to the content's before the
  transfer (:func:`match_color`): :math:`x' = A (x - \mu_s) + \mu_c` with
  :math:`A = \Sigma_c^{1/2} \Sigma_s^{-1/2}`, so the style's mean and covariance of
  RGB become the content's.

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

import dataclasses

import numpy as np
import tensorflow as tf

from .errors import ImageError, OptionError
from .images import load_image, resize, to_float_image
from .losses import guided_gram
from .model import check_layers, feature_shapes
from .settings import PRESERVE_COLOR

# YIQ (FCC NTSC) from RGB, as in scikit-image's rgb2yiq; rows give Y, I, Q.
YIQ_FROM_RGB = np.array([[0.299, 0.587, 0.114],
                         [0.59590059, -0.27455667, -0.32134392],
                         [0.21153661, -0.52273617, 0.31119955]], dtype=np.float64)
RGB_FROM_YIQ = np.linalg.inv(YIQ_FROM_RGB)


# --------------------------------------------------------------------------------------
# Colour
# --------------------------------------------------------------------------------------
def rgb_to_yiq(image) -> np.ndarray:
    """``[0, 1]`` RGB ``(h, w, 3)`` -> YIQ ``(h, w, 3)``: Y in ``[0, 1]``, I and Q the chroma."""
    image = to_float_image(image)
    return (image.astype(np.float64) @ YIQ_FROM_RGB.T).astype(np.float32)


def yiq_to_rgb(yiq) -> np.ndarray:
    """Inverse of :func:`rgb_to_yiq`, clipped to ``[0, 1]`` (some YIQ values lie outside RGB)."""
    rgb = np.asarray(yiq, dtype=np.float64) @ RGB_FROM_YIQ.T
    return np.clip(rgb, 0.0, 1.0).astype(np.float32)


def luminance(image) -> np.ndarray:
    """The grey image of the luminance Y, as 3 equal channels (what VGG expects)."""
    y = rgb_to_yiq(image)[..., 0]
    return np.repeat(np.clip(y, 0.0, 1.0)[..., None], 3, axis=-1)


def match_luminance(style, content) -> np.ndarray:
    r"""Grey luminance of ``style`` with the mean and standard deviation of ``content``'s:
    :math:`Y_s' = \frac{\sigma_c}{\sigma_s}(Y_s - \mu_s) + \mu_c` (Gatys et al. 2017, section 5.1)."""
    ys = rgb_to_yiq(style)[..., 0].astype(np.float64)
    yc = rgb_to_yiq(content)[..., 0].astype(np.float64)
    matched = (ys - ys.mean()) * (yc.std() / max(ys.std(), 1e-6)) + yc.mean()
    return np.repeat(np.clip(matched, 0.0, 1.0).astype(np.float32)[..., None], 3, axis=-1)


def transfer_luminance(stylised, content) -> np.ndarray:
    """The luminance Y of ``stylised`` with the chroma (I, Q) of ``content`` (resized to fit), as RGB."""
    stylised = to_float_image(stylised, name="stylised")
    content = to_float_image(content, name="content")
    if content.shape[:2] != stylised.shape[:2]:
        content = resize(content, *stylised.shape[:2])
    yiq = rgb_to_yiq(content)
    yiq[..., 0] = rgb_to_yiq(stylised)[..., 0]
    return yiq_to_rgb(yiq)


def color_stats(image) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(3,)`` and covariance ``(3, 3)`` of an image's RGB pixels (float64)."""
    pixels = to_float_image(image).reshape(-1, 3).astype(np.float64)
    return pixels.mean(axis=0), np.cov(pixels, rowvar=False, bias=True)


def _sqrtm(cov, inverse=False, eps=1e-5):
    values, vectors = np.linalg.eigh(cov + eps * np.eye(3))
    values = np.maximum(values, eps)
    return (vectors * (values ** (-0.5 if inverse else 0.5))) @ vectors.T


def match_color(style, content, *, eps: float = 1e-5) -> np.ndarray:
    r"""Recolour ``style`` so that its RGB mean and covariance equal ``content``'s.

    :math:`x' = A (x - \mu_s) + \mu_c`, :math:`A = \Sigma_c^{1/2} \Sigma_s^{-1/2}` with
    symmetric matrix square roots (the "Image Analogies" variant of Gatys et al.
    2017's linear colour transfer); ``eps`` regularises a nearly grey style.  The
    result is clipped to ``[0, 1]``, which moves the statistics only where the
    matched colours leave the RGB cube.
    """
    style = to_float_image(style, name="style")
    mean_s, cov_s = color_stats(style)
    mean_c, cov_c = color_stats(content)
    a = _sqrtm(cov_c, eps=eps) @ _sqrtm(cov_s, inverse=True, eps=eps)
    pixels = (style.reshape(-1, 3).astype(np.float64) - mean_s) @ a.T + mean_c
    return np.clip(pixels, 0.0, 1.0).reshape(style.shape).astype(np.float32)


def prepare_colour(content, styles, init, preserve_color):
    """Apply ``preserve_color`` before a run: ``(content, styles, init, finish)``.

    ``finish(image)`` turns an optimised image into the displayed result (for
    ``"luminance"``: its Y with the content's chroma; otherwise unchanged).
    ``styles`` may contain ``None`` (no style in that mask's region).
    """
    if preserve_color is None or preserve_color is False:
        return content, styles, init, (lambda image: image)
    if preserve_color == "match":
        return content, [None if s is None else match_color(s, content) for s in styles], init, (lambda image: image)
    if preserve_color == "luminance":
        if not isinstance(init, str):
            init = luminance(to_float_image(init, name="init"))
        grey = luminance(content)
        styles = [None if s is None else match_luminance(s, content) for s in styles]
        return grey, styles, init, (lambda image: transfer_luminance(image, content))
    raise OptionError(f"preserve_color must be None or one of {PRESERVE_COLOR}, got {preserve_color!r}")


def wrap_callback(callback, finish):
    """A callback that shows the user ``finish(image)`` instead of the optimised image."""
    if callback is None:
        return None

    def wrapped(info):
        return callback(dataclasses.replace(info, image=finish(np.clip(info.image, 0.0, 1.0))))

    return wrapped


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


def mask_from_rectangle(shape, top, left, height, width, *, feather: float = 0.0) -> np.ndarray:
    """A ``(h, w)`` mask that is 1 inside the rectangle and 0 outside.

    ``shape``: ``(h, w)`` or an image.  ``top``, ``left``, ``height``, ``width``: pixels
    (ints) or fractions of the image's side (floats), e.g. the top half is
    ``mask_from_rectangle(image, 0, 0, 0.5, 1.0)``.  ``feather``: blur radius in pixels
    for soft edges (:func:`soften_mask`).
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


def mask_from_color(image, color, tolerance: float = 0.15, *, feather: float = 0.0) -> np.ndarray:
    """A ``(h, w)`` mask that is 1 where ``image``'s colour is within ``tolerance`` of ``color``.

    ``color``: ``(r, g, b)`` in ``[0, 1]`` or 0-255, or ``"#rrggbb"``.  The distance is
    Euclidean in RGB ``[0, 1]`` units (0 = only that exact colour; ~1.7 = everything).
    ``feather``: blur radius in pixels for soft edges.
    """
    image = load_image(image) if not isinstance(image, np.ndarray) else to_float_image(image)
    if not tolerance >= 0:
        raise OptionError(f"tolerance must be >= 0, got {tolerance}")
    distance = np.linalg.norm(image - _parse_color(color), axis=-1)
    mask = (distance <= tolerance).astype(np.float32)
    return soften_mask(mask, feather) if feather else mask


def soften_mask(mask, radius: float) -> np.ndarray:
    """Soft edges: a Gaussian blur with standard deviation ``radius`` pixels (0: unchanged)."""
    from scipy.ndimage import gaussian_filter

    mask = to_mask(mask)
    if radius <= 0:
        return mask
    return np.clip(gaussian_filter(mask, sigma=float(radius), mode="nearest"), 0.0, 1.0).astype(np.float32)


def to_mask(source, *, name: str = "mask") -> np.ndarray:
    """A ``(h, w)`` float32 mask in ``[0, 1]`` from an array (``(h, w)``, ``(h, w, 1|3)``, bool,
    uint8, float) or an image file (its grey level: white = 1, black = 0)."""
    if isinstance(source, np.ndarray) and source.dtype == np.bool_:
        source = source.astype(np.float32)
    if isinstance(source, np.ndarray) and source.ndim == 2 and source.dtype.kind == "f":
        mask = source.astype(np.float32)
        if not np.all(np.isfinite(mask)) or mask.min() < -1e-6 or mask.max() > 1 + 1e-6:
            raise ImageError(f"{name} must hold values in [0, 1]; got [{np.nanmin(mask):.3g}, {np.nanmax(mask):.3g}]")
        return np.clip(mask, 0.0, 1.0)
    try:
        image = load_image(source, min_side=1) if not isinstance(source, np.ndarray) else to_float_image(source, name=name)
    except ImageError as error:
        raise ImageError(f"{name}: {error}") from None
    return image.mean(axis=-1).astype(np.float32)


def resize_mask(mask, height: int, width: int) -> np.ndarray:
    """Resize a mask to ``(height, width)`` (bilinear, values kept in ``[0, 1]``)."""
    mask = to_mask(mask)
    if mask.shape == (height, width):
        return mask
    return resize(np.repeat(mask[..., None], 3, axis=-1), height, width, resample="bilinear")[..., 0]


def prepare_masks(styles, style_masks, shape, style_weights=None):
    """Validate ``style_masks`` for ``styles`` at content ``shape``: ``(styles, masks, style_weights)``.

    One mask per style; a ``None`` mask means "wherever no other mask is" (``1 - sum``
    of the others, at most one ``None``); a ``None`` style means "no style in this
    region", so that pair is dropped.  Masks are resized to ``shape``; their aspect
    ratio must match the content's.
    """
    if style_masks is None:
        if any(s is None for s in styles):
            raise OptionError("a style may be None only together with style_masks (no style in that region)")
        return styles, None, style_weights
    if isinstance(style_masks, np.ndarray) and style_masks.ndim == 2 or not isinstance(style_masks, (list, tuple)):
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
            raise OptionError(f"style_masks[{index}] is {mask.shape[1]}x{mask.shape[0]} but the content is {w}x{h}: "
                              "the aspect ratios differ. Build masks from the content image "
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


def layer_masks(mask, layers) -> dict:
    """The mask at each layer's feature-map size: ``{layer: (h_l, w_l) array}``.

    VGG's convolutions keep the size and each 2x2 pooling halves it (rounding down);
    the mask is reduced the same way, by 2x2 average pooling.
    """
    mask = to_mask(mask)
    out, current = {}, mask
    wanted = set(check_layers(layers))
    for name, (h, w, _) in feature_shapes(*mask.shape, wanted).items():
        if name.endswith("_pool"):
            current = current[: 2 * h, : 2 * w].reshape(h, 2, w, 2).mean(axis=(1, 3))
        if name in wanted:
            out[name] = current
    return out


def guided_gram_matrix(features, mask) -> tf.Tensor:
    r"""Gram matrix of the region ``mask``: :math:`\sum_p m_p F_p F_p^\top / \sum_p m_p`.

    ``features``: ``(1, h, w, c)``; ``mask``: ``(h, w)`` at the same size (see
    :func:`layer_masks`).  :func:`nst_helpers.losses.guided_gram`, the representation the
    style term of :mod:`nst_helpers.objective` uses: the Gram matrix (mean over positions)
    of :math:`F \circ \sqrt{m}`, rescaled from the mean over all positions to the mean
    over the region.
    """
    mask = np.asarray(mask, dtype=np.float32)
    total = float(mask.sum())
    if total <= 0:
        raise OptionError("guided_gram_matrix: the mask is zero everywhere; the region has no Gram matrix")
    return guided_gram(features, tf.constant(np.sqrt(mask)[None, ..., None]), mask.size / total)
