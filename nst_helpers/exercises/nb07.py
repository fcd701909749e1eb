"""Checks for notebook 07's exercises (experiments: Figure 3, the start image, the layer weights)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import tensorflow as tf

from ..settings import StyleSettings
from .core import NotDone

__all__ = ["check_painting_blend_start", "check_balanced_layer_weights",
           "check_gatys_recipe"]

_LAYERS = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"]


def _smooth_pair() -> tuple[np.ndarray, np.ndarray]:
    """A 48 x 64 "photo", an 80 x 80 "painting" (values 0.25-0.75) whose waves tell a resize from a crop."""
    y, x = np.mgrid[0:48, 0:64] / np.array([47.0, 63.0])[:, None, None]
    content = np.stack([0.25 + 0.5 * y, 0.5 + 0.2 * np.sin(3 * x), 0.3 + 0.4 * x * y], axis=-1)
    v, u = np.mgrid[0:80, 0:80] / 79.0
    style = np.stack([0.5 + 0.25 * np.sin(4 * np.pi * u), 0.75 - 0.5 * v, 0.5 + 0.25 * np.cos(4 * np.pi * v)],
                     axis=-1)
    return content.astype(np.float32), style.astype(np.float32)


def _start_of(blend_start: Callable, content: np.ndarray, style: np.ndarray, share: float, noise: float,
              seed: int = 0) -> np.ndarray:
    start = blend_start(content.copy(), style.copy(), share, noise, seed)
    if start is None or np.shape(start) != content.shape:
        raise NotDone("blend_start must return an image of the content's shape (resize the style to it)")
    start = np.asarray(start, dtype=np.float64)
    if not np.all(np.isfinite(start)) or start.min() < 0 or start.max() > 1:
        raise NotDone("the start must stay in [0, 1], the range of an image: clip it")
    return start


def check_painting_blend_start(blend_start: Callable) -> str:
    """Exercise 1 (notebook 07): a start image between the photo and the painting, plus noise.

    ``blend_start(content, style, share, noise, seed)``: ``(1 - share) * content + share * style``, the
    style resized to the content's shape, plus uniform noise in ``[-noise, noise]`` drawn with
    ``np.random.default_rng(seed)``, clipped to ``[0, 1]``; section 4 used ``share=0.5``.

    Args:
        blend_start: the learner's function.
    """
    content, style = _smooth_pair()
    resized = np.asarray(tf.image.resize(style, content.shape[:2]), dtype=np.float64)
    if not np.allclose(_start_of(blend_start, content, style, 0.0, 0.0), content, atol=1e-5):
        raise NotDone("with share=0 and noise=0 the start must be the photo itself: use the share and noise "
                      "arguments")
    if np.abs(_start_of(blend_start, content, style, 1.0, 0.0) - resized).max() > 0.03:
        raise NotDone("with share=1 and noise=0 the start must be the whole painting, resized to the photo's "
                      "shape (nh.images.resize(style, h, w)), not cropped")
    quarter = _start_of(blend_start, content, style, 0.25, 0.0)
    if np.abs(quarter - (0.75 * content + 0.25 * resized)).max() > 0.03:
        raise NotDone("share is the painting's part: (1 - share) * content + share * painting")
    start = _start_of(blend_start, content, style, 0.5, 0.2)
    residual = start - (content + resized) / 2
    if residual.std() < 0.03:
        raise NotDone("there is no noise: add uniform noise in [-noise, noise]")
    if np.abs(residual).max() > 0.2 + 0.03 or abs(residual.mean()) > 0.02 or not 0.09 < residual.std() < 0.14:
        raise NotDone("the noise must be uniform and centred in [-noise, noise]: "
                      "rng.uniform(-noise, noise, shape)")
    if not np.allclose(_start_of(blend_start, content, style, 0.5, 0.2), start, atol=1e-6):
        raise NotDone("draw the noise from np.random.default_rng(seed), so that a seed gives one start")
    if np.allclose(_start_of(blend_start, content, style, 0.5, 0.2, seed=1), start, atol=1e-6):
        raise NotDone("another seed must give other noise: use np.random.default_rng(seed)")
    bright = np.full_like(content, 0.95)
    _start_of(blend_start, bright, np.full_like(style, 0.95), 0.5, 0.2)  # only clipping keeps it <= 1
    return "photo and painting mixed by share, with noise to break the symmetry"


def check_balanced_layer_weights(balanced_layer_weights: Callable) -> str:
    """Exercise 2 (notebook 07): layer weights that make every layer's error count the same at the start.

    ``balanced_layer_weights(errors)`` gets ``{layer: error of the start image}`` and returns
    ``{layer: weight}`` with ``weight * error`` the same for every layer and the weights summing to 1.

    Args:
        balanced_layer_weights: the learner's function.
    """
    rng = np.random.default_rng(7)
    for errors in ({name: float(10.0 ** rng.uniform(-3, 2)) for name in _LAYERS},
                   {"block1_conv1": 0.9, "block4_conv1": 0.3}):
        weights = balanced_layer_weights(dict(errors))
        if not isinstance(weights, dict) or set(weights) != set(errors):
            raise NotDone("return a dict with one weight per layer of errors")
        w = np.array([float(weights[name]) for name in errors])
        e = np.array(list(errors.values()))
        if not np.isclose(w.sum(), 1.0, atol=1e-6):
            raise NotDone("the weights must sum to 1 (divide them by their sum), as nh.StyleObjective's do")
        if not np.allclose(w * e, (w * e).mean(), rtol=1e-5):
            raise NotDone("weight * error must be the same for every layer: the weights go as 1 / error")
    return "w_l = (1 / E_l) / sum(1 / E_m): each layer starts with the same share of the style loss"


def _as_list(value: object) -> object:
    return list(value) if isinstance(value, (list, tuple)) else value


_PAPER = dict(content_layers=["block4_conv2"], pooling="avg", init="noise")
_ALSO_DEFAULTS = dict(style_layers=_LAYERS, optimizer="lbfgs")


def check_gatys_recipe(paper: dict) -> str:
    """Exercise 3 (notebook 07): the settings of Gatys et al. that differ from ``nh.stylize``'s defaults.

    Args:
        paper: a dict of ``nh.stylize`` arguments.
    """
    if not isinstance(paper, dict) or not paper:
        raise NotDone("fill in PAPER with the arguments of nh.stylize that differ from its defaults")
    try:
        StyleSettings.from_options(**paper)
    except Exception as error:  # noqa: BLE001 (an unknown or misspelt option: say which)
        raise NotDone(f"nh.stylize would refuse it: {error}") from None
    hints = dict(content_layers="content layer: the paper uses block4_conv2 (conv4_2)",
                 pooling="pooling: the paper replaces max by average pooling",
                 init="start: the paper starts from white noise")
    for name, value in _PAPER.items():
        if _as_list(paper.get(name)) != value:
            raise NotDone(hints[name])
    for name in sorted(set(paper) - set(_PAPER)):
        if _ALSO_DEFAULTS.get(name, "not the baseline's") != _as_list(paper[name]):
            raise NotDone(f"{name} is not part of the recipe: keep only what differs from the defaults")
    return "block4_conv2 for the content, average pooling, a start from noise (L-BFGS is the default)"
