"""Is the time budget kept?  And how good is the progress bar's estimate of the time left?

1. ``python -m nst_helpers stylize --size 512 --time-budget B`` in a fresh process for each
   budget B (default 30, 60 and 300 s): the whole-process wall time (importing TensorFlow,
   loading the weights and writing the PNG included) against B.  Target: within 15%.
2. A coarse-to-fine run without a budget (256 then 512 px): the progress bar's estimate
   of the time left (work units, one per iteration at the final size: ``schedule.Progress``)
   after the first tenth of the work, against the time that was actually left.  Target:
   error under 20%.

    cd benchmarks && ../.venv/bin/python time_budget.py [--budgets 30 60 300] [--size 512]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nst_helpers as nh
from nst_helpers.doctor import cpu_description
from nst_helpers.images import load_image

HERE = Path(__file__).resolve().parent


def budget_run(budget: float, size: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        command = [
            sys.executable,
            "-m",
            "nst_helpers",
            "stylize",
            "--size",
            str(size),
            "--time-budget",
            str(budget),
            "--quiet",
            "-o",
            str(Path(folder) / "out.png"),
        ]
        start = time.perf_counter()
        run = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent)
        wall = time.perf_counter() - start
    if run.returncode != 0:
        raise RuntimeError(run.stderr)
    saved = [line for line in run.stdout.splitlines() if line.startswith("saved")]
    return dict(
        budget=budget,
        wall=round(wall, 2),
        error=round(wall / budget - 1, 4),
        saved=saved[-1] if saved else "",
    )


def eta_run(size: int, stages, iterations) -> dict:
    """The bar's estimate (``schedule.Progress.seconds_left``) after a tenth of the work, and the truth."""
    import io

    from nst_helpers import optimise, schedule

    seen = []

    class Recording(schedule.Progress):
        def __init__(self, settings, shape):
            super().__init__(settings, shape, file=io.StringIO())

        def step(self, stage, loss):
            super().step(stage, loss)
            seen.append((time.perf_counter(), self.bar.n / self.bar.total, self.seconds_left()))

    original, optimise.Progress = optimise.Progress, Recording
    try:
        nh.stylize(load_image("chelsea"), "swirl", size=size, stages=stages, iterations=iterations)
    finally:
        optimise.Progress = original
    end = seen[-1][0]
    stamp, _, estimate = next(row for row in seen if row[1] >= 0.1 and row[2] is not None)
    actual = end - stamp
    return dict(
        stages=stages,
        iterations=iterations,
        estimate=round(estimate, 2),
        actual=round(actual, 2),
        error=round(estimate / actual - 1, 4),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=float, nargs="+", default=[30, 60, 300])
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    print(f"CPU: {cpu_description()}   date: {time.strftime('%Y-%m-%d')}   size {args.size} px")
    rows = []
    for budget in args.budgets:
        row = budget_run(budget, args.size)
        rows.append(row)
        print(
            f"budget {budget:5.0f} s: whole command {row['wall']:6.1f} s ({row['error']:+.1%})   "
            f"{row['saved']}",
            flush=True,
        )
    eta = eta_run(args.size, [args.size // 2, args.size], [60, 30])
    print(
        f"progress estimate after a tenth of the work ({eta['stages']} x {eta['iterations']}): "
        f"{eta['estimate']:.1f} s left, actually {eta['actual']:.1f} s ({eta['error']:+.1%})"
    )
    (HERE / "results" / "time_budget.json").write_text(
        json.dumps(
            dict(
                cpu=cpu_description(), date=time.strftime("%Y-%m-%d"), size=args.size, budgets=rows, eta=eta
            ),
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
