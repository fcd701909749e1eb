"""Checks for notebook 04's exercises (content representation: what a layer remembers)."""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np

from .core import NotDone, as_number

__all__ = ["check_relative_error_numpy", "check_shift_deep_overtakes", "check_receptive_field",
           "check_relative_error_gradient"]

SHIFTS = (8, 16, 32, 64)


def _features(seed: int = 0, shape: tuple = (1, 6, 7, 5)) -> tuple[np.ndarray, np.ndarray]:
    """A seeded target ``P`` (non-negative, like ReLU features) and a generated ``F`` near it."""
    rng = np.random.default_rng(seed)
    target = rng.uniform(0.0, 2.0, shape)
    return target + rng.normal(0.0, 0.7, shape), target


def _finite_number(value: object, what: str) -> float:
    value = as_number(value, what)
    if not np.isfinite(value):
        raise NotDone(f"{what} returned {value}: divide by the energy of the target P, which is not 0")
    return value


def check_relative_error_numpy(my_relative: Callable) -> str:
    """Exercise 1 (notebook 04): ``my_relative(F, P)``, the relative content error in NumPy.

    Args:
        my_relative: the learner's function of two equally shaped float64 arrays, returning
            ``sum((F - P)^2) / sum(P^2)``.
    """
    generated, target = _features()
    with np.errstate(all="ignore"):  # a wrong answer may divide by zero: say so, without a warning
        same, zero, value = (my_relative(features, target)
                             for features in (target.copy(), np.zeros_like(target), generated))
    if abs(_finite_number(same, "my_relative")) > 1e-12:
        raise NotDone("my_relative(P, P) must be 0: features equal to the target have no error")
    if not np.isclose(_finite_number(zero, "my_relative"), 1.0, rtol=1e-9):
        raise NotDone("my_relative(0, P) must be 1: divide the squared error by the energy of the target, "
                      "np.sum(P ** 2)")
    expected = np.sum((generated - target) ** 2) / np.sum(target ** 2)
    if not np.isclose(_finite_number(value, "my_relative"), expected, rtol=1e-6):
        raise NotDone("my_relative(F, P) is not np.sum((F - P) ** 2) / np.sum(P ** 2): square the "
                      "differences (no square root) and divide by the energy of P, not of F")
    return "the squared error over the target's energy: 0 is a match, 1 is as far as zero features"


@functools.lru_cache(maxsize=1)
def _shift_errors() -> dict[int, tuple[float, float]]:
    """``{shift: (block1_conv2 error, block5_conv2 error)}`` of the 256-pixel cat rolled right."""
    from ..images import load_sample
    from ..losses import relative_error
    from ..model import build_extractor

    photo = load_sample("chelsea", 256)
    extractor = build_extractor(["block1_conv2", "block5_conv2"])  # max pooling, as section 2's extractor
    target = extractor(photo[None])
    errors = {}
    for shift in SHIFTS:
        features = extractor(np.roll(photo, shift, axis=1)[None])
        errors[shift] = tuple(float(relative_error(features[layer], target[layer]))
                              for layer in ("block1_conv2", "block5_conv2"))
    return errors


def check_shift_deep_overtakes(answer: int | None) -> str:
    """Exercise 2 (notebook 04): the smallest shift that ``block5_conv2`` minds more than ``block1_conv2``.

    The check measures the relative errors itself (section 2's photo, 256 pixels, rolled right).

    Args:
        answer: one of 8, 16, 32 or 64 (pixels).
    """
    if isinstance(answer, bool) or answer not in SHIFTS:
        raise NotDone("set MY_SHIFT to one of 8, 16, 32 or 64 (pixels to the right)")
    errors = _shift_errors()
    overtaken = [shift for shift in SHIFTS if errors[shift][1] > errors[shift][0]]
    shallow, deep = errors[answer]
    if deep <= shallow:
        raise NotDone(f"at {int(answer)} pixels block5_conv2's error is still below block1_conv2's: "
                      "try a larger shift")
    if answer != overtaken[0]:
        raise NotDone(f"block5_conv2's error is above block1_conv2's at {int(answer)} pixels, but already "
                      "at a smaller shift: try the smaller ones")
    return (f"from {int(answer)} pixels on, block5_conv2 minds the move more than block1_conv2: it "
            "forgives small shifts but keeps where things are")


def check_receptive_field(receptive_field: Callable) -> str:
    """Exercise 3 (notebook 04): ``receptive_field(layer)``, the pixels one position of a VGG19 layer sees.

    Args:
        receptive_field: the learner's function of a layer name (``"block5_conv2"``), returning the
            side in pixels of the square of the input that one position of that layer depends on.
    """
    from ..model import VGG19_LAYERS
    from ..model import receptive_field as model_field

    hints = {"block1_conv1": "one 3 x 3 convolution of the pixels sees 3 x 3 of them",
             "block1_conv2": "each 3 x 3 convolution adds one position on each side"}
    after_pooling = ("after a 2 x 2 pooling one position steps 2 (then 4, 8, 16) pixels, so each "
                     "convolution adds a step on each side, and each pooling one step")
    for layer in [name for name in VGG19_LAYERS if "conv" in name]:
        expected = model_field(layer)
        value = as_number(receptive_field(layer), "receptive_field")
        if value != expected:
            hint = hints.get(layer, after_pooling)
            raise NotDone(f"receptive_field({layer!r}) should be {expected}: {hint}")
    deepest = model_field("block5_conv2")
    return f"a position of block5_conv2 sees {deepest} x {deepest} pixels, one of block1_conv2 only 5 x 5"


def check_relative_error_gradient(relative_error_gradient: Callable) -> str:
    """Exercise 4 (notebook 04): the gradient of the relative content error with respect to ``F``.

    Args:
        relative_error_gradient: the learner's ``f(F, P)`` returning ``d/dF [sum((F - P)^2) / sum(P^2)]``,
            an array shaped like ``F``.
    """
    generated, target = _features(seed=4, shape=(1, 4, 5, 3))
    expected = 2.0 * (generated - target) / np.sum(target ** 2)
    with np.errstate(all="ignore"):
        value = relative_error_gradient(generated, target)
    try:
        value = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        value = None
    if value is None or value.shape != generated.shape or not np.all(np.isfinite(value)):
        raise NotDone("relative_error_gradient(F, P) must return a finite array shaped like F")
    if np.allclose(value, expected, rtol=1e-6, atol=1e-12):
        return "2 (F - P) / sum(P^2): the half-sum loss's F - P, scaled by a constant the weight absorbs"
    difference = (generated - target).ravel()
    factor = float(value.ravel() @ difference / (difference @ difference))
    if np.allclose(value, factor * (generated - target), rtol=1e-6, atol=1e-12):
        if factor <= 0:
            raise NotDone("the gradient must point uphill, along F - P (not P - F, and not zero): "
                          "the optimiser steps against it")
        raise NotDone("the direction F - P is right, but not the factor: the derivative of (F - P)^2 is "
                      "2 (F - P), and the constant 1 / sum(P^2) stays")
    raise NotDone("not the gradient of sum((F - P)^2) / sum(P^2) with respect to F: P is a constant "
                  "there, so the denominator is a fixed number")
