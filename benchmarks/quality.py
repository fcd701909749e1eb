"""A quality yardstick independent of every method's own loss.

For an output ``O`` of content ``C`` and style ``S``, all resized to one fixed size:

* content error  ``||F(O) - F(C)||^2 / ||F(C)||^2`` at ``block4_conv2``
* style error    mean over ``block1..5_conv1`` of ``||G(O) - G(S)||^2 / ||G(S)||^2``

with VGG19 (max pooling, float32) features ``F`` and Gram matrices ``G``.  Lower is
better for both; 0 is a perfect match.
"""

from __future__ import annotations

import tensorflow as tf

from nst_helpers.images import resize, resize_long_side
from nst_helpers.losses import gram_matrix, relative_error
from nst_helpers.model import STYLE_LAYERS, build_extractor

CONTENT_LAYER = "block4_conv2"
EVAL_SIZE = 512


class Yardstick:
    def __init__(self, content, style, size=EVAL_SIZE):
        self.content = resize_long_side(content, size)
        # Keras' VGG19 pooling ("valid"), as when the figures in RESULTS.md were first measured
        self.extractor = build_extractor([CONTENT_LAYER, *STYLE_LAYERS], "max", pool_padding="valid")
        self.content_target = self.extractor(self.content[None])[CONTENT_LAYER]
        style_features = self.extractor(resize_long_side(style, size)[None])
        self.style_targets = {n: gram_matrix(style_features[n]) for n in STYLE_LAYERS}
        self._errors = tf.function(self._errors_tf)

    def _errors_tf(self, image):
        features = self.extractor(image)
        content = relative_error(features[CONTENT_LAYER], self.content_target)
        style = tf.add_n([relative_error(gram_matrix(features[n]), t) for n, t in self.style_targets.items()])
        return content, style / len(self.style_targets)

    def __call__(self, image):
        """(content error, style error) of a ``[0, 1]`` image of any size."""
        image = resize(image, *self.content.shape[:2])
        content, style = self._errors(tf.constant(image[None]))
        return float(content), float(style)
