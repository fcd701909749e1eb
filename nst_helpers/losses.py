r"""The losses of neural style transfer, each a few lines of TensorFlow.

Notation (Gatys et al. 2015): ``F`` are the features of layer ``l`` of the image
being generated, reshaped to ``(positions M_l = h*w, channels N_l)``; ``P`` those
of the content image; ``A`` the Gram matrix of the style image.

* Gram matrix      :math:`G = F^T F / M_l`                       -> :func:`gram_matrix`
* guided Gram      the Gram matrix of a masked region             -> :func:`guided_gram`
* total variation  mean squared difference of neighbouring pixels -> :func:`total_variation_loss`
* relative error   :math:`\|R - T\|^2 / \|T\|^2`                  -> :func:`relative_error`

The classic exercise's mean-squared losses (what :class:`nst_helpers.NST` and the
notebooks' first derivations use):

* content loss     :math:`\mathrm{mean}((F - P)^2)`              -> :func:`content_loss`
* layer style loss :math:`\mathrm{mean}((G - A)^2)`              -> :func:`layer_style_loss`
* style loss       :math:`\sum_l w_l \, E_l`                     -> :func:`style_loss`

Means (not sums) make every term independent of the image size.  ``stylize``
compares instead with :func:`relative_error` (dividing by the energy of the target),
so one set of weights works for every layer, image and resolution; its terms are
built in :mod:`nst_helpers.objective`.
"""

from __future__ import annotations

import tensorflow as tf


def gram_matrix(features: tf.Tensor) -> tf.Tensor:
    """Channel correlations averaged over positions.

    ``(h, w, c) -> (c, c)`` and ``(b, h, w, c) -> (b, c, c)``.
    """
    features = tf.convert_to_tensor(features)
    positions = tf.cast(tf.shape(features)[-3] * tf.shape(features)[-2], features.dtype)
    if features.shape.rank == 3:
        return tf.einsum("ijc,ijd->cd", features, features) / positions
    return tf.einsum("bijc,bijd->bcd", features, features) / positions


def guided_gram(features: tf.Tensor, sqrt_mask=None, scale: float = 1.0) -> tf.Tensor:
    r"""The Gram matrix of ``features``, or with ``sqrt_mask`` (``\sqrt{m}``, broadcastable to
    ``features``) that of the region ``m``: :math:`\sum_p m_p F_p F_p^\top / \sum_p m_p`, as
    :func:`gram_matrix` of :math:`F \circ \sqrt{m}` times ``scale`` (positions / :math:`\sum_p m_p`)."""
    if sqrt_mask is None:
        return gram_matrix(features)
    return gram_matrix(features * sqrt_mask) * scale


# -- the classic exercise's mean-squared losses (nst.NST); stylize uses relative_error instead
def content_loss(features: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    """Mean squared difference between generated and content features."""
    return tf.reduce_mean(tf.square(features - target))


def layer_style_loss(features: tf.Tensor, target_gram: tf.Tensor) -> tf.Tensor:
    """Mean squared difference between the Gram matrix of ``features`` and the target Gram."""
    gram = gram_matrix(features)
    return tf.reduce_mean(tf.square(gram - tf.reshape(target_gram, tf.shape(gram))))


def style_loss(features: dict, target_grams: dict, layer_weights: dict | None = None) -> tf.Tensor:
    """Weighted sum of :func:`layer_style_loss` over the layers of ``target_grams``.

    ``layer_weights`` defaults to equal weights summing to 1.
    """
    if layer_weights is None:
        layer_weights = {name: 1.0 / len(target_grams) for name in target_grams}
    return tf.add_n([layer_weights[name] * layer_style_loss(features[name], target_grams[name])
                     for name in target_grams])


# -- shared by both
def total_variation_loss(image: tf.Tensor) -> tf.Tensor:
    """Mean squared difference between horizontally and vertically neighbouring pixels.

    Penalises high-frequency noise; unlike ``tf.image.total_variation`` (a sum of
    absolute differences) it does not grow with the image size.
    """
    image = tf.convert_to_tensor(image)
    dy = image[..., 1:, :, :] - image[..., :-1, :, :]
    dx = image[..., :, 1:, :] - image[..., :, :-1, :]
    return tf.reduce_mean(tf.square(dy)) + tf.reduce_mean(tf.square(dx))


def relative_error(value: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    """``||value - target||^2 / ||target||^2``: 0 is a perfect match, 1 is as far as zero."""
    return tf.reduce_sum(tf.square(value - target)) / tf.reduce_sum(tf.square(target))
