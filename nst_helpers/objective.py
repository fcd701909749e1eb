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
from collections.abc import Iterable
from typing import Callable

import numpy as np
import tensorflow as tf

from .distributions import SlicedTarget, bures_error, gaussian_target, moments, sliced_error
from .errors import OptionError
from .losses import gram_matrix, guided_gram, relative_error, total_variation_loss

__all__ = ["Target", "Term", "features", "gram", "gaussian", "content_term", "style_term", "variation_term",
           "redraw", "STYLE_LOSS_WEIGHTS"]


@dataclasses.dataclass(frozen=True)
class Target:
    """One comparison of a term: the representation of ``layer`` against ``value``."""

    layer: str
    value: object  # a tensor, a tuple of tensors (Gaussian) or a SlicedTarget
    weight: float = 1.0  # layer weight (times the region's share, for a masked style)
    sqrt_mask: tf.Tensor | None = None  # (1, h_l, w_l, 1): the region, for a guided Gram matrix
    scale: float = 1.0  # positions / mask sum: the mean over positions -> the mean over the region


def features(layer_features: tf.Tensor, target: Target) -> tf.Tensor:
    """The content representation: the features themselves.

    Args:
        layer_features: the generated image's features at ``target.layer``.
        target: the comparison (unused: the features need nothing from it).
    """
    return layer_features


def gram(layer_features: tf.Tensor, target: Target) -> tf.Tensor:
    """The style representation: the Gram matrix, guided by ``target``'s mask if it has one.

    Args:
        layer_features: the generated image's features at ``target.layer``.
        target: the comparison; its ``sqrt_mask`` and ``scale`` select a region.
    """
    return guided_gram(layer_features, target.sqrt_mask, target.scale)


@dataclasses.dataclass(frozen=True)
class Term:
    """``sum_t w_t * compare(representation(F_layer(t)), target_t)``, times ``weight`` in the total.

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


def content_term(content_features: dict[str, tf.Tensor], layers: Iterable[str], weight: float) -> Term:
    """Relative error of the features, averaged over ``layers``.

    Departure from Gatys et al.: a relative error (:func:`~nst_helpers.losses.relative_error`)
    instead of half the summed squared error.  Derived in notebook 04, §2 ("The content loss").

    Args:
        content_features: ``{layer: features}`` of the content image.
        layers: the content layers.
        weight: the term's weight in the total loss.
    """
    targets = tuple(Target(name, tf.constant(content_features[name])) for name in layers)
    return Term("content", weight, targets, features, mean=True)


# Each style loss's weight relative to Gram's, so that the default style_weight stylises about
# as strongly with each (the content error of the result within 25% of Gram's): measured by
# benchmarks/style_losses.py (see benchmarks/RESULTS.md, "Style as a distribution").
STYLE_LOSS_WEIGHTS = {"gram": 1.0, "gaussian": 1.0, "sw": 1.0}


def gaussian(layer_features: tf.Tensor, target: Target) -> tuple[tf.Tensor, tf.Tensor]:
    """The Gaussian style representation: mean and covariance, of ``target``'s region if masked.

    Not in Gatys et al. (a Gram matrix only): see :mod:`nst_helpers.distributions`.

    Args:
        layer_features: the generated image's features at ``target.layer``.
        target: the comparison; its ``sqrt_mask`` and ``scale`` select a region.
    """
    return moments(layer_features, target.sqrt_mask, target.scale)


def _style_value(loss: str, style_features: dict, blend, positions: dict, directions: int):
    """``{layer: target value}`` of one style (or of the ``blend`` of several) for ``loss``."""
    if loss == "sw":
        return {name: SlicedTarget([f[name] for f in style_features], positions[name], directions, blend)
                for name in positions}
    values = {}
    for name in style_features[0]:
        if loss == "gram":
            values[name] = tf.constant(sum(share * gram_matrix(f[name])
                                           for f, share in zip(style_features, blend)))
        else:  # the mixture's mean and covariance
            stats = [moments(f[name]) for f in style_features]
            mean = sum(share * m for (m, _), share in zip(stats, blend))
            second = sum(share * (c + m[:, None] * m[None, :]) for (m, c), share in zip(stats, blend))
            values[name] = gaussian_target(mean, second - mean[:, None] * mean[None, :])
    return values


_REPRESENTATIONS = {"gram": (gram, relative_error), "gaussian": (gaussian, bures_error),
                    "sw": (features, sliced_error)}


def style_term(style_features: list[dict[str, tf.Tensor]], layer_weights: dict[str, float], weight: float,
               *, loss: str = "gram", blend: Iterable[float] | None = None,
               masks: list[np.ndarray] | None = None, multipliers: Iterable[float] | None = None,
               positions: dict[str, int] | None = None, directions: int = 32,
               pool_padding: str = "same", min_mass: float = 1e-3) -> Term:
    """The style term at the layers of ``layer_weights``, with the representation ``loss``.

    ``style_features``: one ``{layer: (1, h, w, c) features}`` per style.  ``loss``:
    ``"gram"`` (Gatys et al.: relative error of the Gram matrices), ``"gaussian"``
    (Wasserstein-2 between mean/covariance Gaussians) or ``"sw"`` (sliced Wasserstein,
    ``directions`` random directions per layer; ``positions`` gives the generated image's
    ``h_l * w_l`` per layer; call :func:`redraw` to draw them), see
    :mod:`nst_helpers.distributions`.  Without ``masks`` the target is the ``blend`` of
    the styles (averaged Grams; the mixture's moments or quantiles).  With ``masks``
    (one ``(h, w)`` per style, at the content's size) each style is a region: its
    guided statistics are compared with that style's, weighted by ``multipliers`` (one
    per style, not normalised) and by the region's share of the layer; regions with
    (numerically) no pixels at a layer are left out of it.

    Departures from Gatys et al.: relative errors of Gram matrices (see
    :func:`~nst_helpers.losses.relative_error`); the blend, the masks and the ``"gaussian"``
    and ``"sw"`` representations are not in the paper.  Derived in notebook 05, §5 ("The style
    loss over layers"), notebook 08, §2 ("Two styles, blended") and §3 ("A style per region:
    masked (guided) Gram matrices"); benchmarks/style_losses.py compares the representations.

    Args:
        style_features: one ``{layer: (1, h, w, c) features}`` per style.
        layer_weights: ``{layer: weight}`` of the style layers.
        weight: the term's weight in the total loss.
        loss: ``"gram"``, ``"gaussian"`` or ``"sw"``.
        blend: one weight per style (without masks); None for equal weights.
        masks: one ``(h, w)`` mask per style, at the content's size; None for no regions.
        multipliers: one factor per masked style; None for 1 each.
        positions: ``{layer: h_l * w_l}`` of the generated image (``"sw"`` only).
        directions: random directions per layer (``"sw"`` only).
        pool_padding: VGG's pooling of an odd side, to shrink the masks the same way.
        min_mass: regions with at most this many (fractional) pixels at a layer are left out.
    """
    representation, compare = _REPRESENTATIONS[loss]
    weight = weight * STYLE_LOSS_WEIGHTS[loss]
    style_features = [{name: f[name] for name in layer_weights} for f in style_features]
    if masks is None:
        blend = [1.0] * len(style_features) if blend is None else list(blend)
        values = _style_value(loss, style_features, blend, positions or {}, directions)
        targets = tuple(Target(name, values[name], layer_weight)
                        for name, layer_weight in layer_weights.items())
        return Term("style", weight, targets, representation, compare)
    if loss == "sw":
        raise OptionError("style_loss='sw' cannot be combined with style_masks (sorting the projections "
                          "of a masked region has no differentiable form here); use style_loss='gram' "
                          "or 'gaussian' with masks, or leave the masks out")
    from .controls import layer_masks  # controls builds on losses only; no import cycle

    multipliers = [1.0] * len(masks) if multipliers is None else [float(m) for m in multipliers]
    regions = {name: [] for name in layer_weights}
    for features_one, mask, multiplier in zip(style_features, masks, multipliers):
        values = _style_value(loss, [features_one], [1.0], {}, directions)
        for name, small in layer_masks(mask, list(layer_weights), pool_padding).items():
            mass = float(small.sum())
            if mass <= min_mass or multiplier == 0:
                continue
            share = layer_weights[name] * (multiplier * mass / small.size)
            sqrt_mask = tf.constant(np.sqrt(small)[None, ..., None])
            regions[name].append(Target(name, values[name], share, sqrt_mask, small.size / mass))
    return Term("style", weight, tuple(t for targets in regions.values() for t in targets),
                representation, compare)


def redraw(term: Term, rng: np.random.Generator) -> None:
    """Draw new random directions for every sliced-Wasserstein target of ``term`` (others: nothing).

    Args:
        term: a term from :func:`style_term` (any other term is left as it is).
        rng: the random generator the directions are drawn from.
    """
    for target in term.targets:
        if isinstance(target.value, SlicedTarget):
            target.value.redraw(rng)


def variation_term(weight: float) -> Term:
    """Mean squared difference of neighbouring pixels (not in Gatys et al.'s loss).

    Derived in notebook 06, §10 ("Total variation: a smoothness prior").

    Args:
        weight: the term's weight in the total loss.
    """
    return Term("tv", weight, pixels=total_variation_loss)
