"""What a :func:`nst_helpers.stylize` run returns and reports: the result, each step, why it stopped.

Re-exported by :mod:`nst_helpers.optimise` (``nh.optimise.StyleResult``) and the package
(``nh.StyleResult``, ``nh.StopReason``).
"""

from __future__ import annotations

import dataclasses
import enum

import numpy as np

from .settings import StyleSettings

__all__ = ["StopReason", "Stopped", "StepInfo", "StyleResult"]


class StopReason(enum.Enum):
    """Why a run ended before its budget (``result.stopped.reason``)."""

    CALLBACK = "stopped by the callback"
    INTERRUPTED = "interrupted (Ctrl-C); the best image so far is kept"
    NON_FINITE = "the loss became non-finite; the best image so far is kept"


class Stopped(str):
    """``result.stopped``: prints (and compares) as the message; ``.reason`` is the :class:`StopReason`."""

    def __new__(cls, reason: StopReason, message: str | None = None):
        self = super().__new__(cls, message or reason.value)
        self.reason = reason
        return self


@dataclasses.dataclass
class StepInfo:
    """What a callback receives after each iteration."""

    iteration: int  # counted over all stages, from 1
    stage: int
    size: tuple  # (h, w) of this stage
    losses: dict  # total, content, style, tv (floats)
    best_loss: float
    image: np.ndarray  # current image, (h, w, 3) in [0, 1]
    seconds: float


@dataclasses.dataclass
class StyleResult:
    """The outcome of :func:`stylize`: the best image and how it was reached."""

    image: np.ndarray
    loss: float
    history: list = dataclasses.field(default_factory=list)  # one dict per iteration
    frames: list = dataclasses.field(default_factory=list)  # (iteration, image) pairs
    iterations: int = 0
    seconds: float = 0.0
    stopped: Stopped | None = None  # None: ran its budget; else why it stopped early (str, with .reason)
    weights_source: object = None
    settings: StyleSettings | None = None  # the validated options of the run

    @property
    def interrupted(self) -> bool:
        return self.stopped is not None
