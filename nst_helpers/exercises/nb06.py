"""Checks for notebook 06's exercises (the optimisation loop).

Each check builds its own small seeded problem, so an exercise cell needs nothing from the cells
above it: a toy loss whose momentum makes it rise and fall (exercise 1), random images (exercise 2),
Keras' own Adam on a few gradients (exercise 3) and a made-up sequence of losses (exercise 4).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .core import NotDone

__all__ = ["check_keep_best_image", "check_tv_l1_sum", "check_keras_first_step", "check_stop_below_two"]

_SHAPE = (1, 4, 5, 3)  # exercise 1's "image": a batch of one, as in the notebook's loop


# --------------------------------------------------------------------------- exercise 1
def _bouncing_problem(seed: int, momentum: float):
    """``(step, image)``: ``step(image)`` returns the loss of ``image``, then moves it (heavy-ball)."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    target = tf.constant(rng.normal(size=_SHAPE), tf.float32)
    image = tf.Variable(rng.normal(size=_SHAPE).astype(np.float32))
    velocity = tf.Variable(tf.zeros(_SHAPE))

    def step(x):
        loss = tf.reduce_mean(tf.square(x - target))
        velocity.assign(momentum * velocity + 2.0 * (x - target))  # momentum overshoots, as Adam's does
        x.assign(x - 0.3 * velocity)
        return loss

    return step, image


def _reference_run(seed: int, momentum: float, iterations: int):
    """``(images before each step, their losses, the image after the last step)``."""
    step, image = _bouncing_problem(seed, momentum)
    before, losses = [], []
    for _ in range(iterations):
        before.append(np.array(image.numpy(), dtype=np.float64))
        losses.append(float(step(image)))
    return before, losses, np.array(image.numpy(), dtype=np.float64)


def _as_image(value: object) -> np.ndarray:
    try:
        array = np.array(value, dtype=np.float64)  # a copy: a tf.Variable gives its value now
    except (TypeError, ValueError):
        raise NotDone("the best image must be an array: image.numpy() gives one") from None
    if array.size != int(np.prod(_SHAPE)):
        raise NotDone("the best image must have the image's shape: return a copy of image.numpy()")
    return array.reshape(_SHAPE)


def check_keep_best_image(keep_best: Callable) -> str:
    """Exercise 1 (notebook 06): ``keep_best(step, image, iterations)`` returns the best image and its loss.

    ``step(image)`` returns the loss of ``image`` as it was, then changes it; the answer must be the
    image whose loss was lowest (copied before its step), not the last one, nor the one a step later.

    Args:
        keep_best: the learner's function of ``(step, image, iterations)``, returning ``(image, loss)``.
    """
    for seed, momentum, iterations in ((0, 0.9, 12), (1, 0.0, 6)):  # rises and falls; falls throughout
        before, losses, final = _reference_run(seed, momentum, iterations)
        step, image = _bouncing_problem(seed, momentum)
        answer = keep_best(step, image, iterations)
        if not isinstance(answer, (tuple, list)) or len(answer) != 2 or any(a is None for a in answer):
            raise NotDone("keep_best must return a pair: (the best image, its loss)")
        best_image, best_loss = _as_image(answer[0]), answer[1]
        best = int(np.argmin(losses))
        try:
            best_loss = float(best_loss)
        except (TypeError, ValueError):
            raise NotDone("the second value must be the best loss, a number") from None
        lowest = np.isclose(best_loss, losses[best], rtol=1e-5)
        if not lowest and np.isclose(best_loss, losses[-1], rtol=1e-5):
            raise NotDone("that is the last loss, not the lowest: keep the best loss so far (and its image) "
                          "as the loop goes")
        if not lowest:
            raise NotDone("the loss returned is not the lowest loss step() returned: compare each loss with "
                          "the best so far and keep the lower")
        if np.allclose(best_image, before[best], rtol=1e-6, atol=1e-7):
            continue
        after = before[best + 1] if best + 1 < iterations else final
        if np.allclose(best_image, final, rtol=1e-6, atol=1e-7) and best + 1 < iterations:
            raise NotDone("that is the image after the last step, not the best one: copy image.numpy() "
                          "before each step and keep the copy whose loss was the lowest")
        if np.allclose(best_image, after, rtol=1e-6, atol=1e-7):
            raise NotDone("one step late: that image was made by the step that measured the lowest loss, and "
                          "its own loss was never measured. Copy image.numpy() before calling step(image)")
        raise NotDone("the image returned is not the one whose loss was the lowest: copy image.numpy() "
                      "before each step and keep that copy when the loss is a new best")
    return "the copy made before the best step, with its loss: the best image, not the last"


# --------------------------------------------------------------------------- exercise 2
def _tv_l1(x: np.ndarray) -> float:
    return float(np.abs(np.diff(x, axis=0)).sum() + np.abs(np.diff(x, axis=1)).sum())


def check_tv_l1_sum(tv_l1: Callable) -> str:
    """Exercise 2 (notebook 06): ``tv_l1(x)``, the total variation of ``tf.image.total_variation``.

    The sum over an ``(h, w, 3)`` image of the absolute differences between vertical and horizontal
    neighbours; checked on random images that are not square and on a flat one.

    Args:
        tv_l1: the learner's function of one ``(h, w, 3)`` array, returning a number.
    """
    import tensorflow as tf

    rng = np.random.default_rng(6)
    images = [rng.uniform(0, 1, (5, 8, 3)), rng.uniform(0, 1, (9, 4, 3)), np.full((4, 4, 3), 0.5)]
    for x in images:
        x = x.astype(np.float32)
        value = tv_l1(x.copy())
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise NotDone("tv_l1 must return a number (the sum), not None or an array") from None
        expected = _tv_l1(x.astype(np.float64))
        assert np.isclose(expected, float(tf.image.total_variation(tf.constant(x))), rtol=1e-4)
        if np.isclose(value, expected, rtol=1e-4, atol=1e-6):
            continue
        dy, dx = np.diff(x, axis=0), np.diff(x, axis=1)
        if np.isclose(value, float((dy ** 2).sum() + (dx ** 2).sum()), rtol=1e-4):
            raise NotDone("those are squared differences: take their absolute values instead (np.abs)")
        if np.isclose(value, float(np.abs(dy).mean() + np.abs(dx).mean()), rtol=1e-4):
            raise NotDone("those are means: tf.image.total_variation sums the absolute differences")
        if any(np.isclose(value, float(np.abs(d).sum()), rtol=1e-4) for d in (dy, dx)):
            raise NotDone("only one direction: add the vertical (axis 0) and the horizontal (axis 1) sums")
        raise NotDone("tv_l1(x) should be the sum of |x[1:] - x[:-1]| plus the sum of |x[:, 1:] - x[:, :-1]|")
    return "the sum of absolute neighbour differences, as tf.image.total_variation computes it"


# --------------------------------------------------------------------------- exercise 3
_GRADIENTS = np.array([-600.0, -5.0, -0.3, -0.01, -3e-4, 0.0, 3e-4, 0.01, 0.3, 5.0, 600.0], dtype=np.float32)
# (learning_rate, beta_1, beta_2, epsilon): the tutorial's, the rescaled port's, and another
_SETTINGS = ((5.0, 0.99, 0.999, 0.1), (0.02, 0.99, 0.999, 0.1), (0.1, 0.9, 0.99, 1e-3))


def _keras_first_step(learning_rate: float, beta_1: float, beta_2: float, epsilon: float) -> np.ndarray:
    """What ``keras.optimizers.Adam`` subtracts from each value of a variable on its first step."""
    import keras
    import tensorflow as tf

    variable = tf.Variable(np.zeros_like(_GRADIENTS))
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                                      epsilon=epsilon)
    optimizer.apply_gradients([(tf.constant(_GRADIENTS), variable)])
    return -variable.numpy().astype(np.float64)


def check_keras_first_step(keras_first_step: Callable) -> str:
    """Exercise 3 (notebook 06): ``keras_first_step(g, learning_rate, beta_1, beta_2, epsilon)``.

    The amount ``keras.optimizers.Adam`` subtracts from a value whose gradient is ``g`` on its first
    step, ``learning_rate * g / (|g| + epsilon / sqrt(1 - beta_2))``; compared with Keras itself for
    gradients from ``3e-4`` to ``600`` under three settings.

    Args:
        keras_first_step: the learner's function; ``g`` is a NumPy array, the settings are floats.
    """
    for learning_rate, beta_1, beta_2, epsilon in _SETTINGS:
        keras_step = _keras_first_step(learning_rate, beta_1, beta_2, epsilon)
        try:
            value = np.asarray(keras_first_step(_GRADIENTS.astype(np.float64), learning_rate, beta_1,
                                                beta_2, epsilon), dtype=np.float64)
        except (TypeError, ValueError):
            raise NotDone("keras_first_step must return an array shaped like g (a step per value)") from None
        if value.shape != _GRADIENTS.shape:
            raise NotDone("keras_first_step must return one step per gradient value, shaped like g")
        if np.allclose(value, keras_step, rtol=2e-3, atol=1e-9):
            continue
        if np.allclose(value, -keras_step, rtol=2e-3, atol=1e-9):
            raise NotDone("wrong sign: return the amount Keras subtracts, positive where g is positive")
        paper = learning_rate * _GRADIENTS / (np.abs(_GRADIENTS) + epsilon)
        if np.allclose(value, paper, rtol=2e-3, atol=1e-9):
            raise NotDone("that is section 3's first step; Keras' is smaller for small gradients. Write "
                          "m_1 = (1 - beta_1) g and v_1 = (1 - beta_2) g^2, then alpha_1 m_1 / (sqrt(v_1) + "
                          "epsilon) with alpha_1 = learning_rate sqrt(1 - beta_2) / (1 - beta_1)")
        raise NotDone("not Keras' first step: with m_1 = (1 - beta_1) g and v_1 = (1 - beta_2) g^2, compute "
                      "alpha_1 m_1 / (sqrt(v_1) + epsilon), alpha_1 = learning_rate sqrt(1 - beta_2) / "
                      "(1 - beta_1), and simplify")
    return ("learning_rate g / (|g| + epsilon / sqrt(1 - beta_2)): on its first step Keras' epsilon "
            "acts 1 / sqrt(1 - beta_2) times larger")


# --------------------------------------------------------------------------- exercise 4
_TOTALS = ((3.1, 2.4, 2.0, 2.05, 1.97, 2.2, 1.5), (1.8, 1.6), (2.5, 2.3, 2.1))


def check_stop_below_two(good_enough: Callable) -> str:
    """Exercise 4 (notebook 06): a ``stylize`` callback that stops once the total loss is below 2.0.

    Fed made-up iterations, it must return a false value while the current total is 2.0 or more and
    ``True`` at the first iteration whose total is below 2.0.

    Args:
        good_enough: the learner's callback, a function of one :class:`nst_helpers.optimise.StepInfo`.
    """
    from ..results import StepInfo

    for totals in _TOTALS:
        best = float("inf")
        for iteration, total in enumerate(totals, 1):
            best = min(best, total)
            info = StepInfo(iteration=iteration, stage=0, size=(8, 8), seconds=0.1 * iteration,
                            losses=dict(total=total, content=0.5, style=0.1, tv=0.01), best_loss=best,
                            image=np.zeros((8, 8, 3), np.float32))
            stop = good_enough(info)
            if total < 2.0:
                if not stop:
                    raise NotDone("return True as soon as info.losses['total'] is below 2.0")
                break
            if stop:
                raise NotDone("it stopped while the total loss was still 2.0 or more: compare "
                              "info.losses['total'] < 2.0 (2.0 itself is not below 2.0)")
    return "True at the first iteration whose total loss is below 2.0, and not before"
