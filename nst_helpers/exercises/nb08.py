"""Checks for notebook 08's exercises (artist's controls: colour, blends and masks).

Each check builds small seeded inputs, runs the learner's function on them and compares the
result with this package's own version (:mod:`nst_helpers.colour`, :mod:`nst_helpers.controls`)
or with the statistics the function must produce.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..colour import rgb_to_yiq, transfer_luminance, yiq_to_rgb
from ..controls import guided_gram_matrix
from .core import NotDone

__all__ = ["check_luminance_transfer", "check_colour_matching", "check_blend_targets",
           "check_guided_gram"]


def _image(answer: object, shape: tuple, what: str, like: str) -> np.ndarray:
    """The learner's result as a float array of ``shape`` (the shape of ``like``), or NotDone."""
    if answer is None:
        raise NotDone(f"{what} returns None: return the image")
    image = np.asarray(answer, dtype=np.float64)
    image = image[0] if image.ndim == len(shape) + 1 and image.shape[0] == 1 else image
    if image.shape != shape:
        raise NotDone(f"{what} must return an image of the {like}'s shape (h, w, 3)")
    if not np.all(np.isfinite(image)):
        raise NotDone(f"{what} returned NaN or infinite values")
    return image


def check_luminance_transfer(keep_photo_colours: Callable) -> str:
    """Exercise 1 (notebook 08): step 3 of the luminance-only transfer.

    ``keep_photo_colours(stylised, content)`` must return the RGB image whose YIQ luminance Y is
    ``stylised``'s and whose chroma I, Q is ``content``'s, as :func:`nst_helpers.transfer_luminance`.

    Args:
        keep_photo_colours: the learner's function of two ``(h, w, 3)`` RGB images in ``[0, 1]``.
    """
    rng = np.random.default_rng(8)
    stylised = rng.uniform(0.0, 1.0, (12, 16, 3)).astype(np.float32)
    content = np.clip(rng.normal([0.6, 0.45, 0.3], 0.1, (12, 16, 3)), 0, 1).astype(np.float32)
    result = np.clip(_image(keep_photo_colours(stylised.copy(), content.copy()), stylised.shape,
                            "keep_photo_colours", "stylised image"), 0.0, 1.0)
    expected = transfer_luminance(stylised, content)
    if np.abs(result - expected).max() < 5e-3:
        return "the stylised image's Y with the photo's I and Q, as nh.transfer_luminance"
    swapped = rgb_to_yiq(stylised)
    swapped[..., 0] = rgb_to_yiq(content)[..., 0]
    if np.abs(result - stylised).max() < 1e-3:
        raise NotDone("that is the stylised image unchanged: keep its Y (channel 0 of nh.rgb_to_yiq) "
                      "but take I and Q (channels 1 and 2) from the content")
    if np.abs(result - content).max() < 1e-3:
        raise NotDone("that is the content unchanged: its Y must be replaced by the stylised image's")
    if np.abs(result - yiq_to_rgb(swapped)).max() < 5e-3:
        raise NotDone("swapped: the luminance Y comes from the stylised image, the chroma I, Q from "
                      "the content")
    result_yiq = rgb_to_yiq(result.astype(np.float32))
    if np.abs(result_yiq[..., 1:] - rgb_to_yiq(expected)[..., 1:]).max() < 5e-3:
        raise NotDone("the chroma I, Q is right but the luminance Y is not the stylised image's")
    raise NotDone("convert both images with nh.rgb_to_yiq, put the stylised image's Y (channel 0) into the "
                  "content's YIQ, and convert back with nh.yiq_to_rgb")


def _colour_samples(seed: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """A style and a content with correlated channels, far enough inside the RGB cube not to clip."""
    rng = np.random.default_rng(seed)
    mix_s = np.array([[0.06, 0.02, 0.0], [0.0, 0.04, 0.03], [0.01, 0.0, 0.05]])
    mix_c = np.array([[0.05, 0.04, 0.03], [0.0, 0.03, 0.0], [0.02, 0.0, 0.02]])
    style = 0.5 + rng.normal(size=(20, 20, 3)) @ mix_s
    content = np.array([0.55, 0.45, 0.35]) + rng.normal(size=(16, 24, 3)) @ mix_c
    return style.astype(np.float32), content.astype(np.float32)


def _stats(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of the RGB pixels, as :func:`nst_helpers.color_stats` but not clipped."""
    pixels = np.asarray(image, dtype=np.float64).reshape(-1, 3)
    return pixels.mean(axis=0), np.cov(pixels, rowvar=False, bias=True)


def check_colour_matching(match_colours: Callable) -> str:
    """Exercise 2 (notebook 08): recolour a style image to the content's mean and covariance.

    The result must be an affine map of the style's pixels, ``A (x - mean_s) + mean_c``, whose RGB
    mean and covariance are the content's (:func:`nst_helpers.match_color` uses the symmetric
    square roots ``A = cov_c^(1/2) cov_s^(-1/2)``; any ``A`` with ``A cov_s A^T = cov_c`` passes).

    Args:
        match_colours: the learner's ``f(style, content)`` of two ``(h, w, 3)`` RGB images.
    """
    style, content = _colour_samples()
    result = _image(match_colours(style.copy(), content.copy()), style.shape, "match_colours", "style")
    mean_r, cov_r = _stats(result)
    mean_c, cov_c = _stats(content)
    if np.abs(result - style).max() < 1e-6:
        raise NotDone("that is the style unchanged: move its pixels to the content's mean and covariance")
    if np.abs(mean_r - mean_c).max() > 2e-3:
        raise NotDone("the result's mean colour should be the content's: subtract the style's mean, "
                      "transform, then add the content's mean")
    pixels = np.c_[style.reshape(-1, 3), np.ones(style.shape[0] * style.shape[1])].astype(np.float64)
    fit = np.linalg.lstsq(pixels, result.reshape(-1, 3), rcond=None)[0]
    if np.abs(pixels @ fit - result.reshape(-1, 3)).max() > 2e-3:
        raise NotDone("the result must be computed from the style's own pixels, x' = A (x - mean_s) + mean_c "
                      "for every pixel x of the style (not the content's pixels)")
    if np.abs(cov_r - cov_c).max() > 0.02 * np.abs(cov_c).max():
        raise NotDone("the mean is right but the covariance is not the content's: use "
                      "A = cov_c^(1/2) cov_s^(-1/2) (matrix square roots from np.linalg.eigh), "
                      "applied as (x - mean_s) @ A.T")
    return "the recoloured style has the content's mean and covariance, pixel by pixel as nh.match_color"


def check_blend_targets(blend_grams: Callable) -> str:
    """Exercise 3 (notebook 08): the target Gram matrix of a blend of styles.

    ``blend_grams(grams, weights)`` must return ``sum_k w_k G_k`` with the weights normalised to sum to 1.

    Args:
        blend_grams: the learner's function of a list of ``(c, c)`` arrays and a list of weights.
    """
    rng = np.random.default_rng(8)
    grams = [(lambda f: f.T @ f / 10)(rng.normal(size=(10, 4))) for _ in range(3)]
    for weights in ([1.0, 4.0], [0.7, 0.3], [2.0, 1.0, 1.0], [3.0]):
        chosen = grams[: len(weights)]
        value = blend_grams([g.copy() for g in chosen], list(weights))
        if value is None:
            raise NotDone("blend_grams returns None: return the blended Gram matrix")
        value = np.asarray(value, dtype=np.float64)
        expected = sum(w / sum(weights) * g for w, g in zip(weights, chosen))
        if value.shape == expected.shape and np.allclose(value, expected, rtol=1e-5, atol=1e-8):
            continue
        if value.shape == expected.shape and np.allclose(value, sum(w * g for w, g in zip(weights, chosen)),
                                                         rtol=1e-5):
            raise NotDone(f"with weights {weights} the weights must first be divided by their sum, so "
                          "that only their proportions matter")
        if value.shape == expected.shape and np.allclose(value, np.mean(chosen, axis=0), rtol=1e-5):
            raise NotDone(f"that is the plain mean: with weights {weights} each Gram matrix counts "
                          "in proportion to its weight")
        raise NotDone(f"with weights {weights} the blend should be sum(w_k / sum(w) * G_k) over the styles")
    return "each layer's target is the weighted mean of the styles' Gram matrices"


def check_guided_gram(guided_gram: Callable) -> str:
    """Exercise 4 (notebook 08): the guided Gram matrix of a region.

    ``guided_gram(features, mask)`` must return ``sum_p m_p F_p F_p^T / sum_p m_p`` for ``(h, w, c)``
    features and an ``(h, w)`` mask, as :func:`nst_helpers.controls.guided_gram_matrix`.

    Args:
        guided_gram: the learner's function; returns a ``(c, c)`` array.
    """
    rng = np.random.default_rng(8)
    features = np.maximum(rng.normal(size=(6, 7, 5)), 0).astype(np.float32)   # ReLU outputs
    mask = np.clip(rng.uniform(-0.3, 1.3, (6, 7)), 0, 1).astype(np.float32)     # soft, some 0 and 1
    value = guided_gram(features.copy(), mask.copy())
    if value is None:
        raise NotDone("guided_gram returns None: return the (c, c) matrix")
    value = np.squeeze(np.asarray(value, dtype=np.float64))
    expected = np.asarray(guided_gram_matrix(features[None], mask))[0]
    if value.shape != expected.shape:
        raise NotDone("guided_gram must return a (c, c) matrix: c = the number of channels")
    close = lambda other: np.allclose(value, other, rtol=1e-4, atol=1e-6)  # noqa: E731
    if close(expected):
        return "positions weighted by the mask, averaged over the region: nh.controls.guided_gram_matrix"
    flat, weights = features.reshape(-1, 5).astype(np.float64), mask.reshape(-1, 1).astype(np.float64)
    if close(flat.T @ flat / len(flat)):
        raise NotDone("that is the plain Gram matrix of the whole picture: weight each position's F F^T "
                      "by the mask, and divide by the sum of the mask")
    if close((flat * weights).T @ (flat * weights) / weights.sum()):
        raise NotDone("the mask is applied twice (m squared): multiply only one of the two factors by it")
    if close((flat * weights).T @ flat / len(flat)):
        raise NotDone("divide by the sum of the mask, not by the number of positions: the mean over the "
                      "region, whatever its size")
    raise NotDone("sum m_p F_p F_p^T over the positions p, then divide by sum_p m_p")
