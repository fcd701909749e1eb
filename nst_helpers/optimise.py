"""The optimisation loop: one :func:`stylize` entry point and the pieces behind it.

* :class:`StyleObjective` holds the targets (content features, style Grams) and a
  compiled (``tf.function``) loss-and-gradient step for one image size.
* :func:`run_adam` and :func:`run_lbfgs` optimise the pixels, keep the best image
  seen, report progress through a callback and stop cleanly on Ctrl-C or a
  non-finite loss.
* :func:`stylize` chains them over one or more sizes (coarse to fine).

Loss normalisation: every term is a *relative* error, ``||F - P||^2 / ||P||^2``
for content features and ``||G - A||^2 / ||A||^2`` for each style Gram, so each
starts near 1 whatever the layer, the images or the resolution; total variation
is a mean over pixels.  The weights therefore need no retuning when the size
changes.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from .errors import OptionError
from .images import fit_long_side, load_image, resize, resize_long_side, to_float_image
from .losses import gram_matrix, relative_error, total_variation_loss
from .model import CONTENT_LAYERS, STYLE_LAYERS, build_extractor, check_layers, weights_source
from .controls import GuidedStyle, prepare_colour, prepare_masks, wrap_callback
from .memory import check_memory

DEFAULTS = dict(
    size=384, iterations=100, optimizer="lbfgs", content_weight=1.0, style_weight=10.0,
    tv_weight=1.0, init="content", pooling="max", precision="float32", seed=0,
)
ADAM_SEED_SETTINGS = dict(learning_rate=0.02, beta_1=0.99, epsilon=0.1)  # the TF tutorial's, for [0, 1] pixels
# stylize's Adam: the seed's step size and momentum, but epsilon 1e-8.  Our relative-error
# loss has gradients around 1e-4 per pixel, far below the seed's epsilon of 0.1, which
# then shrinks every step ~1000-fold (notebook 06 shows it); 1e-8 lets Adam take its
# intended ~learning_rate steps.
ADAM_DEFAULTS = dict(ADAM_SEED_SETTINGS, epsilon=1e-8)
INITS = ("content", "style", "noise", "average")


class _Stop(Exception):
    """Raised inside an optimiser to end the run early (callback asked, or loss not finite)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclass
class StepInfo:
    """What a callback receives after each iteration."""

    iteration: int  # counted over all stages, from 1
    stage: int
    size: tuple  # (h, w) of this stage
    losses: dict  # total, content, style, tv (floats)
    best_loss: float
    image: np.ndarray  # current image, (h, w, 3) in [0, 1]
    seconds: float


@dataclass
class StyleResult:
    """The outcome of :func:`stylize`: the best image and how it was reached."""

    image: np.ndarray
    loss: float
    history: list = field(default_factory=list)  # one dict per iteration
    frames: list = field(default_factory=list)  # (iteration, image) pairs
    iterations: int = 0
    seconds: float = 0.0
    stopped: str | None = None  # None: ran its budget; else why it stopped early
    weights_source: object = None
    settings: dict = field(default_factory=dict)

    @property
    def interrupted(self) -> bool:
        return self.stopped is not None


class StyleObjective:
    """Targets and the compiled loss for one content size.

    ``styles`` is a list of ``[0, 1]`` images blended with ``style_blend`` weights
    (their Gram matrices are averaged with those weights).  With ``style_masks`` (one
    ``(h, w)`` mask per style) each style applies only in its region instead, through
    masked (guided) Gram matrices (:class:`nst_helpers.controls.GuidedStyle`), and
    ``style_blend`` multiplies each region's term.
    """

    def __init__(self, content, styles, *, style_blend=None, content_layers=CONTENT_LAYERS,
                 style_layers=STYLE_LAYERS, style_layer_weights=None, content_weight=1.0,
                 style_weight=10.0, tv_weight=1.0, pooling="max", precision="float32", style_masks=None):
        self.content = to_float_image(content, name="content")
        styles = [to_float_image(s, name="style") for s in (styles if isinstance(styles, (list, tuple)) else [styles])]
        self.content_layers = check_layers(content_layers)
        self.style_layers = check_layers(style_layers)
        self.style_layer_weights = _normalised_weights(style_layer_weights, self.style_layers, "style_layer_weights")
        blend = _normalised_weights(style_blend, range(len(styles)), "style_weights")
        self.weights = dict(content=float(content_weight), style=float(style_weight), tv=float(tv_weight))
        for name, value in self.weights.items():
            if not (value >= 0 and math.isfinite(value)):
                raise OptionError(f"{name}_weight must be a finite number >= 0, got {value}")
        self.extractor = build_extractor(self.content_layers + self.style_layers, pooling, precision)
        content_features = self.extractor(self.content[None])
        self.content_targets = {name: tf.constant(content_features[name]) for name in self.content_layers}
        self.style_targets = {name: 0.0 for name in self.style_layers}
        style_grams = []
        for style, weight in zip(styles, blend.values()):
            features = self.extractor(style[None])
            style_grams.append({name: gram_matrix(features[name]) for name in self.style_layers})
            for name in self.style_layers:
                self.style_targets[name] += weight * style_grams[-1][name]
        self.style_targets = {name: tf.constant(g) for name, g in self.style_targets.items()}
        self.guided = None if style_masks is None else GuidedStyle(
            style_grams, style_masks, self.style_layers, style_blend, shape=self.content.shape[:2])
        shape = (1, *self.content.shape)
        self.value_and_grad = tf.function(self._value_and_grad, input_signature=[
            tf.TensorSpec(shape, tf.float32)], jit_compile=False)

    def terms(self, image):
        """Loss terms (tensors) for a batch-of-one image in ``[0, 1]``."""
        features = self.extractor(image)
        content = tf.add_n([relative_error(features[n], t) for n, t in self.content_targets.items()]) / len(
            self.content_targets)
        if self.guided is None:
            style = tf.add_n([self.style_layer_weights[n] * relative_error(gram_matrix(features[n]), t)
                              for n, t in self.style_targets.items()])
        else:  # spatial control: masked Gram matrices, one region per style
            style = self.guided.loss(features, self.style_layer_weights)
        tv = total_variation_loss(image)
        total = self.weights["content"] * content + self.weights["style"] * style + self.weights["tv"] * tv
        return dict(total=total, content=content, style=style, tv=tv)

    def _value_and_grad(self, image):
        with tf.GradientTape() as tape:
            tape.watch(image)
            terms = self.terms(image)
        return terms, tape.gradient(terms["total"], image)


def _normalised_weights(weights, names, what):
    names = list(names)
    if weights is None:
        weights = [1.0] * len(names)
    if isinstance(weights, dict):
        weights = [weights.get(n, 0.0) for n in names]
    weights = [float(w) for w in weights]
    if len(weights) != len(names) or any(not (w >= 0) for w in weights) or sum(weights) <= 0:
        raise OptionError(f"{what} needs {len(names)} non-negative numbers with a positive sum, got {weights}")
    return {n: w / sum(weights) for n, w in zip(names, weights)}


class _Tracker:
    """Keeps the best image, the history and the frames; calls the callback."""

    def __init__(self, result, callback, frame_every, progress_bar, stage, size, offset, start):
        self.result, self.callback, self.frame_every = result, callback, frame_every
        self.bar, self.stage, self.size, self.offset, self.start = progress_bar, stage, size, offset, start
        self.best_loss, self.best_image, self.iteration = math.inf, None, 0

    def evaluated(self, image, terms):
        losses = {k: float(v) for k, v in terms.items()}
        if not all(math.isfinite(v) for v in losses.values()):
            raise _Stop(f"the loss became non-finite ({losses}); the best image so far is kept. "
                        "Lower the learning rate or the style weight.")
        if losses["total"] < self.best_loss:
            self.best_loss, self.best_image = losses["total"], np.array(image[0], dtype=np.float32)
        return losses

    def iterated(self, image, losses):
        self.iteration += 1
        overall = self.offset + self.iteration
        seconds = time.perf_counter() - self.start
        self.result.history.append(dict(iteration=overall, stage=self.stage, seconds=seconds, **losses))
        current = np.asarray(image[0], dtype=np.float32)
        if self.frame_every and overall % self.frame_every == 0:
            self.result.frames.append((overall, np.clip(current, 0, 1)))
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{losses['total']:.4g}")
        if self.callback is not None:
            info = StepInfo(overall, self.stage, self.size, losses, self.best_loss, current, seconds)
            if self.callback(info):
                raise _Stop("stopped by the callback")


def run_adam(objective, init, iterations, tracker, *, learning_rate=ADAM_DEFAULTS["learning_rate"],
             beta_1=ADAM_DEFAULTS["beta_1"], beta_2=0.999, epsilon=ADAM_DEFAULTS["epsilon"]):
    """Adam on the pixels, clipped to ``[0, 1]`` after each step (compiled update)."""
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


def run_lbfgs(objective, init, iterations, tracker, *, history_size=10):
    """SciPy's L-BFGS-B with pixel bounds ``[0, 1]`` (Gatys et al.'s optimiser)."""
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


def auto_stages(size: int) -> list[int]:
    """Coarse-to-fine sizes ending at ``size``: halve while above 512 (e.g. 2048 -> 512, 1024, 2048)."""
    stages = [size]
    while stages[0] > 512:
        stages.insert(0, stages[0] // 2)
    return stages


def make_init(init, content, style, seed):
    rng = np.random.default_rng(seed)
    if isinstance(init, str):
        if init == "content":
            return content.copy()
        if init == "style":
            return resize(style, *content.shape[:2])
        if init == "noise":
            return rng.uniform(0.0, 1.0, content.shape).astype(np.float32)
        if init == "average":
            return (0.5 * content + 0.5 * rng.uniform(0.0, 1.0, content.shape)).astype(np.float32)
        raise OptionError(f"init must be one of {INITS} or an image array, got {init!r}")
    return resize(to_float_image(init, name="init"), *content.shape[:2])


def stylize(content, style, *, size=DEFAULTS["size"], iterations=DEFAULTS["iterations"],
            optimizer=DEFAULTS["optimizer"], content_weight=DEFAULTS["content_weight"],
            style_weight=DEFAULTS["style_weight"], tv_weight=DEFAULTS["tv_weight"],
            content_layers=CONTENT_LAYERS, style_layers=STYLE_LAYERS, style_layer_weights=None,
            style_weights=None, style_scale=1.0, init=DEFAULTS["init"], pooling=DEFAULTS["pooling"],
            precision=DEFAULTS["precision"], stages=None, seed=DEFAULTS["seed"], callback=None, frame_every=0, progress=True,
            optimizer_options=None, preserve_color=None, style_masks=None) -> StyleResult:
    """Paint ``content`` in the style of ``style`` and return a :class:`StyleResult`.

    ``content``/``style``: anything :func:`load_image` accepts (path, sample name,
    array); ``style`` may be a list of them, blended with ``style_weights``.
    ``size``: long side of the result in pixels.  ``iterations``: per stage (an int,
    or one per stage).  ``stages``: long sides of a coarse-to-fine schedule
    (default :func:`auto_stages`).  ``style_scale``: size of the style image relative
    to the content (bigger -> bigger brush strokes).  ``callback(StepInfo)`` is called
    after every iteration; returning True stops the run.  Ctrl-C, a callback stop or
    a non-finite loss end the run early and still return the best image so far
    (``result.stopped`` says why).

    Artist's controls (:mod:`nst_helpers.controls`): ``preserve_color="luminance"``
    (stylise the luminance only, keep the content's colours) or ``"match"`` (recolour
    the style to the content's colour statistics first); ``style_masks``: one
    ``(h, w)`` mask (array or image file) per style, saying where each applies
    (``None`` as a mask: the rest of the picture; ``None`` as a style: no style in
    that region).  Before every stage the memory it needs is estimated
    (:mod:`nst_helpers.memory`); a stage that would not fit raises
    :class:`~nst_helpers.MemoryBudgetError` before any work.
    """
    if optimizer not in OPTIMIZERS:
        raise OptionError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {optimizer!r}")
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 32:
        raise OptionError(f"size must be an integer >= 32 (pixels of the long side), got {size!r}")
    stages = list(stages) if stages is not None else auto_stages(int(size))
    if not stages or stages[-1] != size or any(s < 32 for s in stages):
        raise OptionError(f"stages must be sizes >= 32 ending at size={size}, got {stages}")
    budgets = [iterations] * len(stages) if np.ndim(iterations) == 0 else list(iterations)
    if len(budgets) != len(stages) or any(not isinstance(b, (int, np.integer)) or b < 1 for b in budgets):
        raise OptionError(f"iterations must be a positive integer or one per stage {stages}, got {iterations!r}")
    if not (style_scale > 0):
        raise OptionError(f"style_scale must be > 0, got {style_scale}")
    content_full = load_image(content)
    style_list = [None if s is None else load_image(s) for s in (style if isinstance(style, (list, tuple)) else [style])]
    style_list, masks, style_weights = prepare_masks(style_list, style_masks, content_full.shape[:2], style_weights)
    content_full, style_list, init, finish = prepare_colour(content_full, style_list, init, preserve_color)
    if preserve_color == "luminance":
        callback = wrap_callback(callback, finish)
    used_layers = [*check_layers(content_layers), *check_layers(style_layers)]
    memory_options = dict(precision=precision, history_size=(optimizer_options or {}).get("history_size", 10))
    for stage_size in sorted(set(stages), reverse=True):  # the largest first: fail before any work
        check_memory(*fit_long_side(*content_full.shape[:2], stage_size), used_layers, optimizer, **memory_options)
    tf.random.set_seed(seed)
    settings = dict(size=size, stages=stages, iterations=budgets, optimizer=optimizer,
                    content_weight=content_weight, style_weight=style_weight, tv_weight=tv_weight,
                    content_layers=list(content_layers), style_layers=list(style_layers),
                    style_weights=style_weights, style_scale=style_scale, init=init if isinstance(init, str) else "image",
                    pooling=pooling, precision=precision, seed=seed, preserve_color=preserve_color,
                    style_masks=None if masks is None else len(masks))
    result = StyleResult(image=None, loss=math.inf, weights_source=weights_source(), settings=settings)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=sum(budgets), desc="stylize", unit="it", leave=True)
    start = time.perf_counter()
    image = None
    try:
        for stage, (stage_size, budget) in enumerate(zip(stages, budgets)):
            content_img = resize_long_side(content_full, stage_size)
            styles = [resize_long_side(s, max(32, round(stage_size * style_scale))) for s in style_list]
            check_memory(*content_img.shape[:2], used_layers, optimizer, **memory_options)
            objective = StyleObjective(content_img, styles, style_blend=style_weights,
                                       content_layers=content_layers, style_layers=style_layers,
                                       style_layer_weights=style_layer_weights, content_weight=content_weight,
                                       style_weight=style_weight, tv_weight=tv_weight, pooling=pooling,
                                       precision=precision, style_masks=masks)
            if image is None:
                start_image = make_init(init, content_img, styles[0], seed)
            else:
                start_image = resize(image, *content_img.shape[:2])
            tracker = _Tracker(result, callback, frame_every, bar, stage, content_img.shape[:2],
                               result.iterations, start)
            try:
                OPTIMIZERS[optimizer](objective, start_image, budget, tracker, **(optimizer_options or {}))
            finally:
                result.iterations += tracker.iteration
                if tracker.best_image is not None:
                    image, result.loss = tracker.best_image, tracker.best_loss
                elif image is None or image.shape != start_image.shape:
                    image = start_image
    except _Stop as stop:
        result.stopped = stop.reason
        if "non-finite" in stop.reason:
            warnings.warn(stop.reason, RuntimeWarning, stacklevel=2)
    except KeyboardInterrupt:
        result.stopped = "interrupted (Ctrl-C); the best image so far is kept"
    finally:
        if bar is not None:
            bar.close()
    result.seconds = time.perf_counter() - start
    final_shape = fit_long_side(*content_full.shape[:2], size)
    if image is None:  # interrupted before the first stage started: nothing better than the content
        image = content_full
    if image.shape[:2] != final_shape:  # stopped during a coarse stage: upsample what we have
        image = resize(image, *final_shape)
    result.image = finish(np.clip(image, 0.0, 1.0))
    if preserve_color == "luminance":
        result.frames = [(i, finish(frame)) for i, frame in result.frames]
    return result
