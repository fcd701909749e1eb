"""The seed tutorial's loop, re-implemented faithfully, as the benchmark's reference.

TensorFlow's 2018 "Neural Style Transfer with Eager Execution" tutorial: the image is
a variable in caffe space (BGR, ImageNet means removed), VGG19 with max pooling,
content ``block5_conv2`` (weight 1e3), style ``block1..5_conv1`` (weight 1e-2, equal
layer weights), Gram matrices divided by the number of positions, mean squared
errors, an *eager* ``tf.GradientTape`` step, Adam(lr 5.0, beta1 0.99, epsilon 0.1),
clipping to the valid pixel range after each step, and the best image kept.

Only VGG19 itself comes from nst_helpers (the same weights every method uses).
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from nst_helpers.images import IMAGENET_MEAN_BGR, deprocess, preprocess
from nst_helpers.model import build_vgg19

CONTENT_LAYERS = ["block5_conv2"]
STYLE_LAYERS = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"]
CONTENT_WEIGHT, STYLE_WEIGHT = 1e3, 1e-2


def _model():
    vgg = build_vgg19("max", "block5_conv2")
    outputs = [vgg.get_layer(name).output for name in STYLE_LAYERS + CONTENT_LAYERS]
    return tf.keras.Model(vgg.input, outputs)


def _gram(tensor):
    channels = int(tensor.shape[-1])
    a = tf.reshape(tensor, [-1, channels])
    n = tf.shape(a)[0]
    return tf.matmul(a, a, transpose_a=True) / tf.cast(n, tf.float32)


def run_reference(content, style, iterations=1000, callback=None, compiled=False):
    """Run the seed loop on ``[0, 1]`` images.

    Returns ``(best image in [0, 1], seconds of each iteration)``.  ``compiled=True``
    wraps the *same* step in ``tf.function``: it only serves to compute the
    1000-iteration artefact faster; the reference's speed is always the eager one.
    ``callback(i, loss, best_image)`` runs after each iteration (outside the timing).
    """
    model = _model()
    style_outputs = model(preprocess(style))
    content_outputs = model(preprocess(content))
    gram_targets = [_gram(f[0]) for f in style_outputs[: len(STYLE_LAYERS)]]
    content_targets = [f[0] for f in content_outputs[len(STYLE_LAYERS):]]
    image = tf.Variable(preprocess(content), dtype=tf.float32)
    opt = tf.keras.optimizers.Adam(learning_rate=5.0, beta_1=0.99, epsilon=1e-1)
    min_vals, max_vals = -IMAGENET_MEAN_BGR, 255.0 - IMAGENET_MEAN_BGR

    def step():
        with tf.GradientTape() as tape:
            outputs = model(image)
            style_score = tf.add_n([tf.reduce_mean(tf.square(_gram(o[0]) - t))
                                    for o, t in zip(outputs[: len(STYLE_LAYERS)], gram_targets)])
            style_score /= len(STYLE_LAYERS)
            content_score = tf.add_n([tf.reduce_mean(tf.square(o[0] - t))
                                      for o, t in zip(outputs[len(STYLE_LAYERS):], content_targets)])
            content_score /= len(CONTENT_LAYERS)
            loss = STYLE_WEIGHT * style_score + CONTENT_WEIGHT * content_score
        grads = tape.gradient(loss, image)
        opt.apply_gradients([(grads, image)])
        image.assign(tf.clip_by_value(image, min_vals, max_vals))
        return loss

    if compiled:
        step = tf.function(step)
    best_loss, best_img = float("inf"), None
    step_seconds = []
    for i in range(iterations):
        start = time.perf_counter()
        loss = float(step())
        if loss < best_loss:  # as in the tutorial: the loss before the update, the image after it
            best_loss, best_img = loss, deprocess(image.numpy())
        step_seconds.append(time.perf_counter() - start)
        if callback is not None:
            callback(i, loss, best_img)
    return best_img, np.array(step_seconds)
