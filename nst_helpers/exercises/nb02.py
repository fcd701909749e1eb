"""Checks for notebook 02's exercises (images and preprocessing): sizes, caffe and back, transparency."""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..images import IMAGENET_MEAN_BGR, ImageError, fit_long_side, load_image, rgb_to_caffe
from .core import NotDone

__all__ = ["check_hubble_sizes", "check_caffe_by_hand", "check_caffe_inverse_by_hand",
           "check_transparent_left_half"]

HUBBLE_SHAPE = (872, 1000)  # the Hubble sample's height and width
HUBBLE_TARGET = 300  # exercise 1's long side


def check_hubble_sizes(my_h: object, my_w: object) -> str:
    """Exercise 1 (notebook 02): the Hubble image's size with its long side scaled to 300 pixels.

    Args:
        my_h: the learner's height.
        my_w: the learner's width.
    """
    expected = fit_long_side(*HUBBLE_SHAPE, HUBBLE_TARGET)
    scale = HUBBLE_TARGET / max(HUBBLE_SHAPE)
    answer = (my_h, my_w)
    if answer == expected:
        return f"a {HUBBLE_TARGET} px long side gives {expected[0]} x {expected[1]}"
    if answer == fit_long_side(*HUBBLE_SHAPE, 512):
        raise NotDone("446 x 512 is the size for a long side of 512: redo it with s = 300 / max(h, w)")
    if answer == expected[::-1]:
        raise NotDone("height first, then width: the image is 872 pixels high and 1000 wide")
    if answer == (int(HUBBLE_SHAPE[0] * scale), int(HUBBLE_SHAPE[1] * scale)):
        raise NotDone("round s * h to the nearest whole number, do not cut off the decimals")
    raise NotDone("not right: s = 300 / max(872, 1000), then h' = round(s * 872) and w' = round(s * 1000)")


def _calls(function: Callable, names: set) -> bool:
    """Whether ``function``'s code (or a function nested in it) names one of ``names``."""
    codes = [getattr(function, "__code__", None)]
    while codes:
        code = codes.pop()
        if code is None:
            continue
        if names & set(code.co_names):
            return True
        codes += [const for const in code.co_consts if hasattr(const, "co_names")]
    return False


def _seeded_image(seed: int, shape: tuple = (8, 12, 3)) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 1.0, shape).astype(np.float32)


def check_caffe_by_hand(to_caffe: Callable) -> str:
    """Exercise 2 (notebook 02): ``to_caffe(image)``, the caffe formula written in NumPy.

    Args:
        to_caffe: the learner's function of one ``(h, w, 3)`` RGB image in ``[0, 1]``.
    """
    if _calls(to_caffe, {"preprocess", "preprocess_input", "rgb_to_caffe"}):
        raise NotDone("write the formula yourself with NumPy: to_caffe must not call nh.preprocess")
    image = _seeded_image(1)
    out = to_caffe(image.copy())
    if out is None:
        raise NotDone("to_caffe must return the caffe array")
    out = np.asarray(out, dtype=np.float64)
    if out.shape != image.shape:
        raise NotDone("to_caffe must return an array of the image's shape (h, w, 3), without a batch axis")
    mean, rgb = IMAGENET_MEAN_BGR.astype(np.float64), image.astype(np.float64)
    wrong = [(rgb * 255 - mean, "the channels are still in R, G, B order: flip them with image[..., ::-1]"),
             (rgb[..., ::-1] * 255 - mean[::-1], "MEAN_BGR is in B, G, R order: subtract it after the flip"),
             (rgb[..., ::-1] - mean, "scale to 0-255 first: multiply by 255, then subtract MEAN_BGR"),
             (rgb[..., ::-1] * 255 + mean, "subtract the mean colour, do not add it")]
    if np.allclose(out, rgb[..., ::-1] * 255 - mean, atol=1e-3):
        return "BGR, 0-255, mean removed: the same as nh.preprocess"
    for array, problem in wrong:
        if np.allclose(out, array, atol=1e-3):
            raise NotDone(problem)
    raise NotDone("not the caffe convention: flip to BGR (image[..., ::-1]), multiply by 255, "
                  "subtract MEAN_BGR")


def check_caffe_inverse_by_hand(from_caffe: Callable) -> str:
    """Exercise 3 (notebook 02): ``from_caffe(array)``, the inverse formula with the clip, in NumPy.

    The check gives it the caffe values of a seeded image (it must give the image back), then values
    pushed out of range as in section 5 (it must clip them, like ``nh.deprocess``).

    Args:
        from_caffe: the learner's function of one ``(h, w, 3)`` caffe array.
    """
    if _calls(from_caffe, {"deprocess"}):
        raise NotDone("write the formula yourself with NumPy: from_caffe must not call nh.deprocess")
    image = _seeded_image(2)
    caffe = np.asarray(rgb_to_caffe(image), dtype=np.float32)
    rng = np.random.default_rng(0)
    pushed = (1.7 * caffe + 12.0 * rng.standard_normal(caffe.shape)).astype(np.float32)
    back = from_caffe(caffe.copy())
    if back is None or np.shape(back) != image.shape:
        raise NotDone("from_caffe must return an image of the array's shape (h, w, 3)")
    back = np.asarray(back, dtype=np.float64)
    mean, bgr = IMAGENET_MEAN_BGR.astype(np.float64), caffe.astype(np.float64)
    wrong = [((bgr + mean) / 255, "the channels are still in B, G, R order: flip them with [..., ::-1]"),
             ((bgr[..., ::-1] + mean) / 255, "add MEAN_BGR while the array is still in B, G, R order, "
                                             "then flip to RGB"),
             ((bgr - mean)[..., ::-1] / 255, "add the mean colour back, do not subtract it"),
             ((bgr + mean)[..., ::-1], "divide by 255 to get back to [0, 1]")]
    if not np.allclose(back, image, atol=1e-4):
        for array, problem in wrong:
            if np.allclose(back, np.clip(array, 0, 1), atol=1e-4) or np.allclose(back, array, atol=1e-4):
                raise NotDone(problem)
        raise NotDone("the round trip does not give the image back: add MEAN_BGR, flip to RGB "
                      "([..., ::-1]), divide by 255")
    out = np.asarray(from_caffe(pushed.copy()), dtype=np.float64)
    if out.min() < 0 or out.max() > 1:
        raise NotDone("values outside [0, 1] on the pushed image: clip them with np.clip(..., 0.0, 1.0)")
    expected = np.clip((pushed.astype(np.float64) + mean)[..., ::-1] / 255, 0, 1)
    if not np.allclose(out, expected, atol=1e-5):
        raise NotDone("the pushed image comes out wrong: clip after converting, the rest unchanged")
    return "add the mean, flip to RGB, divide by 255, clip: the same as nh.deprocess"


def check_transparent_left_half(left_half_transparent: Callable) -> str:
    """Exercise 4 (notebook 02): ``left_half_transparent(image)``, RGBA with the left half's alpha 0.

    Args:
        left_half_transparent: the learner's function of one ``(h, w, 3)`` image in ``[0, 1]``,
            returning ``(h, w, 4)``.
    """
    image = _seeded_image(4, (10, 13, 3))
    half = image.shape[1] // 2
    rgba = left_half_transparent(image.copy())
    if rgba is None or np.shape(rgba) != (*image.shape[:2], 4):
        raise NotDone("return an RGBA array, shape (h, w, 4): the colours plus the alpha channel")
    rgba = np.asarray(rgba, dtype=np.float64)
    if not np.allclose(rgba[..., :3], image, atol=1e-6):
        raise NotDone("keep the colours as they are: transparency goes in the alpha channel (index 3)")
    alpha = rgba[..., 3]
    expected = np.ones(image.shape[:2])
    expected[:, :half] = 0.0
    if alpha.max() > 1:
        raise NotDone("alpha of a float image lies in [0, 1]: 1.0 is opaque, 0.0 transparent")
    if np.all(alpha == 1):
        raise NotDone("every pixel is still opaque: set the alpha (index 3) of the left half, "
                      "rgba[:, : w // 2, 3], to 0")
    if np.all(alpha[:, :half] == 1):
        raise NotDone("the left half is still opaque, the right side is not: the left half is "
                      "rgba[:, : w // 2]")
    if not np.array_equal(alpha, expected):
        raise NotDone("alpha must be 0 on the left half, rgba[:, : w // 2, 3], and 1 everywhere else")
    try:
        loaded = load_image(rgba, min_side=1)
    except ImageError:
        raise NotDone("nh.load_image refuses the array: keep it float in [0, 1]") from None
    if not (np.all(loaded[:, :half] == 1.0) and np.allclose(loaded[:, half:], image[:, half:], atol=1e-6)):
        raise NotDone("loaded, the left half must be white and the right half unchanged")
    return "alpha 0 on the left half: nh.load_image shows it white"
