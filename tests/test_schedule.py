"""Time budget, progress in work units, precision advice, and painting to every edge."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nst_helpers as nh
from nst_helpers import hardware, images, optimise, schedule, tracking
from nst_helpers.errors import OptionError
from nst_helpers.metrics import edge_ratios


def test_budget_stages_and_deadlines():
    assert schedule.budget_stages(512) == [256, 512] and schedule.budget_stages(100) == [100]
    plan = schedule.TimePlan(60.0, [256, 512], start=100.0)
    assert plan.deadline(0) == pytest.approx(100 + 60 * schedule.COARSE_SHARE)
    assert plan.deadline(1) == pytest.approx(160 - plan.FINISH_SECONDS)
    assert schedule.TimePlan(None, [512], 0.0).deadline(0) is None
    settings = nh.StyleSettings(size=512, time_budget=60)
    assert settings.stages == [256, 512] and settings.iterations == [schedule.ITERATION_CAP] * 2
    assert nh.StyleSettings(size=512, stages=[512], time_budget=30).stages == [512]


def test_too_small_a_budget_is_refused_before_any_work(monkeypatch):
    monkeypatch.setattr(nh.optimise, "StyleObjective", lambda *a, **k: pytest.fail("work started"))
    with pytest.raises(OptionError, match=r"time_budget >= \d+.*at most \d+ px"):
        nh.stylize("chelsea", "swirl", size=2048, time_budget=4, progress=False)
    with pytest.raises(OptionError, match="time_budget must be"):
        nh.StyleSettings(time_budget=0)


class _Clock:
    """A stand-in for ``time.perf_counter`` that moves only when the objective is evaluated."""

    def __init__(self, seconds_per_evaluation: float, final_size_seconds: float | None = None, size=None):
        self.now, self.step, self.evaluations = 1000.0, seconds_per_evaluation, 0
        self.final_size_seconds, self.size = final_size_seconds, size

    def perf_counter(self) -> float:
        return self.now

    def objective(self, original):
        clock = self

        class Clocked(original):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                compiled = self.value_and_grad
                final = clock.final_size_seconds is not None and max(self.content.shape[:2]) == clock.size
                step = clock.final_size_seconds if final else clock.step

                def timed(image):
                    clock.now += step
                    clock.evaluations += 1
                    return compiled(image)

                self.value_and_grad = timed

        return Clocked


def test_a_time_budget_is_kept(needs_weights, monkeypatch):
    # The deadlines, on a clock that only the evaluations move (0.1 s each), so that the test does
    # not depend on this machine's speed; benchmarks/time_budget.py measures the real wall time.
    clock = _Clock(0.1)
    monkeypatch.setattr(optimise, "StyleObjective", clock.objective(optimise.StyleObjective))
    for module in (optimise, tracking):
        monkeypatch.setattr(module, "time", clock)
    budget = 4.0
    result = nh.stylize("chelsea", "swirl", size=128, time_budget=budget, progress=False)
    assert budget - 0.6 <= result.seconds <= budget, result.seconds  # ends within an iteration or two
    coarse_end = max(h["seconds"] for h in result.history if h["stage"] == 0)
    assert schedule.COARSE_SHARE * budget - 0.6 <= coarse_end <= schedule.COARSE_SHARE * budget
    assert result.stopped is None and result.iterations > 10 and clock.evaluations <= budget / 0.1
    assert {h["stage"] for h in result.history} == {0, 1}  # half size, then full size
    assert result.image.shape[1] == 128


def test_a_last_stage_with_time_for_one_iteration_stops_after_it(needs_weights, monkeypatch):
    # 1 s per evaluation at the final size, 0.05 s at half size: after the coarse stage's 1.2 s, the
    # final stage has time for about one iteration. Its first iteration is the only measure of
    # the next one's time, so the run must stop there rather than start a second and overrun.
    clock = _Clock(0.05, final_size_seconds=1.0, size=128)
    monkeypatch.setattr(optimise, "StyleObjective", clock.objective(optimise.StyleObjective))
    for module in (optimise, tracking):
        monkeypatch.setattr(module, "time", clock)
    result = nh.stylize("chelsea", "swirl", size=128, time_budget=4.0, progress=False)
    final = [h for h in result.history if h["stage"] == 1]
    assert len(final) == 1, final
    assert result.seconds <= 4.0, result.seconds


def test_progress_counts_work_so_its_estimate_holds_across_stages(needs_weights):
    settings = nh.StyleSettings(size=128, stages=[64, 128], iterations=[8, 4])
    progress = schedule.Progress(settings, (170, 256))
    small, final = images.fit_long_side(170, 256, 64), images.fit_long_side(170, 256, 128)
    assert progress.work[1] == 1.0
    assert progress.work[0] == pytest.approx(small[0] * small[1] / (final[0] * final[1]), rel=1e-6)
    assert progress.bar.total == pytest.approx(8 * progress.work[0] + 4, abs=0.01)
    for stage, count in ((0, 8), (1, 4)):
        for _ in range(count):
            progress.step(stage, 1.0)
    assert progress.bar.n == pytest.approx(progress.bar.total, abs=0.02)
    progress.close()


def test_bfloat16_warns_once_where_it_is_emulated(monkeypatch):
    monkeypatch.setattr(hardware, "has_gpu", lambda: False)
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    monkeypatch.setattr(hardware, "_warned", set())
    with pytest.warns(RuntimeWarning, match="slower than float32"):
        hardware.warn_slow_precision("bfloat16")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hardware.warn_slow_precision("bfloat16")  # once per process
        hardware.warn_slow_precision("float32")
    assert hardware.fast_precisions() == []
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    assert hardware.native_bfloat16() and hardware.fast_precisions() == ["bfloat16"]


def test_every_edge_is_painted_at_a_size_that_is_not_a_multiple_of_32(needs_weights):
    size = 100  # chelsea: 100x67, neither side a multiple of 32 (67 loses a row at the first pooling)
    photo = images.resize_long_side(images.load_image("chelsea"), size)
    ratios = {padding: edge_ratios(nh.stylize("chelsea", "swirl", size=size, iterations=30, pool_padding=padding,
                                              init="content", progress=False).image, photo)
              for padding in ("same", "valid")}
    assert min(ratios["same"].values()) >= 0.85, ratios
    # Keras' pooling leaves the bottom strip close to the photo: the guard can fail
    assert ratios["valid"]["bottom"] < ratios["same"]["bottom"] - 0.1, ratios


def test_progress_estimate_leaves_out_the_set_up_and_counts_later_stages(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(schedule.time, "perf_counter", lambda: now[0])
    settings = nh.StyleSettings(size=128, stages=[64, 128], iterations=[4, 2])
    progress = schedule.Progress(settings, (170, 256))
    w0 = progress.work[0]
    progress.stage_started(0)
    for t in (10.0, 11.0):  # 10 s of set-up and first iteration, then 1 s per iteration
        now[0] = t
        progress.step(0, 1.0)
    assert progress.seconds_left() == pytest.approx((1 / w0) * (2 * w0 + 2 * 1.0) + 10.0)
    now[0] = 12.0
    progress.step(0, 1.0)
    assert progress.seconds_left() == pytest.approx((2 / (2 * w0)) * (1 * w0 + 2) + 10.0)
    progress.close()
    fresh = schedule.Progress(settings, (170, 256))
    fresh.stage_started(0)
    fresh.step(0, 1.0)
    assert fresh.seconds_left() is None  # one iteration says nothing about the speed
    fresh.close()


def test_stop_tolerance_ends_each_stage_once_the_loss_is_flat(needs_weights):
    """stop_tolerance=f: a stage ends at the first iteration whose loss fell by less than f over the
    last FLAT_WINDOW iterations; the next stage still runs, and the best image is kept."""
    window = nh.settings.FLAT_WINDOW
    options = dict(size=96, stages=[64, 96], progress=False)
    flat = nh.stylize("chelsea", "swirl", stop_tolerance=0.02, iterations=[150, 150], **options)
    for stage in (0, 1):
        losses = [h["total"] for h in flat.history if h["stage"] == stage]
        assert window < len(losses) < 150
        assert losses[-1 - window] - min(losses[-window:]) < 0.02 * losses[-1 - window]  # flat at the end
        assert all(losses[i - window] - min(losses[i - window + 1:i + 1]) >= 0.02 * losses[i - window]
                   for i in range(window, len(losses) - 1))  # and not before
    coarse = [h["total"] for h in flat.history if h["stage"] == 0]
    full = nh.stylize("chelsea", "swirl", iterations=[len(coarse), 1], **options)  # no rule, as many steps
    assert [h["total"] for h in full.history[:len(coarse)]] == coarse  # the rule only ends stages early
    assert flat.loss == min(h["total"] for h in flat.history if h["stage"] == 1)
    with pytest.raises(OptionError, match="stop_tolerance must be a fraction"):
        nh.StyleSettings(stop_tolerance=1.5)
