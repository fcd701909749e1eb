"""Every option of :func:`nst_helpers.stylize`, written once: :class:`StyleSettings`.

Each field carries its default, its allowed choices, a help line and how the command
line spells it (``metadata``); ``StyleSettings(**options)`` checks every value and
raises :class:`~nst_helpers.OptionError` (or :class:`~nst_helpers.LayerError` for layer
names) with a message that says what to change.  ``stylize`` validates through it,
``result.settings`` is the validated object, the CLI generates its flags from its
fields and the studio reads its defaults.  ``settings["size"]`` and
``settings.get("size")`` still work (a read-only mapping of field name to value).

Run controls that do not change the picture (``callback``, ``frame_every``,
``progress``) are arguments of ``stylize`` only.  What a run returns is here too:
:class:`StyleResult`, the :class:`StepInfo` a callback receives, and :class:`Stopped`
(with its :class:`StopReason`) when a run ends early.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from .errors import LayerError, OptionError
from .model import CONTENT_LAYERS, POOL_PADDINGS, POOLINGS, PRECISIONS, STYLE_LAYERS, check_layers

__all__ = ["StyleSettings", "auto_stages",
           "check_weight", "normalised_weights", "OPTIMIZER_NAMES", "INITS", "PRESERVE_COLOR",
           "STYLE_LOSSES", "MIN_SIZE", "RENAMED", "FLAT_WINDOW"]

OPTIMIZER_NAMES = ("adam", "lbfgs")
INITS = ("content", "style", "noise", "average", "palette")
PRESERVE_COLOR = ("luminance", "match")
STYLE_LOSSES = ("gram", "gaussian", "sw")  # Gatys' Gram; mean + covariance (Bures); sliced Wasserstein
MIN_SIZE = 32
# Old or other spellings: passing one raises an error naming the option to use instead.
RENAMED = {"style_blend": "style_weights", "preserve_colour": "preserve_color", "colour": "preserve_color",
           "color": "preserve_color"}


def _option(default, help: str, *, choices=None, cli_type=None, nargs=None, metavar=None):
    """A field with what the CLI and the studio need to know about it."""
    metadata = dict(help=help, choices=choices, cli_type=cli_type, nargs=nargs, metavar=metavar)
    return dataclasses.field(default=default, metadata=metadata)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_weight(name: str, value: object) -> float:
    """A loss weight: a finite number >= 0.

    Args:
        name: the option's name, for the error message.
        value: anything ``float()`` accepts.

    Returns:
        ``float(value)``; an :class:`OptionError` if it is not a finite number >= 0.
    """
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise OptionError(f"{name} must be a finite number >= 0, got {value!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise OptionError(f"{name} must be a finite number >= 0, got {value}")
    return value


def normalised_weights(weights: Sequence[float] | Mapping[str, float] | None, names: Iterable,
                       what: str) -> dict:
    """``{name: weight / sum}`` for one non-negative weight per name (a list, or a dict by name).

    Args:
        weights: one weight per name (a dict may leave names out: 0); None for equal weights.
        names: the layers or styles being weighted.
        what: the option's name, for the error message.
    """
    names = list(names)
    if weights is None:
        weights = [1.0] * len(names)
    if isinstance(weights, dict):
        weights = [weights.get(n, 0.0) for n in names]
    weights = [float(w) for w in weights]
    if len(weights) != len(names) or any(not (w >= 0) for w in weights) or sum(weights) <= 0:
        raise OptionError(f"{what} needs {len(names)} non-negative numbers with a positive sum, "
                          f"got {weights}")
    return {n: w / sum(weights) for n, w in zip(names, weights)}


# stop_tolerance looks back this many iterations of the stage: L-BFGS's loss falls unevenly from one
# iteration to the next (line searches), so a single step's drop says little.  Not in Gatys et al.
FLAT_WINDOW = 10


def auto_stages(size: int) -> list[int]:
    """Coarse-to-fine sizes ending at ``size``: halve while above 512 (e.g. 2048 -> 512, 1024, 2048).

    Not in Gatys et al. (one size, optimised once).  Derived in notebook 09, §4 ("Coarse to fine").

    Args:
        size: the long side of the result in pixels.
    """
    stages = [size]
    while stages[0] > 512:
        stages.insert(0, stages[0] // 2)
    return stages


@dataclasses.dataclass(frozen=True)
class StyleSettings(Mapping):
    """The validated options of one :func:`~nst_helpers.stylize` run.

    Departures from Gatys et al. in the defaults: max pooling (theirs: average), ``block5_conv2``
    for content (theirs: ``block4_conv2``), the photo recoloured to the painting's colours, with colour
    blobs and pixel noise, as the start (``init="palette"``; theirs: white noise), 20 L-BFGS iterations
    (theirs: until converged, about 1000) and a total-variation term (theirs: none).  The start and
    the iterations were chosen together, by measurement: from the palette start the seed loop's
    1000-iteration quality is passed by iteration 8-11, and 20 iterations take under 1/50 of its
    time (``benchmarks/RESULTS.md``, issue 14).

    After validation ``stages`` holds the coarse-to-fine schedule (default
    :func:`auto_stages`), ``iterations`` one budget per stage, and the layer options
    lists of layer names.
    """

    size: int = _option(384, "long side of the result in pixels (default: the last of --stages, "
                             "else 384)", cli_type=int)
    iterations: int = _option(20, "iterations per stage (one number, or one per --stages size)",
                              cli_type=int, nargs="+")
    stages: list | None = _option(None, "coarse-to-fine sizes ending at --size, e.g. 512 1024 2048 "
                                        "(default: halve while over 512)", cli_type=int, nargs="+",
                                  metavar="SIZE")
    optimizer: str = _option("lbfgs", "L-BFGS (Gatys et al.'s) or Adam", choices=OPTIMIZER_NAMES)
    content_weight: float = _option(1.0, "weight of the content loss", cli_type=float)
    style_weight: float = _option(10.0, "weight of the style loss", cli_type=float)
    tv_weight: float = _option(1.0, "weight of the total-variation loss (smoothness)", cli_type=float)
    content_layers: list = _option(CONTENT_LAYERS, "VGG19 layers of the content loss", nargs="+",
                                   metavar="LAYER")
    style_layers: list = _option(STYLE_LAYERS, "VGG19 layers of the style loss", nargs="+",
                                 metavar="LAYER")
    style_layer_weights: list | None = _option(None, "one weight per style layer (default: equal)",
                                               cli_type=float, nargs="+")
    style_weights: list | None = _option(None, "blend weights, one per style image", cli_type=float,
                                         nargs="+")
    style_scale: float = _option(1.0, "style image size relative to content", cli_type=float)
    init: object = _option("palette", "starting image: 'palette' = the photo in the painting's colours, "
                                     "plus blobs and noise (or, in Python, an image array)", choices=INITS)
    pooling: str = _option("max", "VGG19's pooling: max, or avg as in the paper", choices=POOLINGS)
    pool_padding: str = _option("same", "VGG's pooling of an odd side: 'same' keeps its last row (paints to "
                                        "every edge), 'valid' drops it (Keras' VGG19)", choices=POOL_PADDINGS)
    precision: str = _option("float32", "the extractor's arithmetic", choices=tuple(PRECISIONS))
    seed: int = _option(0, "random seed (noise start, TensorFlow)", cli_type=int)
    preserve_color: str | None = _option(None, "keep the content's colours: stylise the luminance only, or "
                                               "match the style's colours first", choices=PRESERVE_COLOR)
    style_masks: list | None = _option(None, "one mask per style (white = this style, black = not); "
                                             "on the command line 'rest' = where no other mask is",
                                       nargs="+", metavar="MASK")
    style_loss: str = _option("gram", "style representation: Gram matrix (Gatys et al.), Gaussian (mean and "
                                      "covariance, Wasserstein-2) or sliced Wasserstein (whole distribution)",
                              choices=STYLE_LOSSES)
    sw_directions: int = _option(32, "random directions per style layer of --style-loss sw", cli_type=int)
    time_budget: float | None = _option(None, "seconds for the whole run (on the command line: the whole "
                                              "command): half size first, then full size until the time is "
                                              "up; replaces --iterations", cli_type=float, metavar="SECONDS")
    stop_tolerance: float | None = _option(None, "end a stage once the loss fell by less than this fraction "
                                                 f"over its last {FLAT_WINDOW} iterations, e.g. 0.01 "
                                                 "(default: run every iteration)", cli_type=float,
                                           metavar="FRACTION")
    optimizer_options: dict | None = _option(None, "extra optimiser settings, e.g. learning_rate=0.02 "
                                                   "(Adam) or history_size=10 (L-BFGS)",
                                             nargs="+", metavar="KEY=VALUE")

    @classmethod
    def from_options(cls, **options) -> StyleSettings:
        """Like ``StyleSettings(**options)``, but an unknown or renamed option is an :class:`OptionError`."""
        names = {f.name for f in dataclasses.fields(cls)}
        for name in options:
            if name in names:
                continue
            if name in RENAMED:
                raise OptionError(f"{name}= is not an option of stylize; use {RENAMED[name]}= instead")
            close = difflib.get_close_matches(name, sorted(names), n=1)
            hint = (f"; did you mean {close[0]}=?" if close
                    else f"; the options are: {', '.join(sorted(names))}")
            raise OptionError(f"stylize has no option {name}={hint}")
        return cls(**options)

    def __post_init__(self):
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen)
        if self.optimizer not in OPTIMIZER_NAMES:
            raise OptionError(f"optimizer must be one of {sorted(OPTIMIZER_NAMES)}, got {self.optimizer!r}")
        size = self.size
        if not _is_int(size) or size < MIN_SIZE:
            raise OptionError(f"size must be an integer >= {MIN_SIZE} (pixels of the long side), "
                              f"got {size!r}")
        if self.time_budget is not None and self.stages is None:
            from .schedule import budget_stages

            stages = budget_stages(int(size))  # coarse-to-fine; the budget decides the iterations
        else:
            stages = list(self.stages) if self.stages is not None else auto_stages(int(size))
        if not stages or stages[-1] != size or any(not _is_int(s) or s < MIN_SIZE for s in stages):
            raise OptionError(f"stages must be sizes >= {MIN_SIZE} ending at size={size}, got {stages}")
        iterations = self.iterations
        if self.time_budget is not None:  # the deadline ends each stage; iterations is then ignored
            from .schedule import ITERATION_CAP

            iterations = ITERATION_CAP
        budgets = [iterations] * len(stages) if np.ndim(iterations) == 0 else list(iterations)
        if len(budgets) != len(stages) or any(not _is_int(b) or b < 1 for b in budgets):
            raise OptionError(f"iterations must be a positive integer or one per stage {stages}, "
                              f"got {iterations!r}")
        set_("size", int(size))
        set_("stages", [int(s) for s in stages])
        set_("iterations", [int(b) for b in budgets])
        for name in ("content_weight", "style_weight", "tv_weight"):
            set_(name, check_weight(name, getattr(self, name)))
        try:
            scale_ok = self.style_scale > 0 and math.isfinite(self.style_scale)
        except TypeError:
            scale_ok = False
        if not scale_ok:
            raise OptionError(f"style_scale must be > 0, got {self.style_scale}")
        set_("content_layers", check_layers(self.content_layers))
        set_("style_layers", check_layers(self.style_layers))
        if self.style_layer_weights is not None:
            normalised_weights(self.style_layer_weights, self.style_layers, "style_layer_weights")
        if self.style_weights is not None:
            weights = self.style_weights
            if isinstance(weights, dict) or np.ndim(weights) != 1 or any(
                    not isinstance(w, (int, float, np.number)) or isinstance(w, bool) or not (w >= 0)
                    for w in weights):
                raise OptionError(f"style_weights needs one number >= 0 per style, got {weights!r}")
            set_("style_weights", [float(w) for w in weights])
        if isinstance(self.init, str) and self.init not in INITS:
            raise OptionError(f"init must be one of {INITS} or an image array, got {self.init!r}")
        if self.pooling not in POOLINGS:
            raise LayerError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if self.pool_padding not in POOL_PADDINGS:
            raise LayerError(f"pool_padding must be one of {POOL_PADDINGS}, got {self.pool_padding!r}")
        if self.precision not in PRECISIONS:
            raise LayerError(f"precision must be one of {sorted(PRECISIONS)}, got {self.precision!r}")
        if not _is_int(self.seed):
            raise OptionError(f"seed must be an integer, got {self.seed!r}")
        if self.preserve_color is False:
            set_("preserve_color", None)
        if self.preserve_color is not None and self.preserve_color not in PRESERVE_COLOR:
            raise OptionError(f"preserve_color must be None, 'luminance' or 'match', "
                              f"got {self.preserve_color!r}")
        if self.style_loss not in STYLE_LOSSES:
            raise OptionError(f"style_loss must be one of {STYLE_LOSSES}, got {self.style_loss!r}")
        if not _is_int(self.sw_directions) or self.sw_directions < 1:
            raise OptionError(f"sw_directions must be an integer >= 1, got {self.sw_directions!r}")
        if self.time_budget is not None:
            try:
                budget_ok = self.time_budget > 0 and math.isfinite(self.time_budget)
            except TypeError:
                budget_ok = False
            if not budget_ok:
                raise OptionError(f"time_budget must be a number of seconds > 0 (or None), "
                                  f"got {self.time_budget!r}")
            set_("time_budget", float(self.time_budget))
        if self.stop_tolerance is not None:
            try:
                tolerance_ok = 0 <= self.stop_tolerance < 1
            except TypeError:
                tolerance_ok = False
            if not tolerance_ok or isinstance(self.stop_tolerance, bool):
                raise OptionError(f"stop_tolerance must be a fraction in [0, 1), e.g. 0.01 (or None), "
                                  f"got {self.stop_tolerance!r}")
            set_("stop_tolerance", float(self.stop_tolerance))
        if self.optimizer_options is not None and not isinstance(self.optimizer_options, Mapping):
            raise OptionError(f"optimizer_options must be a dict, got {self.optimizer_options!r}")

    # -- read-only mapping: settings["size"], settings.get("size"), dict(settings)
    def __getitem__(self, name):
        if name not in self._names():
            raise KeyError(name)
        return getattr(self, name)

    def __iter__(self):
        return iter(self._names())

    def __len__(self):
        return len(self._names())

    @classmethod
    def _names(cls) -> tuple:
        return tuple(f.name for f in dataclasses.fields(cls))

    __eq__ = object.__eq__  # fields may hold arrays (masks, init): compare by identity
    __hash__ = object.__hash__

    def replace(self, **changes) -> StyleSettings:
        """A copy with ``changes`` (validated again).  A new ``size`` gets its own default stage
        schedule unless the stages were chosen by hand; equal budgets follow the new stages."""
        options = {**dict(self), **changes}
        if "stages" not in changes and self.stages == auto_stages(self.size):
            options["stages"] = None
        if "iterations" not in changes and len(set(self.iterations)) == 1:
            options["iterations"] = self.iterations[0]
        return StyleSettings.from_options(**options)

    @property
    def total_iterations(self) -> int:
        return sum(self.iterations)

    @staticmethod
    def default(name: str):
        """The default of option ``name`` as written (before validation resolves it)."""
        return _FIELDS[name].default

    @staticmethod
    def choices(name: str):
        return _FIELDS[name].metadata["choices"]


_FIELDS = {f.name: f for f in dataclasses.fields(StyleSettings)}
