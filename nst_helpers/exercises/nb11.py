"""Checks for notebook 11's exercises (the classic exercise's ``NST`` class, method by method).

Each check builds its own inputs: exercise 1 runs the argument checks of
:meth:`nst_helpers.NST.generate_image` on an instance without images or model (so nothing is
painted), exercises 2 and 3 compare with the package's Gram matrix and image size, and exercise 4
uses made-up costs.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import tensorflow as tf

from ..errors import NSTError
from ..images import fit_long_side
from ..losses import gram_matrix
from ..nst import NST
from .core import NotDone, as_array

__all__ = ["check_trip_beta2_range", "check_gram_einsum", "check_scaled_shape_512",
           "check_variational_share"]

_BETA2_RANGE = "beta2 must be in the range [0, 1]"
_ARGUMENTS = ("iterations", "step", "lr", "beta1", "beta2")


class _WouldPaint(Exception):
    """Every argument check of ``generate_image`` passed: it was about to start painting."""


class _ChecksOnly(NST):
    """An ``NST`` with no images and no model: ``generate_image`` runs its checks, then stops."""

    def __init__(self) -> None:  # nothing to scale, load or compute
        pass

    @property
    def content_image(self):
        raise _WouldPaint


def check_trip_beta2_range(args: dict) -> str:
    """Exercise 1 (notebook 11): ``generate_image(**ARGS)`` stops at the beta2 range check.

    Every earlier check (``iterations``, ``step``, ``lr``, ``beta1``, the type of ``beta2``) must
    pass, so the arguments must be right but for the value of ``beta2``.

    Args:
        args: the learner's ``ARGS``, a dict of ``generate_image``'s keyword arguments.
    """
    if not isinstance(args, dict):
        raise NotDone("ARGS must be a dict of generate_image's keyword arguments, e.g. dict(iterations=10)")
    unknown = sorted(str(name) for name in args if name not in _ARGUMENTS)
    if unknown:
        raise NotDone(f"generate_image has no argument {unknown[0]!r}: its arguments are "
                      "iterations, step, lr, beta1 and beta2")
    try:
        _ChecksOnly().generate_image(**args)
    except _WouldPaint:
        raise NotDone("every check passed, so generate_image would start painting: "
                      "give beta2 a float outside [0, 1]") from None
    except NSTError as error:
        message = str(error)
    else:  # pragma: no cover - generate_image cannot return without reading content_image
        raise NotDone("generate_image went through")
    if message == "beta2 must be a float":
        raise NotDone("generate_image stopped at 'beta2 must be a float': the type is checked before "
                      "the range, and 1 or 2 are ints (write 1.5)")
    if message != _BETA2_RANGE:
        raise NotDone(f"generate_image stopped at an earlier check, {message!r}: make that argument valid")
    return f"generate_image stopped at {_BETA2_RANGE!r}, after every earlier check passed"


def check_gram_einsum(my_gram: Callable) -> str:
    """Exercise 2 (notebook 11): ``my_gram(features)``, the ``(1, c, c)`` Gram matrix of ``(1, h, w, c)``.

    Args:
        my_gram: the learner's function of a rank-4 tensor.
    """
    rng = np.random.default_rng(1)
    for shape in [(1, 4, 5, 3), (1, 7, 2, 8), (1, 16, 16, 64)]:
        x = tf.constant(rng.standard_normal(shape), tf.float32)
        expected = gram_matrix(x).numpy().astype(np.float64)
        value = as_array(my_gram(x), "my_gram", hint="return the Gram matrix, tf.einsum(...) / (h * w)")
        positions, channels = shape[1] * shape[2], shape[3]
        if value.shape == expected.shape[1:]:
            raise NotDone("keep the batch axis: the output should have shape (1, c, c), as 'bijc,bijd->bcd'")
        if value.shape != expected.shape:
            raise NotDone(f"for features of shape {shape}, my_gram should return shape {expected.shape}, "
                          f"not {value.shape}")
        if np.allclose(value, expected * positions, rtol=1e-4):
            raise NotDone("divide the sum by the number of positions, h * w")
        if np.allclose(value, expected / channels, rtol=1e-4):
            raise NotDone("divide by the number of positions h * w only, not by the channels too")
        if not np.allclose(value, expected, rtol=1e-4, atol=1e-5):
            raise NotDone("my_gram(x) differs from nh.NST.gram_matrix(x): multiply channel c by channel d at "
                          "each position, sum over the positions i, j (keep b), then divide by h * w")
    return "one tf.einsum over the positions, divided by h * w, as nh.losses.gram_matrix"


def check_scaled_shape_512(scaled_shape: Callable) -> str:
    """Exercise 3 (notebook 11): ``scaled_shape(h, w)``, the shape ``NST.scale_image`` gives, by arithmetic.

    Args:
        scaled_shape: the learner's function of the height and width of an ``(h, w, 3)`` image.
    """
    for h, w in [(300, 451), (1000, 250), (300, 301), (16, 12), (2000, 2000), (683, 1023)]:
        expected = (1, *fit_long_side(h, w, 512), 3)
        value = scaled_shape(h, w)
        if not isinstance(value, (tuple, list)):
            raise NotDone("scaled_shape must return a tuple (1, new_h, new_w, 3)")
        value = tuple(value)
        if value == expected:
            continue
        if value == expected[1:]:
            raise NotDone("scale_image adds a batch axis: return (1, new_h, new_w, 3)")
        s = 512 / max(h, w)
        if value == (1, int(s * h), int(s * w), 3):
            raise NotDone(f"scaled_shape({h}, {w}) should be {expected}: round the sizes, do not truncate")
        if max(h, w) < 512 and value == (1, h, w, 3):
            raise NotDone(f"scaled_shape({h}, {w}) should be {expected}: small images are enlarged too, "
                          "the long side is always 512")
        raise NotDone(f"scaled_shape({h}, {w}) should be {expected}, not {value}: with s = 512 / max(h, w), "
                      "the new sizes are round(s * h) and round(s * w)")
    return "s = 512 / max(h, w), then round(s * h) and round(s * w): every image ends up 512 px long"


def check_variational_share(variational_share: Callable) -> str:
    """Exercise 4 (notebook 11): the share of the weighted variational term in the total cost ``J``.

    Args:
        variational_share: the learner's ``f(alpha, beta, var, J_content, J_style, J_var)``.
    """
    cases = [(1e4, 1.0, 10.0, 157.0, 2.2e7, 1.3e5), (1e4, 1.0, 1e4, 160.0, 6.0e7, 6.0e4),
             (1e4, 1.0, 0.0, 150.0, 3.0e7, 1.5e5), (0.0, 0.0, 10.0, 1.0, 1.0, 5.0)]
    for alpha, beta, var, J_content, J_style, J_var in cases:
        value = variational_share(alpha, beta, var, J_content, J_style, J_var)
        terms = (alpha * J_content, beta * J_style, var * J_var)
        expected = terms[2] / sum(terms)
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise NotDone("variational_share must return a number, a fraction of J") from None
        if np.isclose(value, expected, rtol=1e-6, atol=1e-12):
            continue
        if np.isclose(value, terms[2], rtol=1e-6):
            raise NotDone("a share is a fraction of J: divide var * J_var by J, the sum of the three terms")
        if np.isclose(value, 100 * expected, rtol=1e-6):
            raise NotDone("give the share as a fraction of 1, not as a percentage")
        if np.isclose(value, J_var / (J_content + J_style + J_var), rtol=1e-6):
            raise NotDone("weigh the costs: J = alpha * J_content + beta * J_style + var * J_var")
        raise NotDone("variational_share should be var * J_var / (alpha * J_content + beta * J_style "
                      "+ var * J_var)")
    return "var * J_var / J: the weighted variational term as a fraction of the total cost"
