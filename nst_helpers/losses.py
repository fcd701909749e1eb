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

__all__ = ["gram_matrix", "guided_gram", "content_loss", "layer_style_loss", "style_loss",
           "total_variation_loss", "relative_error"]


def gram_matrix(features: tf.Tensor) -> tf.Tensor:
    """Channel correlations averaged over positions: :math:`G = F^T F / M_l`.

    Departure from Gatys et al.: their Gram matrix is the plain sum :math:`F^T F`, with the
    size normalisation :math:`1 / (4 N_l^2 M_l^2)` in the loss instead; dividing here by the
    number of positions :math:`M_l` makes Gram matrices of different image sizes comparable.
    Derived in notebook 05, §2 ("The Gram matrix").

    Args:
        features: ``(h, w, c)`` or ``(b, h, w, c)`` features of one layer.

    Returns:
        ``(c, c)``, or ``(b, c, c)`` for a batch.
    """
    features = tf.convert_to_tensor(features)
    positions = tf.cast(tf.shape(features)[-3] * tf.shape(features)[-2], features.dtype)
    if features.shape.rank == 3:
        return tf.einsum("ijc,ijd->cd", features, features) / positions
    return tf.einsum("bijc,bijd->bcd", features, features) / positions


def guided_gram(features: tf.Tensor, sqrt_mask: tf.Tensor | None = None, scale: float = 1.0) -> tf.Tensor:
    r"""The Gram matrix of ``features``, or with ``sqrt_mask`` (``\sqrt{m}``, broadcastable to
    ``features``) that of the region ``m``: :math:`\sum_p m_p F_p F_p^\top / \sum_p m_p`, as
    :func:`gram_matrix` of :math:`F \circ \sqrt{m}` times ``scale`` (positions / :math:`\sum_p m_p`).

    Not in Gatys et al. 2015: guided Gram matrices come from their later paper on controlling
    perceptual factors (Gatys et al. 2017).  Derived in notebook 08, §3 ("A style per region:
    masked (guided) Gram matrices").

    Args:
        features: ``(h, w, c)`` or ``(b, h, w, c)`` features of one layer.
        sqrt_mask: the square root of the region's mask at this layer, or None for the whole image.
        scale: positions / mask sum, so the mean over positions becomes the mean over the region.
    """
    if sqrt_mask is None:
        return gram_matrix(features)
    return gram_matrix(features * sqrt_mask) * scale


# -- the classic exercise's mean-squared losses (nst.NST); stylize uses relative_error instead
def content_loss(features: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    r"""Mean squared difference between generated and content features.

    Departure from Gatys et al.: a mean where they take :math:`\frac12 \sum (F - P)^2`, so
    the value does not grow with the image size.  Derived in notebook 04, §2 ("The content loss").

    Args:
        features: the generated image's features at one layer.
        target: the content image's features at the same layer (same shape).
    """
    return tf.reduce_mean(tf.square(features - target))


def layer_style_loss(features: tf.Tensor, target_gram: tf.Tensor) -> tf.Tensor:
    r"""Mean squared difference between the Gram matrix of ``features`` and the target Gram.

    With :func:`gram_matrix`'s division by :math:`M_l` this is
    :math:`\sum (G - A)^2 / (N_l^2 M_l^2)`: 4 times Gatys et al.'s :math:`E_l`.  Derived in
    notebook 05, §4 ("The style loss of one layer").

    Args:
        features: the generated image's features at one layer.
        target_gram: the style image's :func:`gram_matrix` at that layer.
    """
    gram = gram_matrix(features)
    return tf.reduce_mean(tf.square(gram - tf.reshape(target_gram, tf.shape(gram))))


def style_loss(features: dict[str, tf.Tensor], target_grams: dict[str, tf.Tensor],
               layer_weights: dict[str, float] | None = None) -> tf.Tensor:
    """Weighted sum of :func:`layer_style_loss` over the layers of ``target_grams``.

    ``layer_weights`` defaults to equal weights summing to 1 (Gatys et al.'s :math:`w_l = 1/5`
    for five layers).  Derived in notebook 05, §5 ("The style loss over layers").

    Args:
        features: ``{layer: features}`` of the generated image (at least the target layers).
        target_grams: ``{layer: Gram matrix}`` of the style image.
        layer_weights: ``{layer: weight}``; None for equal weights.
    """
    if layer_weights is None:
        layer_weights = {name: 1.0 / len(target_grams) for name in target_grams}
    return tf.add_n([layer_weights[name] * layer_style_loss(features[name], target_grams[name])
                     for name in target_grams])


# -- shared by both
def total_variation_loss(image: tf.Tensor) -> tf.Tensor:
    """Mean squared difference between horizontally and vertically neighbouring pixels.

    Penalises high-frequency noise; unlike ``tf.image.total_variation`` (a sum of
    absolute differences) it does not grow with the image size.  Not part of Gatys et al.'s
    loss (a smoothness prior added by later work).  Derived in notebook 06, §10 ("Total
    variation: a smoothness prior").

    Args:
        image: ``(h, w, 3)`` or ``(b, h, w, 3)`` pixels.
    """
    image = tf.convert_to_tensor(image)
    dy = image[..., 1:, :, :] - image[..., :-1, :, :]
    dx = image[..., :, 1:, :] - image[..., :, :-1, :]
    return tf.reduce_mean(tf.square(dy)) + tf.reduce_mean(tf.square(dx))


def relative_error(value: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    """``||value - target||^2 / ||target||^2``: 0 is a perfect match, 1 is as far as zero.

    Departure from Gatys et al.: their squared errors are scaled by fixed factors (1/2, and
    :math:`1 / (4 N_l^2 M_l^2)` for style); dividing by the target's energy instead starts every
    term near 1, so one set of weights suits every layer, image and size.  Derived in
    notebook 04, §2 ("The content loss").

    Args:
        value: the generated image's representation (features or a Gram matrix).
        target: the target's representation, same shape.
    """
    return tf.reduce_sum(tf.square(value - target)) / tf.reduce_sum(tf.square(target))
