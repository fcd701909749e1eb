"""Checks for notebook 12's exercises (style as a distribution)."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .core import NotDone

__all__ = ["check_w2_1d", "check_gaussian_w2_1d", "check_sliced_2d",
           "check_which_tells_apart"]


def _samples(seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=500), rng.choice([-1.0, 1.0], size=500), rng.exponential(size=500) - 1


def _reference_w2_1d(x, y) -> float:
    return float(np.mean((np.sort(x) - np.sort(y)) ** 2))


def check_w2_1d(w2_1d: Callable) -> str:
    """Exercise (notebook 12): ``w2_1d(x, y)``, the squared 1-D Wasserstein-2 distance of two samples.

    Args:
        w2_1d: the learner's function of two equal-length 1-D arrays.
    """
    normal, signs, skewed = _samples()
    for x, y in ((normal, signs), (signs, skewed), (normal, skewed)):
        value = w2_1d(x, y)
        if value is None or not np.isfinite(value):
            raise NotDone("w2_1d must return a number")
        if not np.isclose(value, _reference_w2_1d(x, y), rtol=1e-6, atol=1e-9):
            raise NotDone("w2_1d(x, y) is not the mean squared difference of the sorted samples "
                          "(sort both, subtract, square, average)")
    if abs(w2_1d(normal, np.random.default_rng(5).permutation(normal))) > 1e-12:
        raise NotDone("a sample and its shuffled copy are the same distribution: w2_1d must give 0")
    return "sorting matches the quantiles, and their mean squared difference is W2 squared"


def check_gaussian_w2_1d(gaussian_w2_1d: Callable) -> str:
    """Exercise (notebook 12): the W2 distance of two 1-D Gaussians from their means and deviations.

    Args:
        gaussian_w2_1d: the learner's ``f(m1, s1, m2, s2)``.
    """
    cases = [((0.0, 1.0, 0.0, 1.0), 0.0), ((1.0, 1.0, -1.0, 1.0), 4.0), ((0.0, 1.0, 0.0, 3.0), 4.0),
             ((2.0, 0.5, 0.0, 2.0), 6.25)]
    for args, expected in cases:
        value = gaussian_w2_1d(*args)
        if value is None or not np.isclose(value, expected, atol=1e-9):
            raise NotDone(f"gaussian_w2_1d{args} should be {expected}: the squared difference of the means "
                          "plus the squared difference of the standard deviations")
    return "(m1 - m2)^2 + (s1 - s2)^2, the 1-D case of the Bures formula"


def check_sliced_2d(sliced_2d: Callable) -> str:
    """Exercise (notebook 12): the sliced distance of two 2-D samples along given unit directions.

    Args:
        sliced_2d: the learner's ``f(x, y, directions)``; ``x, y``: ``(n, 2)``; ``directions``: ``(2, k)``.
    """
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(300, 2)), rng.normal(size=(300, 2)) * [2.0, 0.5] + [1.0, 0.0]
    angles = rng.uniform(0, np.pi, 8)
    directions = np.stack([np.cos(angles), np.sin(angles)])
    expected = np.mean([_reference_w2_1d(x @ d, y @ d) for d in directions.T])
    value = sliced_2d(x, y, directions)
    if value is None or not np.isclose(value, expected, rtol=1e-6):
        raise NotDone("project both samples on each direction (x @ directions), compare each column with "
                      "the 1-D distance (sort, subtract, square, average), then average over the directions")
    return "the average of 1-D Wasserstein distances along the directions"


def check_which_tells_apart(answer: str) -> str:
    """Exercise (notebook 12): which representation tells the signs apart from the normal sample?

    Args:
        answer: ``"gram"``, ``"gaussian"`` or ``"sw"``.
    """
    if answer not in ("gram", "gaussian", "sw"):
        raise NotDone('answer with one of "gram", "gaussian" or "sw"')
    if answer != "sw":
        raise NotDone(f"{answer!r} sees only the first two moments, and both samples have mean 0 "
                      "and variance 1")
    return "only the sliced distance compares the whole distribution"
