"""The default command against the seed loop, on this machine, in one run.

    cd benchmarks && ../.venv/bin/python default_speed.py [--size 384] [--pair chelsea:swirl]

1. The seed loop's 1000 iterations: its eager seconds per iteration, measured here (median of 5
   after warm-up) before the runs and again after them, the mean of the two times 1000, so that a
   machine that speeds up or slows down during the benchmark moves both sides of the ratio; its
   quality is the 1000-iteration artefact's (make_reference.py).
2. ``stylize``'s default run (``bash scripts/run.sh``'s settings), the same with
   ``stop_tolerance`` (each stage ends once its loss fell by less than that fraction over the
   last 10 iterations) and with each ``--also`` set of options: wall time from the call,
   iterations, yardstick errors at the end, the first iteration that beats the seed's 1000 on
   both errors, and the ratio of wall times.  Target: at most 1/50 with quality at least the seed's.
   The runs' final pictures, side by side in the order printed: ``results/default_speed.jpg``
   (``default_speed_<content>_<style>.jpg`` and ``.json`` for another ``--pair``).
3. The share of this process's CPU time spent in the kernel (``getrusage``: system / (user +
   system)) during the default run.  Target: under 10%.
4. Thread settings for a 2-core machine, each in a fresh process: seconds per iteration of the
   compiled step under TensorFlow's defaults and under explicit intra-/inter-op pool sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
from bench import reference_seconds
from make_reference import artefact_path
from quality import Yardstick

import nst_helpers as nh
from nst_helpers.doctor import cpu_description

THREADS = {"TensorFlow's defaults": {}, "intra 2, inter 1": dict(TF_NUM_INTRAOP_THREADS="2",
                                                                  TF_NUM_INTEROP_THREADS="1"),
           "intra 1, inter 1": dict(TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1")}
SEED_REPEATS = 5  # eager seed iterations timed before the runs, and again after them
STEP_PROBE = """
import time, numpy as np, tensorflow as tf, nst_helpers as nh
content = nh.load_sample("chelsea", {size})
objective = nh.StyleObjective(content, nh.load_sample("swirl", {size}))
image = tf.constant(content[None]); objective.value_and_grad(image); objective.value_and_grad(image)
seconds = []
for _ in range(7):
    start = time.perf_counter()
    objective.value_and_grad(image)[1].numpy()
    seconds.append(time.perf_counter() - start)
print(float(np.median(seconds)))
"""


def cpu_seconds() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def run(content, style, size, yardstick, target, options):
    snapshots = []
    user0, system0 = cpu_seconds()
    start = time.perf_counter()
    result = nh.stylize(content, style, size=size, progress=False, **options,
                        callback=lambda i: snapshots.append((i.iteration, i.seconds, i.image.copy())))
    wall = time.perf_counter() - start
    user1, system1 = cpu_seconds()
    reached = None
    for iteration, seconds, image in snapshots:  # after the run: the yardstick costs no time of the run
        errors = yardstick(image)
        if errors[0] <= target[0] and errors[1] <= target[1]:
            reached = dict(iteration=iteration, seconds=round(seconds, 1))
            break
    content_error, style_error = yardstick(result.image)
    return result.image, dict(options=options, wall=round(wall, 2), iterations=result.iterations,
                content_error=round(content_error, 3), style_error=round(style_error, 4), reached=reached,
                kernel_share=round((system1 - system0) / max(user1 - user0 + system1 - system0, 1e-9), 3))


def step_seconds(size, environment):
    out = subprocess.run([sys.executable, "-c", STEP_PROBE.format(size=size)], capture_output=True, text=True,
                         env={**os.environ, **environment}, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=nh.StyleSettings.default("size"))
    parser.add_argument("--pair", default="chelsea:swirl")
    parser.add_argument("--tolerances", type=float, nargs="*", default=[0.01, 0.02, 0.05])
    parser.add_argument("--also", nargs="*", default=[], metavar="OPTIONS",
                        help='more runs, each "name=value ..." of stylize options (JSON values), '
                             'e.g. "iterations=25 style_weight=40"')
    args = parser.parse_args()
    content_name, style_name = args.pair.split(":")
    record = json.loads(artefact_path(content_name, style_name, args.size, ".json").read_text())
    target = record["content_error"], record["style_error"]
    content, style = nh.load_sample(content_name), nh.load_sample(style_name)
    yardstick = Yardstick(content, style)
    print(f"{cpu_description()}; {args.pair} at {args.size} px", flush=True)
    small = nh.resize_long_side(content, args.size), nh.resize_long_side(style, args.size)
    seed_before = reference_seconds(*small, repeats=SEED_REPEATS)
    print(f"seed loop before the runs: {seed_before:.3f} s/iteration", flush=True)
    runs = {"default": {}}
    runs.update({f"stop_tolerance={t:g}": dict(stop_tolerance=t) for t in args.tolerances})
    for spec in args.also:
        runs[spec] = {key: json.loads(value) for key, value in (item.split("=", 1) for item in spec.split())}
    pictures, rows = [], {}
    for label, options in runs.items():
        picture, rows[label] = run(content, style, args.size, yardstick, target, options)
        pictures.append(picture)
    seed_after = reference_seconds(*small, repeats=SEED_REPEATS)
    seed_step = (seed_before + seed_after) / 2
    seed_wall = 1000 * seed_step
    print(f"seed loop after the runs: {seed_after:.3f} s/iteration; mean {seed_step:.3f} -> "
          f"{seed_wall:.0f} s for 1000; errors {target[0]:.3f} / {target[1]:.4f}", flush=True)
    for label, row in rows.items():
        better = row["content_error"] <= target[0] and row["style_error"] <= target[1]
        ratio = seed_wall / row["wall"]
        print(f"{label:22s} {row['iterations']:4d} it. {row['wall']:6.1f} s = 1/{ratio:.0f} of "
              f"the seed's; errors {row['content_error']:.3f} / {row['style_error']:.4f} "
              f"({'at least' if better else 'NOT'} the seed's); beats it at {row['reached']}; "
              f"kernel share {row['kernel_share']:.1%}", flush=True)
    threads = {label: step_seconds(args.size, environment) for label, environment in THREADS.items()}
    for label, seconds in threads.items():
        print(f"step at {args.size} px, {label:22s}: {seconds:.3f} s", flush=True)
    out = dict(cpu=cpu_description(), date=time.strftime("%Y-%m-%d %H:%M"), pair=args.pair, size=args.size,
               seed=dict(step=seed_step, before=seed_before, after=seed_after, wall=seed_wall, errors=target),
               runs=rows, threads=threads)
    results = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    stem = "default_speed" if args.pair == "chelsea:swirl" else f"default_speed_{content_name}_{style_name}"
    nh.save_image(np.concatenate(pictures, axis=1), os.path.join(results, f"{stem}.jpg"), overwrite=True)
    out["pictures"] = f"results/{stem}.jpg, left to right: {', '.join(rows)}"
    path = os.path.join(results, f"{stem}.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
