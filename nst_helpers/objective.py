r"""The loss of :func:`nst_helpers.stylize`, built from terms.

A :class:`Term` is *what* is compared (a set of layers, each with a weight and a
target), *how* the features are represented (the features themselves, their Gram
matrix, or the guided Gram matrix of a masked region), the comparison (a relative
error, ``||R - T||^2 / ||T||^2``, so every term starts near 1) and the term's weight
in the total.  :class:`nst_helpers.StyleObjective` sums them:

* content: features at the content layers, averaged over the layers;
* style: Gram matrices at the style layers (guided Gram matrices when the styles
  have masks: one target per layer and region, weighted by the region's share of
  the layer, see :mod:`nst_helpers.controls`);
* total variation: a pixel term (:func:`~nst_helpers.losses.total_variation_loss`).

The classic exercise's mean-squared losses (:func:`nst_helpers.losses.content_loss`,
``layer_style_loss``, ``style_loss``) are not terms of this objective; :class:`nst_helpers.NST`
uses them.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
import tensorflow as tf

from .losses import guided_gram, relative_error, total_variation_loss


@dataclasses.dataclass(frozen=True)
class Target:
    """One comparison of a term: the representation of ``layer`` against ``value``."""

    layer: str
    value: tf.Tensor
    weight: float = 1.0  # layer weight (times the region's share, for a masked style)
    sqrt_mask: tf.Tensor | None = None  # (1, h_l, w_l, 1): the region, for a guided Gram matrix
    scale: float = 1.0  # positions / mask sum: the mean over positions -> the mean over the region


def features(layer_features, target: Target) -> tf.Tensor:
    """The content representation: the features themselves."""
    return layer_features


def gram(layer_features, target: Target) -> tf.Tensor:
    """The style representation: the Gram matrix, guided by ``target``'s mask if it has one."""
    return guided_gram(layer_features, target.sqrt_mask, target.scale)


@dataclasses.dataclass(frozen=True)
class Term:
    """``sum_t w_t * compare(representation(F_layer(t)), target_t)``, weighted by ``weight`` in the total.

    ``mean``: divide the sum by the number of targets (the content term's mean over
    layers).  A term with no targets (e.g. a style whose masks cover nothing) is 0.
    ``pixels``: a term of the image itself (total variation) instead of features.
    """

    name: str
    weight: float
    targets: tuple = ()
    representation: Callable = features
    compare: Callable = relative_error
    mean: bool = False
    pixels: Callable | None = None

    @property
    def layers(self) -> list[str]:
        return list(dict.fromkeys(t.layer for t in self.targets))

    def value(self, layer_features: dict, image) -> tf.Tensor:
        if self.pixels is not None:
            return self.pixels(image)
        errors = [t.weight * self.compare(self.representation(layer_features[t.layer], t), t.value)
                  for t in self.targets]
        if not errors:
            return tf.constant(0.0)
        return tf.add_n(errors) / len(errors) if self.mean else tf.add_n(errors)


def content_term(content_features: dict, layers, weight: float) -> Term:
    """Relative error of the features, averaged over ``layers``."""
    targets = tuple(Target(name, tf.constant(content_features[name])) for name in layers)
    return Term("content", weight, targets, features, mean=True)


def style_term(style_grams: list, layer_weights: dict, weight: float, *, blend=None, masks=None,
               multipliers=None, min_mass: float = 1e-3) -> Term:
    """Relative error of the Gram matrices at the layers of ``layer_weights``.

    ``style_grams``: one ``{layer: Gram}`` per style.  Without ``masks`` the target is
    the ``blend``-weighted sum of the styles' Grams.  With ``masks`` (one ``(h, w)`` per
    style, at the content's size) each style is a region: its guided Gram is compared
    with that style's Gram, weighted by ``multipliers`` (one per style, not normalised)
    and by the region's share of the layer; regions with (numerically) no pixels at a
    layer are left out of it.
    """
    if masks is None:
        blend = [1.0] * len(style_grams) if blend is None else list(blend)
        targets = []
        for name, layer_weight in layer_weights.items():
            total = 0.0
            for grams, share in zip(style_grams, blend):
                total += share * grams[name]
            targets.append(Target(name, tf.constant(total), layer_weight))
        return Term("style", weight, tuple(targets), gram)
    from .controls import layer_masks  # controls builds on losses only; no import cycle

    multipliers = [1.0] * len(masks) if multipliers is None else [float(m) for m in multipliers]
    regions = {name: [] for name in layer_weights}
    for grams, mask, multiplier in zip(style_grams, masks, multipliers):
        for name, small in layer_masks(mask, list(layer_weights)).items():
            mass = float(small.sum())
            if mass <= min_mass or multiplier == 0:
                continue
            regions[name].append(Target(name, tf.constant(grams[name]), layer_weights[name] * (multiplier * mass / small.size),
                                        tf.constant(np.sqrt(small)[None, ..., None]), small.size / mass))
    return Term("style", weight, tuple(t for targets in regions.values() for t in targets), gram)


def variation_term(weight: float) -> Term:
    """Mean squared difference of neighbouring pixels."""
    return Term("tv", weight, pixels=total_variation_loss)
