"""Neural style transfer as one class, :class:`NST`, method by method.

The class follows a well-known exercise (the one that builds Gatys et al.'s
algorithm task by task, each method with strict input checks and exact error
messages), so code written against that exercise runs unchanged: same names,
signatures, return shapes and messages.  The maths is the package's own:
:func:`nst_helpers.losses.gram_matrix`, :func:`~nst_helpers.losses.layer_style_loss`,
:func:`~nst_helpers.losses.content_loss`, :func:`nst_helpers.model.build_vgg19` and
:func:`nst_helpers.images.preprocess`.  The one exception is the variational cost, which
is the exercise's (``tf.image.total_variation``, see :meth:`NST.variational_cost`).

Conventions of the exercise, kept here:

* the images given to the constructor are ``(h, w, 3)`` arrays with values in
  ``[0, 255]`` (e.g. ``np.uint8``); they are scaled so the long side is 512 px;
* the model takes caffe-preprocessed images (:func:`nst_helpers.images.preprocess`,
  the same as ``keras.applications.vgg19.preprocess_input(image * 255)``);
* costs are unnormalised (means of squares; the variation is a sum), weighted
  ``alpha=1e4``, ``beta=1``, ``var=10``.

Bad input raises ``TypeError`` / ``ValueError`` with the exercise's messages; the
classes raised also derive from :class:`nst_helpers.NSTError`.
"""

from __future__ import annotations

import math
import numbers
import warnings

import keras
import numpy as np
import tensorflow as tf

from .errors import NSTError, OptionError
from .images import fit_long_side, preprocess
from .losses import content_loss, gram_matrix, layer_style_loss
from .model import build_vgg19

__all__ = ["NST", "NSTTypeError"]


class NSTTypeError(NSTError, TypeError):
    """An argument of :class:`NST` has the wrong type or shape (the message says which)."""


def _is_image_array(image) -> bool:
    return isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[-1] == 3


def _is_tensor(value) -> bool:
    return isinstance(value, (tf.Tensor, tf.Variable))


def _is_number(value) -> bool:
    """int or float (NumPy's too), but not bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_float(value) -> bool:
    return isinstance(value, (float, np.floating))


class NST:
    """Neural style transfer (Gatys et al. 2015) with Adam, as one object.

    Example: ``image, cost = NST(style, content).generate_image(iterations=200)``.
    The constructor scales both images, builds the model and computes the targets;
    :meth:`generate_image` then paints the content image in the style of the style image.

    Where it departs from Gatys et al. (arXiv 1508.06576), as the exercise does: Adam on
    the pixels instead of L-BFGS, from the content image instead of white noise; the
    content layer is ``block5_conv2`` (the paper's ``conv4_2``); the costs are plain means
    of squares (no factor 1/2 or 1/(4 N^2 M^2)), and a total-variation
    cost (weight ``var``), which the paper does not have, is added.

    Derived in notebook 11, §2 ("The skeleton: layers, checks and `__init__`"); each
    method in the section of the same name.

    Args:
        style_image: ``(h, w, 3)`` array with values in ``[0, 255]``.
        content_image: ``(h, w, 3)`` array with values in ``[0, 255]``.
        alpha: the weight of the content cost (non-negative).
        beta: the weight of the style cost (non-negative).
        var: the weight of the variational cost (non-negative).

    Raises:
        NSTTypeError: for an argument of the wrong type or shape (a ``TypeError``).
    """

    style_layers = ['block1_conv1', 'block2_conv1', 'block3_conv1', 'block4_conv1', 'block5_conv1']
    content_layer = 'block5_conv2'

    def __init__(self, style_image: np.ndarray, content_image: np.ndarray, alpha: float = 1e4,
                 beta: float = 1, var: float = 10) -> None:
        if not _is_image_array(style_image):
            raise NSTTypeError("style_image must be a numpy.ndarray with shape (h, w, 3)")
        if not _is_image_array(content_image):
            raise NSTTypeError("content_image must be a numpy.ndarray with shape (h, w, 3)")
        for name, value in (("alpha", alpha), ("beta", beta), ("var", var)):
            if not _is_number(value) or not 0 <= value < math.inf:
                raise NSTTypeError(f"{name} must be a non-negative number")
        self.style_image = self.scale_image(style_image)
        self.content_image = self.scale_image(content_image)
        self.alpha = alpha
        self.beta = beta
        self.var = var
        self.load_model()
        self.generate_features()

    @staticmethod
    def scale_image(image: np.ndarray) -> tf.Tensor:
        """``(h, w, 3)`` in [0, 255] -> ``(1, h_new, w_new, 3)`` float32 tensor in [0, 1], long side 512.

        Bicubic resize (``tf.image.resize``), then ``/ 255`` and clipping: bicubic
        interpolation overshoots a little near sharp edges.  Derived in notebook 11, §3
        ("`scale_image`: long side 512 px, values in [0, 1]").
        """
        if not _is_image_array(image):
            raise NSTTypeError("image must be a numpy.ndarray with shape (h, w, 3)")
        h_new, w_new = fit_long_side(image.shape[0], image.shape[1], 512)
        resized = tf.image.resize(tf.cast(image[np.newaxis], tf.float32), (h_new, w_new), method="bicubic")
        return tf.clip_by_value(resized / 255.0, 0.0, 1.0)

    def load_model(self) -> None:
        """VGG19 with average pooling, up to ``block5_conv2``; outputs: style layers, then content layer.

        Input: caffe-preprocessed images (:func:`nst_helpers.images.preprocess`).  Average
        pooling as Gatys et al. suggest for synthesis.  Derived in notebook 11, §4
        ("`load_model`: VGG19 with average pooling, six outputs").
        """
        vgg = build_vgg19(pooling="avg", last_layer=self.content_layer)
        outputs = [vgg.get_layer(name).output for name in self.style_layers]
        outputs.append(vgg.get_layer(self.content_layer).output)
        model = keras.Model(vgg.inputs, outputs, name="nst_vgg19")
        model.trainable = False
        self.model = model

    @staticmethod
    def gram_matrix(input_layer: tf.Tensor) -> tf.Tensor:
        """``(1, h, w, c)`` -> ``(1, c, c)`` Gram matrix divided by ``h * w``.

        Gatys et al.'s ``G = F F^T``, divided by the number of positions.  Derived in
        notebook 11, §5 ("`gram_matrix`: which channels fire together").
        """
        if not _is_tensor(input_layer) or input_layer.shape.rank != 4:
            raise NSTTypeError("input_layer must be a tensor of rank 4")
        return gram_matrix(input_layer)

    def generate_features(self) -> None:
        """Set ``gram_style_features`` (style image) and ``content_feature`` (content image).

        Derived in notebook 11, §6 ("`generate_features`: the targets").
        """
        style_outputs = self.model(preprocess(self.style_image))
        content_outputs = self.model(preprocess(self.content_image))
        self.gram_style_features = [self.gram_matrix(output) for output in style_outputs[:-1]]
        self.content_feature = content_outputs[-1]

    def layer_style_cost(self, style_output: tf.Tensor, gram_target: tf.Tensor) -> tf.Tensor:
        """Mean squared difference between the Gram matrix of ``style_output`` and ``gram_target``.

        Derived in notebook 11, §7 ("`layer_style_cost` and `style_cost`").
        """
        if not _is_tensor(style_output) or style_output.shape.rank != 4:
            raise NSTTypeError("style_output must be a tensor of rank 4")
        c = style_output.shape[-1]
        if not _is_tensor(gram_target) or gram_target.shape != (1, c, c):
            raise NSTTypeError(f"gram_target must be a tensor of shape [1, {c}, {c}]")
        return layer_style_loss(style_output, gram_target)

    def style_cost(self, style_outputs: list) -> tf.Tensor:
        """Layer style costs averaged with equal weights (summing to 1), as Gatys et al.'s :math:`w_l`.

        Derived in notebook 11, §7 ("`layer_style_cost` and `style_cost`").
        """
        length = len(self.style_layers)
        if not isinstance(style_outputs, list) or len(style_outputs) != length:
            raise NSTTypeError(f"style_outputs must be a list with a length of {length}")
        weight = 1.0 / length
        return tf.add_n([weight * self.layer_style_cost(output, target)
                         for output, target in zip(style_outputs, self.gram_style_features)])

    def content_cost(self, content_output: tf.Tensor) -> tf.Tensor:
        """Mean squared difference between ``content_output`` and ``content_feature``.

        Derived in notebook 11, §8 ("`content_cost`").
        """
        shape = self.content_feature.shape
        if not _is_tensor(content_output) or content_output.shape != shape:
            raise NSTTypeError(f"content_output must be a tensor of shape {shape}")
        return content_loss(content_output, self.content_feature)

    @staticmethod
    def variational_cost(generated_image: tf.Tensor) -> tf.Tensor:
        """Total variation of a ``(1, nh, nw, 3)`` image: the sum of absolute neighbour differences.

        This is the exercise's definition (``tf.image.total_variation``), which its
        default weight ``var=10`` is tuned for: about 2e4 for a 512 px photo, against
        a style cost near 1e9.  It is not :func:`nst_helpers.losses.total_variation_loss`,
        the package's size-independent *mean squared* variation (about 2e-3 for the same
        photo), which ``stylize`` weighs against its own normalised losses.  Gatys et al.
        have no such term.  Derived in notebook 11, §9 ("`variational_cost`: total variation").
        """
        if not _is_tensor(generated_image):
            generated_image = tf.convert_to_tensor(generated_image, dtype=tf.float32)
        return tf.reduce_sum(tf.image.total_variation(generated_image))

    def _check_generated(self, generated_image):
        shape = self.content_image.shape
        if not _is_tensor(generated_image) or generated_image.shape != shape:
            raise NSTTypeError(f"generated_image must be a tensor of shape {shape}")

    def total_cost(self, generated_image: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
        """``(J, J_content, J_style, J_var)`` with ``J = alpha * J_content + beta * J_style + var * J_var``.

        Derived in notebook 11, §10 ("`total_cost` and `compute_grads`").
        """
        self._check_generated(generated_image)
        outputs = self.model(preprocess(generated_image))
        J_content = self.content_cost(outputs[-1])
        J_style = self.style_cost(list(outputs[:-1]))
        J_var = self.variational_cost(generated_image)
        J = self.alpha * J_content + self.beta * J_style + self.var * J_var
        return J, J_content, J_style, J_var

    def compute_grads(self, generated_image: tf.Tensor) -> tuple[tf.Tensor, ...]:
        """``(gradients, J_total, J_content, J_style, J_var)`` for ``generated_image``.

        Derived in notebook 11, §10 ("`total_cost` and `compute_grads`").
        """
        self._check_generated(generated_image)
        with tf.GradientTape() as tape:
            tape.watch(generated_image)
            J_total, J_content, J_style, J_var = self.total_cost(generated_image)
        return tape.gradient(J_total, generated_image), J_total, J_content, J_style, J_var

    def generate_image(self, iterations: int = 1000, step: int | None = None, lr: float = 0.01,
                       beta1: float = 0.9, beta2: float = 0.99) -> tuple[np.ndarray, float]:
        """Adam on the pixels, from the content image: ``(best image (h, w, 3) in [0, 1], best cost)``.

        Iteration ``i`` is the image after ``i`` Adam steps (0: the content image),
        so ``iterations`` steps give ``iterations + 1`` costs, ``0 ... iterations``.
        With ``step``, the costs of every ``step``-th iteration and of the last one
        are printed.  Pixels are clipped to [0, 1] after each step.  The step is
        compiled with ``tf.function``; Ctrl-C ends the run early and still returns the
        best image so far.  Gatys et al. use L-BFGS from white noise instead.

        Derived in notebook 11, §11 ("`generate_image`: Adam, starting from the content image").
        """
        if not _is_int(iterations):
            raise NSTTypeError("iterations must be an integer")
        if iterations <= 0:
            raise OptionError("iterations must be positive")
        if step is not None:
            if not _is_int(step):
                raise NSTTypeError("step must be an integer")
            if step <= 0 or step >= iterations:
                raise OptionError("step must be positive and less than iterations")
        if not _is_number(lr):
            raise NSTTypeError("lr must be a number")
        if not 0 < lr < math.inf:
            raise OptionError("lr must be positive")
        for name, value in (("beta1", beta1), ("beta2", beta2)):
            if not _is_float(value):
                raise NSTTypeError(f"{name} must be a float")
            if not 0 <= value <= 1:
                raise OptionError(f"{name} must be in the range [0, 1]")

        # Compiled afresh for each run: a trace bakes in alpha, beta, var and the targets,
        # which a caller may have changed since the last run (e.g. ``nst.var = 0``).
        compute_grads = tf.function(self.compute_grads)
        generated_image = tf.Variable(self.content_image)
        optimizer = keras.optimizers.Adam(learning_rate=float(lr), beta_1=float(beta1), beta_2=float(beta2))
        best_cost, best_image, i = math.inf, self.content_image[0].numpy(), 0
        try:
            for i in range(iterations + 1):
                grads, J_total, J_content, J_style, J_var = compute_grads(generated_image)
                cost = float(J_total)
                if cost < best_cost:
                    best_cost, best_image = cost, generated_image[0].numpy()
                if step is not None and (i % step == 0 or i == iterations):
                    print(f"Cost at iteration {i}: {J_total.numpy()}, content {J_content.numpy()}, "
                          f"style {J_style.numpy()}, var {J_var.numpy()}")
                if i < iterations:
                    optimizer.apply_gradients([(grads, generated_image)])
                    generated_image.assign(tf.clip_by_value(generated_image, 0.0, 1.0))
        except KeyboardInterrupt:  # Ctrl-C / notebook "stop": keep what we have
            warnings.warn(f"interrupted at iteration {i}; returning the best image so far", RuntimeWarning,
                          stacklevel=2)
        return np.clip(best_image, 0.0, 1.0), best_cost
