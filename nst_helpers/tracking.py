"""The bookkeeping of one stage of :func:`~nst_helpers.stylize`: best image, history, early ends.

The optimisers (:func:`~nst_helpers.optimise.run_adam`, :func:`~nst_helpers.optimise.run_lbfgs`)
report each evaluation and each iteration to a :class:`Tracker`; it raises private exceptions
to end a stage (time up, loss flat) or the whole run (callback, non-finite loss).
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np

from .results import StepInfo, Stopped, StopReason
from .settings import FLAT_WINDOW

__all__ = ["Tracker"]


class _OneTracePerObjective(logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" warning about our own step, a false alarm.

    Each :class:`~nst_helpers.optimise.StyleObjective` compiles its step once (its
    ``input_signature`` is fixed), but TensorFlow counts the traces of one source function
    across all its instances.  A run of many short stages (a time budget's stages on a slow
    CPU, several losses compared in one notebook) then traces 5 of any 10 calls and prints the
    warning to the learner.  Warnings about any other function, the learner's own included,
    still show.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not ("triggered tf.function retracing" in text and "StyleObjective._value_and_grad" in text)


logging.getLogger("tensorflow").addFilter(_OneTracePerObjective())  # the logger tf.get_logger() returns


class _TimeUp(Exception):
    """Raised inside an optimiser when a stage's share of the time budget is spent (not a stop)."""


class _Flat(Exception):
    """Raised inside an optimiser when a stage's loss has flattened (``stop_tolerance``; not a stop)."""


class _Stop(Exception):
    """Raised inside an optimiser to end the run early (callback asked, or loss not finite)."""

    def __init__(self, reason: StopReason, message: str | None = None):
        super().__init__(message or reason.value)
        self.stopped = Stopped(reason, message)


class Tracker:
    """One stage's bookkeeping: keeps the best image, the history and the frames, calls the callback,
    and ends the stage when its time is up or its loss has flattened (``stop_tolerance``).

    Args:
        result: the :class:`StyleResult` being filled.
        callback: called with a :class:`StepInfo` after every iteration; True stops the run.
        frame_every: keep every N-th image in ``result.frames`` (0: none).
        progress: the progress bar, or None.
        stage, size: the stage's index and ``(h, w)``.
        offset: iterations of the earlier stages.
        start: ``time.perf_counter()`` at the start of the run.
        deadline: ``time.perf_counter()`` value at which the stage must end, or None.
        tolerance: ``stop_tolerance`` (None: never flat).
    """

    def __init__(self, result, callback, frame_every, progress, stage, size, offset, start, deadline=None,
                 tolerance=None):
        self.result, self.callback, self.frame_every = result, callback, frame_every
        self.bar, self.stage, self.size, self.offset, self.start = progress, stage, size, offset, start
        self.best_loss, self.best_image, self.iteration, self.deadline = math.inf, None, 0, deadline
        self.tolerance, self.round_losses = tolerance, []
        self.stage_start = time.perf_counter()  # the first iteration's time: tracing and one step

    def new_round(self) -> None:
        """Other sliced directions: losses before and after are not comparable (best and flatness)."""
        self.best_loss, self.round_losses = math.inf, []

    def flattened(self) -> bool:
        """The loss fell by less than ``tolerance`` (a fraction) over the last FLAT_WINDOW iterations."""
        losses = self.round_losses
        if self.tolerance is None or len(losses) <= FLAT_WINDOW:
            return False
        before = losses[-1 - FLAT_WINDOW]
        return before - min(losses[-FLAT_WINDOW:]) < self.tolerance * abs(before)

    def evaluated(self, image, terms):
        losses = {k: float(v) for k, v in terms.items()}
        if not all(math.isfinite(v) for v in losses.values()):
            raise _Stop(StopReason.NON_FINITE, f"the loss became non-finite ({losses}); the best image "
                        "so far is kept. Lower the learning rate or the style weight.")
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
            self.bar.step(self.stage, losses["total"])
        if self.callback is not None:
            info = StepInfo(overall, self.stage, self.size, losses, self.best_loss, current, seconds)
            if self.callback(info):
                raise _Stop(StopReason.CALLBACK)
        if self.deadline is not None and time.perf_counter() + self.last_step() >= self.deadline:
            raise _TimeUp
        self.round_losses.append(losses["total"])
        if self.flattened():
            raise _Flat

    def last_step(self) -> float:
        """Seconds the last iteration took: the next one is expected to take as long.

        After a stage's first iteration, that iteration's own time from the stage's start, tracing
        included: an overestimate, but a budget whose last stage has time for one iteration only
        (30 s at 512 px on a 2-core AVX2-only CPU: 4 s an iteration) would otherwise start a second.
        """
        history = self.result.history
        if len(history) >= 2 and history[-2]["stage"] == self.stage:
            return history[-1]["seconds"] - history[-2]["seconds"]
        return history[-1]["seconds"] - (self.stage_start - self.start)
