r"""Style as a distribution of features: the Gaussian (Wasserstein-2) and sliced Wasserstein losses.

Gatys et al. match the Gram matrix :math:`G = F^\top F / M` of each style layer: the
features' second moments, nothing more.  Two later representations compare the whole
*distribution* of the feature vectors :math:`f_p` (one per position :math:`p`):

* **Gaussian** (mean :math:`\mu` and covariance :math:`\Sigma`; the Wasserstein-2 or
  Bures distance between two Gaussians, as in crowsonkb's style-transfer-pytorch):

  .. math:: W_2^2 = \|\mu - \mu_s\|^2 + \mathrm{tr}\,\Sigma + \mathrm{tr}\,\Sigma_s
            - 2\,\mathrm{tr}\,(\Sigma_s^{1/2}\,\Sigma\,\Sigma_s^{1/2})^{1/2}

  -> :func:`moments`, :func:`bures_error`.
* **Sliced Wasserstein** (Heitz et al., CVPR 2021, arXiv 2006.07229): project the
  features on :math:`K` random unit directions :math:`d_k`; in one dimension the
  optimal transport sorts both sides, so the distance is the mean squared difference
  of the sorted projections (their quantiles):

  .. math:: SW^2 = \frac{1}{K M}\sum_k \|\mathrm{sort}(F d_k) - \mathrm{sort}(F_s d_k)\|^2

  -> :class:`SlicedTarget`, :func:`sliced_error`.

Each is divided by its value against all-zero features (:math:`\|\mu_s\|^2 +
\mathrm{tr}\,\Sigma_s`, the mean squared target projection), so it starts near 1 as
the Gram term's relative error does and the style weights need no retuning
(:data:`nst_helpers.objective.STYLE_LOSS_WEIGHTS` aligns their strength).  Neither is in
Gatys et al.; benchmarks/style_losses.py compares them with the Gram loss.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .losses import guided_gram

__all__ = ["moments", "gaussian_target", "bures_error", "trace_sqrt", "SlicedTarget", "sliced_error",
           "quantiles", "ranks"]


def moments(features: tf.Tensor, sqrt_mask: tf.Tensor | None = None,
            scale: float = 1.0) -> tuple[tf.Tensor, tf.Tensor]:
    r"""``(mean (c,), covariance (c, c))`` of the feature vectors, over the region of ``sqrt_mask``.

    Args:
        features: ``(1, h, w, c)`` features of one layer.
        sqrt_mask: ``(1, h, w, 1)`` square root of a region's mask (:class:`~nst_helpers.objective.Target`),
            or None for every position.
        scale: positions / mask sum (turns a mean over positions into one over the region).
    """
    second = guided_gram(features, sqrt_mask, scale)[0]
    if sqrt_mask is None:
        mean = tf.reduce_mean(features, axis=(0, 1, 2))
    else:
        mean = tf.reduce_mean(features * tf.square(sqrt_mask), axis=(0, 1, 2)) * scale
    return mean, second - mean[:, None] * mean[None, :]


def _sqrtm(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix.astype(np.float64))
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def gaussian_target(mean: np.ndarray | tf.Tensor, covariance: np.ndarray | tf.Tensor) -> tuple:
    """The target of :func:`bures_error`: ``(mean, covariance, sqrt(covariance), norm)`` as constants.

    Args:
        mean: ``(c,)`` target mean; covariance: ``(c, c)`` target covariance (numpy or tensors).
    """
    mean, covariance = np.asarray(mean, np.float64), np.asarray(covariance, np.float64)
    norm = float(mean @ mean + np.trace(covariance))  # W2^2 from all-zero features
    return (tf.constant(mean, tf.float32), tf.constant(covariance, tf.float32),
            tf.constant(_sqrtm(covariance), tf.float32), tf.constant(norm, tf.float32))


@tf.custom_gradient
def trace_sqrt(matrix):
    r""":math:`\mathrm{tr}\, M^{1/2}` of a symmetric positive semi-definite ``matrix``.

    Its gradient :math:`\tfrac12 M^{-1/2}` is written by hand from the eigenvalues (a
    small ridge keeps it finite where :math:`M` is singular), which is stable where
    differentiating the eigenvectors is not.
    """
    size = tf.cast(tf.shape(matrix)[0], matrix.dtype)
    ridge = 1e-5 * tf.linalg.trace(matrix) / size + 1e-12
    values, vectors = tf.linalg.eigh(matrix + ridge * tf.eye(tf.shape(matrix)[0], dtype=matrix.dtype))
    values = tf.maximum(values, ridge)
    roots = tf.sqrt(values)

    def grad(upstream):
        return upstream * 0.5 * tf.matmul(vectors / roots[None, :], vectors, transpose_b=True)

    return tf.reduce_sum(roots), grad


def bures_error(representation: tuple[tf.Tensor, tf.Tensor], target: tuple) -> tf.Tensor:
    """Squared Wasserstein-2 distance between two Gaussians, divided by the target's from zero.

    Args:
        representation: ``(mean, covariance)`` from :func:`moments`.
        target: from :func:`gaussian_target`.
    """
    mean, covariance = representation
    target_mean, target_covariance, target_root, norm = target
    middle = tf.matmul(tf.matmul(target_root, covariance), target_root)
    middle = 0.5 * (middle + tf.transpose(middle))
    distance = (tf.reduce_sum(tf.square(mean - target_mean)) + tf.linalg.trace(covariance)
                + tf.linalg.trace(target_covariance) - 2.0 * trace_sqrt(middle))
    return tf.maximum(distance, 0.0) / norm


def quantiles(sorted_values: np.ndarray, count: int) -> np.ndarray:
    """``count`` evenly spaced quantiles of each row of ``sorted_values`` (rows sorted ascending).

    Args:
        sorted_values: ``(K, n)`` sorted projections of the style features.
        count: how many values per row to return (the generated image's positions).
    """
    n = sorted_values.shape[1]
    where = (np.arange(count) + 0.5) / count * n - 0.5
    low = np.clip(np.floor(where).astype(int), 0, n - 1)
    high = np.clip(low + 1, 0, n - 1)
    frac = np.clip(where - low, 0.0, 1.0)
    return sorted_values[:, low] * (1 - frac) + sorted_values[:, high] * frac


def ranks(projections: np.ndarray) -> np.ndarray:
    """The rank of each value within its row (int32), e.g. ``[[3., 1., 2.]] -> [[2, 0, 1]]``.

    Args:
        projections: ``(K, n)`` values.
    """
    order = np.argsort(projections, axis=1)
    out = np.empty_like(order, dtype=np.int32)
    np.put_along_axis(out, order, np.arange(projections.shape[1], dtype=np.int32)[None, :], axis=1)
    return out


class SlicedTarget:
    """The sliced Wasserstein target of one layer: directions and the style's sorted projections.

    Both live in ``tf.Variable`` s, so :meth:`redraw` changes them without retracing the
    compiled step.  The style's sorted projections are resampled to the generated
    image's number of positions (:func:`quantiles`); a blend of styles is the mixture
    of their distributions (each style contributes quantiles in proportion to its weight).

    Args:
        style_features: one ``(1, h, w, c)`` features array per style.
        positions: the generated image's positions ``h_l * w_l`` at this layer.
        directions: ``K``, the number of random directions.
        blend: one weight per style (summing to 1), or None for one style.
    """

    def __init__(self, style_features, positions: int, directions: int, blend=None):
        self.styles = [np.asarray(f, np.float32).reshape(-1, np.shape(f)[-1]) for f in style_features]
        self.positions, self.count = int(positions), int(directions)
        self.blend = [1.0] if blend is None else [float(b) for b in blend]
        channels = self.styles[0].shape[1]
        self.directions = tf.Variable(tf.zeros((channels, self.count)), trainable=False)
        self.sorted = tf.Variable(tf.zeros((self.count, self.positions)), trainable=False)
        self.norm = tf.Variable(1.0, trainable=False)

    def redraw(self, rng: np.random.Generator) -> None:
        """New random unit directions from ``rng``, and the style's sorted projections along them."""
        channels = self.styles[0].shape[1]
        directions = rng.standard_normal((channels, self.count)).astype(np.float32)
        directions /= np.linalg.norm(directions, axis=0, keepdims=True)
        counts = np.round(np.cumsum([0.0, *self.blend]) * self.positions).astype(int)
        parts = []
        for style, start, stop in zip(self.styles, counts[:-1], counts[1:]):
            if stop > start:
                parts.append(quantiles(np.sort((style @ directions).T, axis=1), stop - start))
        target = np.sort(np.concatenate(parts, axis=1), axis=1)
        self.directions.assign(directions)
        self.sorted.assign(target)
        self.norm.assign(max(float(np.mean(np.square(target))), 1e-12))


def sliced_error(layer_features: tf.Tensor, target: SlicedTarget) -> tf.Tensor:
    """Mean squared difference of the sorted projections, divided by the target's from zero.

    Sorting runs in NumPy (``np.argsort``; many times faster than ``tf.sort`` on a CPU);
    the ranks are constants of the gradient, which flows through the projections.

    Args:
        layer_features: ``(1, h, w, c)`` features of the generated image.
        target: the layer's :class:`SlicedTarget`.
    """
    channels = tf.shape(layer_features)[-1]
    projections = tf.transpose(tf.matmul(tf.reshape(layer_features, (-1, channels)), target.directions))
    order = tf.numpy_function(ranks, [tf.stop_gradient(projections)], tf.int32, stateful=False)
    order = tf.ensure_shape(order, projections.shape)
    matched = tf.gather(target.sorted, order, batch_dims=1)
    return tf.reduce_mean(tf.square(projections - matched)) / target.norm
