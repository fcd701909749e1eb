"""The optimisation loop: one :func:`stylize` entry point and the pieces behind it.

* :class:`~nst_helpers.settings.StyleSettings` checks every option once;
  ``result.settings`` is the validated object.
* :class:`StyleObjective` holds the targets and a compiled (``tf.function``) loss-and-gradient
  step for one image size: the weighted sum of the terms of :mod:`nst_helpers.objective`.
* :func:`run_adam` and :func:`run_lbfgs` optimise the pixels, keep the best image seen, report
  progress through a callback and stop cleanly on Ctrl-C or a non-finite loss (``result.stopped``,
  whose ``.reason`` is a :class:`StopReason`; the result types live in :mod:`nst_helpers.settings`).
* :func:`stylize` chains them over one or more sizes (coarse to fine).

Departures from Gatys et al.: every term is a *relative* error, ``||F - P||^2 / ||P||^2``
for content features and ``||G - A||^2 / ||A||^2`` for each style Gram, so each starts near 1
whatever the layer, the images or the resolution (the weights need no retuning when the size
changes); a total-variation term (a mean over pixels) is added; Adam is offered beside their
L-BFGS; the pixels stay in ``[0, 1]``; large sizes are painted coarse to fine; the default start is
the photo recoloured to the painting's colours, plus colour blobs and pixel noise (``init="palette"``),
and the default is 20 iterations (theirs: white noise, run to convergence).
"""

from __future__ import annotations

import inspect
import math
import time
import warnings
from dataclasses import fields
from typing import Callable

import numpy as np
import tensorflow as tf

from .colour import blend_color_stats, recolor
from .controls import prepare_colour, prepare_masks, resize_mask, wrap_callback
from .errors import OptionError
from .hardware import warn_slow_precision
from .images import fit_long_side, load_image, resize, resize_long_side, to_float_image
from .memory import check_memory
from .model import CONTENT_LAYERS, STYLE_LAYERS, build_extractor, check_layers, feature_shapes, weights_source
from .objective import content_term, redraw, style_term, variation_term
from .results import StepInfo, Stopped, StopReason, StyleResult
from .schedule import Progress, TimePlan, check_budget
from .settings import (
    INITS,
    StyleSettings,
    auto_stages,
    check_weight,
    normalised_weights,
)
from .tracking import Tracker, _Flat, _Stop, _TimeUp

__all__ = ["StyleObjective", "StyleResult", "StepInfo", "StopReason", "Stopped", "stylize", "run_adam",
           "run_lbfgs", "make_init", "auto_stages", "ADAM_SEED_LR_RESCALED", "ADAM_DEFAULTS", "DEFAULTS",
           "OPTIMIZERS", "SW_REDRAW_EVERY"]  # the result types and auto_stages: defined in settings

DEFAULTS = {name: StyleSettings.default(name) for name in (
    "size", "iterations", "optimizer", "content_weight", "style_weight", "tv_weight", "init", "pooling",
    "precision", "seed")}  # derived from StyleSettings, which is where defaults are written
# The TF tutorial's Adam with only its learning rate moved to [0, 1] pixels (5 / 255 ~ 0.02); its
# beta_1 and epsilon are kept, although epsilon 0.1 belonged to 0-255 caffe pixels and an
# unnormalised loss.  A mis-port on purpose: notebook 06 shows it crawling, then runs the recipe.
ADAM_SEED_LR_RESCALED = dict(learning_rate=0.02, beta_1=0.99, epsilon=0.1)
# stylize's Adam: the seed's step size and momentum, but epsilon 1e-8.  Our relative-error
# loss has gradients around 1e-4 per pixel, far below the seed's epsilon of 0.1, which
# then shrinks every step ~1000-fold (notebook 06 shows it); 1e-8 lets Adam take its
# intended ~learning_rate steps.
ADAM_DEFAULTS = dict(ADAM_SEED_LR_RESCALED, epsilon=1e-8)


class StyleObjective:
    """Targets and the compiled loss for one content size: the sum of three weighted terms
    (:mod:`nst_helpers.objective`): content, style and total variation.

    ``styles`` is a list of ``[0, 1]`` images blended with ``style_weights`` (their Gram
    matrices are averaged with those weights).  With ``style_masks`` (one ``(h, w)``
    mask per style) each style applies only in its region instead, through masked
    (guided) Gram matrices, and ``style_weights`` multiplies each region's term.
    ``style_loss`` chooses the style representation (:mod:`nst_helpers.distributions`).
    """

    def __init__(self, content, styles, *, style_weights=None, content_layers=CONTENT_LAYERS,
                 style_layers=STYLE_LAYERS, style_layer_weights=None, content_weight=1.0,
                 style_weight=10.0, tv_weight=1.0, pooling="max", precision="float32", style_masks=None,
                 style_loss="gram", sw_directions=32, pool_padding="same", seed=0, style_blend=None):
        if style_blend is not None:
            raise OptionError("style_blend= is the old name of style_weights=; use style_weights=")
        self.content = to_float_image(content, name="content")
        styles = [to_float_image(s, name="style")
                  for s in (styles if isinstance(styles, (list, tuple)) else [styles])]
        self.content_layers = check_layers(content_layers)
        self.style_layers = check_layers(style_layers)
        self.style_layer_weights = normalised_weights(style_layer_weights, self.style_layers,
                                                      "style_layer_weights")
        blend = normalised_weights(style_weights, range(len(styles)), "style_weights")
        self.weights = {name: check_weight(f"{name}_weight", value) for name, value in
                        dict(content=content_weight, style=style_weight, tv=tv_weight).items()}
        self.extractor = build_extractor(self.content_layers + self.style_layers, pooling, precision,
                                         pool_padding)
        style_features = [self.extractor(style[None]) for style in styles]
        content = content_term(self.extractor(self.content[None]), self.content_layers,
                               self.weights["content"])
        shapes = feature_shapes(*self.content.shape[:2], self.style_layers, pool_padding)
        positions = {name: shapes[name][0] * shapes[name][1] for name in self.style_layers}
        options = dict(loss=style_loss, positions=positions, directions=sw_directions,
                       pool_padding=pool_padding)
        if style_masks is None:
            style = style_term(style_features, self.style_layer_weights, self.weights["style"],
                               blend=blend.values(), **options)
            self.style_shares = list(blend.values())  # each style's share of the picture (init="palette")
        else:
            masks = [resize_mask(m, *self.content.shape[:2]) for m in style_masks]
            self.style_shares = [float(np.mean(m)) for m in masks]  # masked: each region's area
            if len(masks) != len(style_features):
                raise OptionError(f"style_masks needs one mask per style ({len(style_features)}), "
                                  f"got {len(masks)}")
            multipliers = [1.0] * len(masks) if style_weights is None else [float(m) for m in style_weights]
            if len(multipliers) != len(masks) or any(not (m >= 0 and math.isfinite(m)) for m in multipliers):
                raise OptionError(f"style_weights with style_masks need {len(masks)} numbers >= 0, "
                                  f"got {multipliers}")
            style = style_term(style_features, self.style_layer_weights, self.weights["style"], masks=masks,
                               multipliers=multipliers, **options)
        self.content_targets = {t.layer: t.value for t in content.targets}
        self.style_targets = {t.layer: t.value for t in style.targets}
        self.style_masks, self.style_loss = style_masks, style_loss
        self.loss_terms = {term.name: term for term in (content, style, variation_term(self.weights["tv"]))}
        self.redraw(seed)
        shape = (1, *self.content.shape)
        self.value_and_grad = tf.function(self._value_and_grad, input_signature=[
            tf.TensorSpec(shape, tf.float32)], jit_compile=False)

    def redraw(self, seed) -> None:
        """New random directions for ``style_loss="sw"`` (seeded: the same ``seed`` draws the same ones)."""
        redraw(self.loss_terms["style"], np.random.default_rng(seed))

    def terms(self, image):
        """Loss terms (tensors) for a batch-of-one image in ``[0, 1]``: total, content, style, tv."""
        features = self.extractor(image)
        values = {name: term.value(features, image) for name, term in self.loss_terms.items()}
        total = None
        for name, term in self.loss_terms.items():
            weighted = term.weight * values[name]
            total = weighted if total is None else total + weighted
        return dict(total=total, **values)

    def _value_and_grad(self, image):
        with tf.GradientTape() as tape:
            tape.watch(image)
            terms = self.terms(image)
        return terms, tape.gradient(terms["total"], image)


def run_adam(objective: StyleObjective, init: np.ndarray, iterations: int, tracker: Tracker, *,
             learning_rate: float = ADAM_DEFAULTS["learning_rate"], beta_1: float = ADAM_DEFAULTS["beta_1"],
             beta_2: float = 0.999, epsilon: float = ADAM_DEFAULTS["epsilon"]) -> None:
    r"""Adam on the pixels, clipped to ``[0, 1]`` after each step (compiled update).

    Departure from Gatys et al., who used L-BFGS.  Derived in notebook 06, §3 ("One Adam step,
    written out") and §6 ("Why the tutorial's Adam crawls here: $\epsilon$ and the scale of the
    loss").

    Args:
        objective: gives the loss terms and their gradient (``value_and_grad``).
        init: the ``(h, w, 3)`` start image in ``[0, 1]``.
        iterations: the number of steps.
        tracker: keeps the best image and the history, calls the callback, may stop the run.
        learning_rate, beta_1, beta_2, epsilon: Adam's settings (see :data:`ADAM_DEFAULTS`).
    """
    image = tf.Variable(init[None], dtype=tf.float32)
    m = tf.Variable(tf.zeros_like(image))
    v = tf.Variable(tf.zeros_like(image))
    step = tf.Variable(0.0)

    @tf.function
    def adam_step():
        before = tf.identity(image)
        terms, grads = objective.value_and_grad(image.read_value())
        step.assign_add(1.0)
        m.assign(beta_1 * m + (1 - beta_1) * grads)
        v.assign(beta_2 * v + (1 - beta_2) * tf.square(grads))
        m_hat = m / (1 - tf.pow(beta_1, step))
        v_hat = v / (1 - tf.pow(beta_2, step))
        image.assign(tf.clip_by_value(image - learning_rate * m_hat / (tf.sqrt(v_hat) + epsilon), 0.0, 1.0))
        return before, terms

    for _ in range(iterations):
        evaluated_image, terms = adam_step()  # terms belong to the image before the update
        losses = tracker.evaluated(evaluated_image.numpy(), terms)
        tracker.iterated(evaluated_image.numpy(), losses)


def run_lbfgs(objective: StyleObjective, init: np.ndarray, iterations: int, tracker: Tracker, *,
              history_size: int = 10) -> None:
    """SciPy's L-BFGS-B with pixel bounds ``[0, 1]`` (Gatys et al.'s optimiser; the bounds are ours).

    Derived in notebook 06, §8 ("L-BFGS, the optimiser Gatys et al. used").

    Args:
        objective, init, iterations, tracker: as for :func:`run_adam`.
        history_size: the number of past steps L-BFGS remembers (SciPy's ``maxcor``).
    """
    from scipy.optimize import Bounds, minimize

    shape = (1, *init.shape)
    last = {}

    def fun(x):
        image = x.astype(np.float32).reshape(shape)
        terms, grads = objective.value_and_grad(tf.constant(image))
        last["losses"] = tracker.evaluated(image, terms)
        last["image"] = image
        return last["losses"]["total"], grads.numpy().astype(np.float64).ravel()

    def callback(x):
        tracker.iterated(x.astype(np.float32).reshape(shape), last["losses"])

    n = int(np.prod(shape))
    minimize(fun, init.astype(np.float64).ravel(), jac=True, method="L-BFGS-B",
             bounds=Bounds(np.zeros(n), np.ones(n)), callback=callback,
             options=dict(maxiter=iterations, maxfun=iterations * 2 + 10, maxcor=history_size,
                          ftol=0.0, gtol=0.0))


OPTIMIZERS = {"adam": run_adam, "lbfgs": run_lbfgs}


# init="average": the photo and the painting averaged, plus uniform noise in [-AVERAGE_NOISE,
# AVERAGE_NOISE], clipped (the Hvass-Labs tutorial's exercise; notebook 07, §4 compares it).
AVERAGE_NOISE = 0.2
# init="palette": the photo recoloured to the painting's colours, plus colour blobs (uniform in
# [-PALETTE_BLOBS, PALETTE_BLOBS] on a grid of PALETTE_BLOB_PX-pixel cells, smoothly resized) and
# pixel noise (uniform in [-PALETTE_NOISE, PALETTE_NOISE]), clipped.  Recoloured alone, flat
# regions of the photo stay flat bands of the painting's average colour for dozens of iterations;
# the pixel noise starts strokes everywhere at once, and the blobs give neighbouring strokes
# different colours, as the painting has (benchmarks/RESULTS.md, issue 14).
PALETTE_BLOBS, PALETTE_BLOB_PX, PALETTE_NOISE = 0.25, 16, 0.2


def _palette_start(recoloured: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``recoloured`` plus colour blobs and pixel noise, clipped (``init="palette"``)."""
    h, w = recoloured.shape[:2]
    grid = max(1, h // PALETTE_BLOB_PX), max(1, w // PALETTE_BLOB_PX), 3
    cells = rng.uniform(-PALETTE_BLOBS, PALETTE_BLOBS, grid)
    blobs = resize((cells + 0.5).astype(np.float32), h, w) - 0.5  # resize takes [0, 1] images
    noise = rng.uniform(-PALETTE_NOISE, PALETTE_NOISE, recoloured.shape)
    return np.clip(np.clip(recoloured + blobs, 0, 1) + noise, 0, 1).astype(np.float32)


def make_init(init: str | np.ndarray, content: np.ndarray, style: np.ndarray | list, seed: int, *,
              weights: list | dict | None = None) -> np.ndarray:
    """The start image at the content's size.  Departure from Gatys et al. (white noise): the default
    start is ``"palette"``, the photo in the painting's colours (``StyleSettings``).  Derived in
    notebook 07, §4 ("Where to start: the initial image").

    Args:
        init: ``"content"``, ``"style"``, ``"noise"``, ``"average"`` (photo and painting averaged, plus
            noise: see ``AVERAGE_NOISE``), ``"palette"`` (the photo recoloured to the paintings' pooled RGB
            mean and covariance, :func:`~nst_helpers.colour.recolor`, plus colour blobs and noise: see
            ``PALETTE_NOISE``) or an image.
        content: the ``(h, w, 3)`` content image in ``[0, 1]``.
        style: the style image (resized for ``"style"``), or a list of them: ``"style"`` and
            ``"average"`` take the first, ``"palette"`` the colours of all, pooled in ``weights``.
        seed: seeds the noise.
        weights: one share per style for ``"palette"`` (normalised); None for equal shares.
    """
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    style = styles[0]
    rng = np.random.default_rng(seed)
    if isinstance(init, str):
        if init == "content":
            return content.copy()
        if init == "style":
            return resize(style, *content.shape[:2])
        if init == "noise":
            return rng.uniform(0.0, 1.0, content.shape).astype(np.float32)
        if init == "average":
            between = (content + resize(style, *content.shape[:2])) / 2
            return np.clip(between + rng.uniform(-AVERAGE_NOISE, AVERAGE_NOISE, content.shape), 0, 1).astype(
                np.float32)
        if init == "palette":  # not in Gatys et al.: the painting's colours from the start, so that the
            # iterations go to strokes (benchmarks/RESULTS.md, issue 14); a blend's colours pooled by share
            recoloured = recolor(content, *blend_color_stats(styles, weights))
            return _palette_start(recoloured, rng)
        raise OptionError(f"init must be one of {INITS} or an image array, got {init!r}")
    return resize(to_float_image(init, name="init"), *content.shape[:2])


def _check_stages_fit(settings, shape):
    """Estimate the memory of every stage, the largest first: fail before any work."""
    options = dict(precision=settings.precision,
                   history_size=(settings.optimizer_options or {}).get("history_size", 10))
    for stage_size in sorted(set(settings.stages), reverse=True):
        check_memory(*fit_long_side(*shape, stage_size), [*settings.content_layers, *settings.style_layers],
                     settings.optimizer, **options)


# Sliced Wasserstein draws new random directions every this many iterations, restarting the
# optimiser (Heitz et al. redraw them at each L-BFGS restart): a fixed set would let the image
# match those few projections only.  Seeded by (seed, stage, round): reruns are identical.
SW_REDRAW_EVERY = 25


def _rounds(budget: int, style_loss: str) -> list[int]:
    """A stage's iterations split into rounds between redraws of the directions (one unless sw)."""
    if style_loss != "sw":
        return [budget]
    return [min(SW_REDRAW_EVERY, budget - start) for start in range(0, budget, SW_REDRAW_EVERY)]


class _Run:
    """The state of one :func:`stylize` run between its stages: the best image so far."""

    def __init__(self, settings, content, styles, masks, style_weights, init, callback, frame_every, bar):
        self.settings, self.content, self.styles, self.masks = settings, content, styles, masks
        self.style_weights, self.init, self.callback, self.frame_every, self.bar = \
            style_weights, init, callback, frame_every, bar
        self.result = StyleResult(None, math.inf, weights_source=weights_source(), settings=settings)
        self.image, self.start = None, time.perf_counter()
        self.plan = TimePlan(settings.time_budget, settings.stages, self.start)

    def stage(self, stage, stage_size, budget):
        s = self.settings
        if self.bar is not None:
            self.bar.stage_started(stage)
        content = resize_long_side(self.content, stage_size)
        styles = [resize_long_side(x, max(32, round(stage_size * s.style_scale))) for x in self.styles]
        objective = StyleObjective(content, styles, style_weights=self.style_weights,
                                   content_layers=s.content_layers, style_layers=s.style_layers,
                                   style_layer_weights=s.style_layer_weights,
                                   content_weight=s.content_weight, style_weight=s.style_weight,
                                   tv_weight=s.tv_weight, pooling=s.pooling, precision=s.precision,
                                   style_masks=self.masks, style_loss=s.style_loss,
                                   sw_directions=s.sw_directions, pool_padding=s.pool_padding,
                                   seed=(s.seed, stage))
        start_image = make_init(self.init, content, styles, s.seed, weights=objective.style_shares) \
            if self.image is None else resize(self.image, *content.shape[:2])
        tracker = Tracker(self.result, self.callback, self.frame_every, self.bar, stage, content.shape[:2],
                           self.result.iterations, self.start, self.plan.deadline(stage), s.stop_tolerance)
        try:
            for round_, iterations in enumerate(_rounds(budget, s.style_loss)):
                if round_:  # sliced Wasserstein: new directions; the optimiser restarts from the best image
                    objective.redraw((s.seed, stage, round_))
                    start_image = tracker.best_image if tracker.best_image is not None else start_image
                    tracker.new_round()  # other directions' losses are not comparable: best of round
                OPTIMIZERS[s.optimizer](objective, start_image, iterations, tracker,
                                        **(s.optimizer_options or {}))
        except (_TimeUp, _Flat):
            pass  # time spent, or the loss flattened: the next stage (or the result) starts from the best
        finally:
            self.result.iterations += tracker.iteration
            if tracker.best_image is not None:
                self.image, self.result.loss = tracker.best_image, tracker.best_loss
            elif self.image is None or self.image.shape != start_image.shape:
                self.image = start_image

    def finish(self, finish):
        """The result at the requested size (also after an early stop), through ``finish`` (colour)."""
        result = self.result
        result.seconds = time.perf_counter() - self.start
        final_shape = fit_long_side(*self.content.shape[:2], self.settings.size)
        image = self.content if self.image is None else self.image  # stopped before any stage: the content
        if image.shape[:2] != final_shape:  # stopped during a coarse stage: upsample what we have
            image = resize(image, *final_shape)
        result.image = finish(np.clip(image, 0.0, 1.0))
        if self.settings.preserve_color == "luminance":
            result.frames = [(i, finish(frame)) for i, frame in result.frames]
        return result


def stylize(content: object, style: object | list, *, callback: Callable[[StepInfo], object] | None = None,
            frame_every: int = 0, progress: bool = True, **settings: object) -> StyleResult:
    """Paint ``content`` in the style of ``style`` and return a :class:`StyleResult`.

    ``content``/``style``: anything :func:`load_image` accepts (path, sample name,
    array); ``style`` may be a list of them, blended with ``style_weights``.  The
    other options (``size``, ``iterations``, ``stages``, ``optimizer``, the weights
    and layers, ``style_scale``, ``init``, ``pooling``, ``precision``, ``seed``,
    ``preserve_color``, ``style_masks``, ``optimizer_options``) are the fields of
    :class:`~nst_helpers.settings.StyleSettings`, which documents and checks them;
    ``result.settings`` is the validated :class:`StyleSettings`.

    Ctrl-C, a callback stop or a non-finite loss end the run early and still return the best
    image so far (``result.stopped`` says why; its ``.reason`` is a :class:`StopReason`).  Before
    any work the memory every stage needs is estimated (:mod:`nst_helpers.memory`); a stage that
    would not fit raises :class:`~nst_helpers.MemoryBudgetError`.  Departures from Gatys et al.: see
    the module's docstring.  Derived in notebook 06, §7 ("The packaged loop:
    `nh.stylize(optimizer="adam")`").

    Args:
        content: the photo (a path, a sample name or an array).
        style: the painting, or a list of them.
        callback: called with a :class:`StepInfo` after every iteration; True stops the run.
        frame_every: keep every N-th image in ``result.frames`` (0: none).
        progress: show a progress bar.
        **settings: the fields of :class:`~nst_helpers.settings.StyleSettings`.
    """
    settings = StyleSettings.from_options(**settings)
    content_full = load_image(content)
    styles = [None if s is None else load_image(s)
              for s in (style if isinstance(style, (list, tuple)) else [style])]
    styles, masks, style_weights = prepare_masks(styles, settings.style_masks, content_full.shape[:2],
                                                 settings.style_weights)
    content_full, styles, init, finish = prepare_colour(content_full, styles, settings.init,
                                                        settings.preserve_color)
    if settings.preserve_color == "luminance":
        callback = wrap_callback(callback, finish)
    _check_stages_fit(settings, content_full.shape[:2])
    if settings.time_budget is not None:
        check_budget(settings.time_budget, content_full.shape[:2], settings.size)
    warn_slow_precision(settings.precision)
    tf.random.set_seed(settings.seed)
    bar = Progress(settings, content_full.shape[:2]) if progress else None
    run = _Run(settings, content_full, styles, masks, style_weights, init, callback, frame_every, bar)
    try:
        for stage, (stage_size, budget) in enumerate(zip(settings.stages, settings.iterations)):
            run.stage(stage, stage_size, budget)
    except _Stop as stop:
        run.result.stopped = stop.stopped
        if stop.stopped.reason is StopReason.NON_FINITE:
            warnings.warn(str(stop.stopped), RuntimeWarning, stacklevel=2)
    except KeyboardInterrupt:
        run.result.stopped = Stopped(StopReason.INTERRUPTED)
    finally:
        if bar is not None:
            bar.close()
    return run.finish(finish)


def _signature():
    """stylize's full signature, for help() and editors: its run controls and every settings field."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    run_controls = list(inspect.signature(stylize).parameters.values())[:5]
    options = [inspect.Parameter(f.name, keyword, default=StyleSettings.default(f.name), annotation=f.type)
               for f in fields(StyleSettings)]  # the order of StyleSettings._names()
    return inspect.Signature(run_controls + options, return_annotation=StyleResult)


stylize.__signature__ = _signature()
