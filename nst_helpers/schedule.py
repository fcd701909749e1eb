"""When a :func:`~nst_helpers.stylize` run spends its time: the time budget and the progress bar.

* :class:`TimePlan` turns ``time_budget`` seconds into a deadline per stage.  The
  coarse stage gets :data:`COARSE_SHARE` of the budget; the final stage runs until
  the whole budget is spent, its iterations fitted to the speed measured during the
  run.  A budget too small for the fixed set-up and one iteration at the final size
  is refused before any work (:func:`check_budget`).
* :class:`Progress` drives the progress bar in units of *work*, one unit being one
  iteration at the final size (a stage at half the size costs a quarter), so the bar's
  estimate of the time left holds for coarse-to-fine runs too; with a time budget
  the bar counts seconds.
"""

from __future__ import annotations

import math
import os
import time

from .errors import OptionError
from .images import fit_long_side

__all__ = ["COARSE_SHARE", "SETUP_SECONDS", "FASTEST_SECONDS_PER_MEGAPIXEL", "GPU_SPEEDUP",
           "ITERATION_CAP", "TimePlan",
           "check_budget", "budget_stages", "process_seconds", "Progress"]

COARSE_SHARE = 0.3  # of a time budget, for the coarse stage(s) together
ITERATION_CAP = 100_000  # a stage's iterations under a time budget: the deadline ends it first
# Lower bounds, to refuse only a budget that cannot work: building VGG19 and the targets and
# compiling the step (2.5-4 s on the 2-core AVX-512 EPYC), and the float32 step per megapixel:
# 4.0-4.2 s/Mpx on that CPU at 384-512 px (benchmarks/RESULTS.md), halved for faster CPUs; a GPU
# is assumed 50 times faster again.
SETUP_SECONDS = 2.0
FASTEST_SECONDS_PER_MEGAPIXEL = 2.0
GPU_SPEEDUP = 50.0


def budget_stages(size: int, min_size: int = 64) -> list[int]:
    """The stages of a time-budget run: half the size, then the size (``[size]`` when half is tiny).

    Args:
        size: the long side of the result in pixels.
        min_size: the smallest coarse stage worth running.
    """
    half = size // 2
    return [half, size] if half >= min_size else [size]


def _seconds_per_megapixel() -> float:
    from .hardware import has_gpu

    return FASTEST_SECONDS_PER_MEGAPIXEL / (GPU_SPEEDUP if has_gpu() else 1.0)


def _seconds_per_iteration(height: int, width: int) -> float:
    return _seconds_per_megapixel() * height * width / 1e6


def check_budget(budget: float, shape: tuple[int, int], size: int) -> None:
    """Raise :class:`OptionError` before any work if ``budget`` cannot buy one iteration at ``size``.

    Args:
        budget: seconds for the run (after what the process already spent).
        shape: the content's ``(h, w)``.
        size: the long side of the result.
    """
    h, w = fit_long_side(*shape, size)
    smallest = SETUP_SECONDS + _seconds_per_iteration(h, w)
    if budget >= smallest:
        return
    spare = budget - SETUP_SECONDS
    fits = ""
    if spare > 0:
        aspect = min(shape) / max(shape)
        side = int(math.sqrt(spare / _seconds_per_megapixel() * 1e6 / aspect))
        fits = f", or a size of at most {side} px for this budget" if side >= 32 else ""
    raise OptionError(f"time_budget={budget:.3g} s cannot pay for setting up and one iteration at {w}x{h} px "
                      f"(at least {smallest:.1f} s even on the fastest CPU measured): give time_budget >= "
                      f"{math.ceil(smallest)}{fits}")


def process_seconds() -> float:
    """Seconds since this process started (Linux: from ``/proc``; elsewhere 0).

    The command line subtracts them from ``--time-budget``, so the budget covers the
    whole command, importing TensorFlow included.
    """
    try:
        with open("/proc/self/stat") as stat:
            start_ticks = float(stat.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as uptime:
            now = float(uptime.read().split()[0])
        return max(0.0, now - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


class TimePlan:
    """Deadlines for the stages of a run with a time budget (None: no deadlines).

    Args:
        budget: seconds for the whole run, or None.
        stages: the stage sizes.
        start: ``time.perf_counter()`` when the run started.
    """

    FINISH_SECONDS = 0.05  # kept back for returning the result

    def __init__(self, budget: float | None, stages, start: float):
        self.budget, self.stages, self.start = budget, list(stages), start

    def deadline(self, stage: int) -> float | None:
        """``time.perf_counter()`` value at which ``stage`` must end."""
        if self.budget is None:
            return None
        end = self.start + self.budget - self.FINISH_SECONDS
        if stage == len(self.stages) - 1:
            return end
        # coarse stages share COARSE_SHARE in proportion to their pixels
        weights = [s * s for s in self.stages[:-1]]
        done = sum(weights[: stage + 1]) / sum(weights)
        return self.start + COARSE_SHARE * self.budget * done


class Progress:
    """The progress bar of one run (``tqdm``), counted in work units or, with a budget, seconds.

    The estimate of the time left (:meth:`seconds_left`, shown as ``left``) uses the speed
    of the current stage measured from its second iteration on (set-up and tracing left
    out), the work still to do in every stage, and one set-up per stage still to come.

    Args:
        settings: the run's :class:`~nst_helpers.settings.StyleSettings`.
        shape: the content's ``(h, w)``.
        file: where the bar is written (default: tqdm's, stderr).
    """

    def __init__(self, settings, shape, file=None):
        from tqdm.auto import tqdm

        self.budget = settings.time_budget
        final = fit_long_side(*shape, settings.size)
        self.work = [math.prod(fit_long_side(*shape, s)) / math.prod(final) for s in settings.stages]
        self.iterations = list(settings.iterations)
        if self.budget is not None:
            self.bar = tqdm(total=round(self.budget, 1), desc="stylize", unit="s", leave=True, file=file,
                            bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s{postfix}")
        else:
            total = sum(w * n for w, n in zip(self.work, self.iterations))
            self.bar = tqdm(total=round(total, 2), desc="stylize", unit="it", leave=True, file=file,
                            bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} [{elapsed}{postfix}]")
        self.started = time.perf_counter()
        self.stage, self.stage_start, self.first_step, self.done, self.setup = 0, self.started, None, 0, 0.0

    def stage_started(self, stage: int) -> None:
        """``stage`` begins (before its objective is built)."""
        self.stage, self.stage_start, self.first_step, self.done = stage, time.perf_counter(), None, 0

    def step(self, stage: int, loss: float) -> None:
        """One iteration of ``stage`` done, at this ``loss``."""
        now = time.perf_counter()
        if self.first_step is None:
            self.first_step, self.setup = now, now - self.stage_start
        self.done += 1
        if self.budget is not None:
            self.bar.n = min(round(now - self.started, 1), self.bar.total)
            self.bar.refresh()
        else:
            self.bar.update(self.work[stage])
        left = self.seconds_left()
        shown = "?" if left is None else f"{left:.0f}s"
        self.bar.set_postfix(stage=stage + 1, loss=f"{loss:.4g}", left=shown)

    def seconds_left(self) -> float | None:
        """Estimated seconds until the run ends (None before the current stage's second iteration)."""
        now = time.perf_counter()
        if self.budget is not None:
            return max(0.0, self.budget - (now - self.started))
        if self.done < 2:
            return None
        here = self.work[self.stage]
        rate = (now - self.first_step) / ((self.done - 1) * here)  # seconds per work unit
        later = list(zip(self.work, self.iterations))[self.stage + 1:]
        work_left = (self.iterations[self.stage] - self.done) * here + sum(w * n for w, n in later)
        return rate * work_left + self.setup * len(later)

    def close(self) -> None:
        """Close the bar."""
        self.bar.close()
