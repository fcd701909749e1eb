"""Speed, memory and time-to-quality of stylize against the seed tutorial's loop.

    python benchmarks/bench.py                      # full report (needs the reference artefacts)
    python benchmarks/bench.py --sizes 256 --quick  # smoke run

Reports, in one process and one run:
* the float32 and bfloat16 matmul peak of this machine (GFLOP/s);
* per size: seconds per iteration of the reference's eager step and of our compiled
  float32 / bfloat16 steps, the FLOPs of one loss-and-gradient evaluation and the
  achieved GFLOP/s;
* per size and image pair: time to quality, i.e. the wall time until stylize's output
  is at least as good as the reference's 1000-iteration output on both yardstick
  errors (see quality.py), against the reference's wall time (1000 x its eager s/it);
* peak RSS of a default 512 px stylize, in a fresh process.
Figures go to stdout, ``benchmarks/results/latest.json`` and a plot of error against
seconds, ``benchmarks/results/error_vs_seconds.png``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import nst_helpers as nh  # noqa: F401  (quietens TensorFlow's log before it loads)
import numpy as np
import tensorflow as tf

from nst_helpers.model import CONTENT_LAYERS, STYLE_LAYERS, VGG19_LAYERS
from nst_helpers.optimise import StyleObjective, stylize
from nst_helpers.weights import VGG19_CONV_SHAPES

from make_reference import artefact_path
from quality import Yardstick
from reference import run_reference

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


# ------------------------------------------------------------------ machine peak
def matmul_peak(dtype=tf.float32, n=2048, repeats=20):
    """GFLOP/s of a compiled chain of n x n matmuls (the best this machine does)."""
    a = tf.random.stateless_normal((n, n), seed=(1, 2), dtype=tf.float32)
    a = tf.cast(a / np.sqrt(n), dtype)

    @tf.function
    def chain(x):
        for _ in range(repeats):
            x = tf.matmul(x, a)
        return x

    chain(a)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        chain(a).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 * repeats / best / 1e9


# ------------------------------------------------------------------ FLOPs
def step_flops(height, width, content_layers=CONTENT_LAYERS, style_layers=STYLE_LAYERS):
    """FLOPs of one loss-and-gradient evaluation (multiply-adds count 2).

    Forward convolutions up to the deepest layer used, their input gradients (the
    same count again; the frozen weights need no gradient), and each style layer's
    Gram matrix forward and backward (2 * positions * channels^2 each).
    """
    deepest = max([*content_layers, *style_layers], key=VGG19_LAYERS.index)
    h, w, conv = height, width, 0.0
    for name in VGG19_LAYERS[: VGG19_LAYERS.index(deepest) + 1]:
        if name.endswith("_pool"):
            h, w = h // 2, w // 2
            continue
        kh, kw, cin, cout = VGG19_CONV_SHAPES[name]
        conv += 2.0 * h * w * kh * kw * cin * cout
        if name in style_layers:
            conv += 2 * (2.0 * h * w * cout * cout)
    return 2 * conv


# ------------------------------------------------------------------ per-iteration speed
def _time(fn, repeats):
    fn()
    fn()  # warm-up: tracing, oneDNN primitive caches
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return float(np.median(samples))


def reference_seconds(content, style, repeats):
    """Median seconds of one eager iteration of the reference (after two warm-up iterations)."""
    _, seconds = run_reference(content, style, iterations=2 + repeats)
    return float(np.median(seconds[2:]))


def step_seconds(content, style, repeats):
    """Median seconds of one iteration: reference (eager), compiled float32, compiled bfloat16."""
    figures = {"reference_eager": reference_seconds(content, style, repeats)}
    image = tf.constant(content[None])
    for precision in ("float32", "bfloat16"):
        objective = StyleObjective(content, style, precision=precision)
        figures[f"compiled_{precision}"] = _time(lambda: objective.value_and_grad(image)[1].numpy(), repeats)
    return figures


# ------------------------------------------------------------------ time to quality
def time_to_quality(content_name, style_name, size, variants, max_iterations):
    """Run each stylize variant, snapshot every iteration, find when it beats the reference."""
    record = json.loads(artefact_path(content_name, style_name, size, ".json").read_text())
    target = (record["content_error"], record["style_error"])
    content, style = nh.load_sample(content_name), nh.load_sample(style_name)
    yardstick = Yardstick(content, style)
    out = {"reference": dict(content_error=target[0], style_error=target[1],
                             trace=record["trace"])}
    for label, options in variants.items():
        snapshots = []
        result = stylize(content, style, size=size, iterations=max_iterations, progress=False,
                         callback=lambda info: snapshots.append((info.seconds, info.iteration,
                                                                 info.image.copy())),
                         **options)
        trace, reached = [], None
        for seconds, iteration, image in snapshots:
            c, s = yardstick(image)
            trace.append(dict(seconds=seconds, iteration=iteration, content_error=c, style_error=s))
            if reached is None and c <= target[0] and s <= target[1]:
                reached = dict(seconds=seconds, iteration=iteration)
        final = yardstick(result.image)
        out[label] = dict(options=options, reached=reached, final_content_error=final[0],
                          final_style_error=final[1], seconds=result.seconds, iterations=result.iterations,
                          trace=trace)
    return out


def peak_rss_mib(size, iterations, options):
    """Peak RSS of a fresh process that runs stylize at ``size`` (includes TensorFlow itself).

    Read from ``VmHWM`` in ``/proc/self/status``, not ``ru_maxrss``: Linux carries a
    process's ``ru_maxrss`` across fork and exec, so a child of this (large) benchmark
    process would report at least the parent's size.
    """
    code = (
        "import nst_helpers as nh\n"
        f"nh.stylize('chelsea', 'swirl', size={size}, iterations={iterations}, progress=False, "
        f"**{options!r})\n"
        "hwm = [line for line in open('/proc/self/status') if line.startswith('VmHWM:')][0]\n"
        "print(int(hwm.split()[1]) / 1024)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(output.stdout.strip().splitlines()[-1])


def plot(report, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = report["time_to_quality"]
    fig, axes = plt.subplots(len(runs), 2, figsize=(12, 3.2 * len(runs)), squeeze=False)
    for row, (key, run) in enumerate(runs.items()):
        ref_seconds = run["reference"]["eager_seconds_per_iteration"]
        for col, error in enumerate(("content_error", "style_error")):
            ax = axes[row, col]
            trace = run["reference"]["trace"]
            ax.plot([t["iteration"] * ref_seconds for t in trace], [t[error] for t in trace], "k-",
                    label="reference (seed loop, eager Adam)")
            for label, variant in run.items():
                if label == "reference":
                    continue
                ax.plot([t["seconds"] for t in variant["trace"]], [t[error] for t in variant["trace"]],
                        label=label)
            ax.axhline(run["reference"][error], color="k", ls=":", lw=1)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("seconds")
            ax.set_title(f"{key}: {error.replace('_', ' ')}")
            ax.grid(alpha=0.3)
            if row == 0 and col == 0:
                ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 384, 512])
    parser.add_argument("--pairs", nargs="+", default=["chelsea:swirl", "astronaut:mosaic"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-iterations", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="speed figures only, no time to quality")
    args = parser.parse_args()

    report = dict(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), machine=platform.processor() or
                  platform.machine(), python=platform.python_version(), tensorflow=tf.__version__,
                  cpu_count=__import__("os").cpu_count(), speed={}, time_to_quality={})
    report["matmul_peak_gflops"] = {"float32": matmul_peak(tf.float32), "bfloat16": matmul_peak(tf.bfloat16)}
    print(f"matmul peak: float32 {report['matmul_peak_gflops']['float32']:.0f} GFLOP/s, "
          f"bfloat16 {report['matmul_peak_gflops']['bfloat16']:.0f} GFLOP/s", flush=True)

    content_name, style_name = args.pairs[0].split(":")
    for size in args.sizes:
        content, style = nh.load_sample(content_name, size), nh.load_sample(style_name, size)
        figures = step_seconds(content, style, args.repeats)
        flops = step_flops(*content.shape[:2])
        figures["gflop_per_step"] = flops / 1e9
        for key in ("compiled_float32", "compiled_bfloat16", "reference_eager"):
            figures[f"{key}_gflops"] = flops / figures[key] / 1e9
        report["speed"][str(size)] = figures
        print(f"{size}px ({content.shape[1]}x{content.shape[0]}): {flops / 1e9:.1f} GFLOP/step | "
              f"reference eager {figures['reference_eager']:.3f} s/it | compiled f32 "
              f"{figures['compiled_float32']:.3f} s/it "
              f"({figures['compiled_float32_gflops']:.0f} GFLOP/s, "
              f"{figures['compiled_float32_gflops'] / report['matmul_peak_gflops']['float32']:.0%} of peak) "
              "| "
              f"bf16 {figures['compiled_bfloat16']:.3f} s/it "
              f"({figures['compiled_bfloat16_gflops']:.0f} GFLOP/s, "
              f"{figures['compiled_bfloat16_gflops'] / report['matmul_peak_gflops']['bfloat16']:.0%} "
              "of bf16 peak) | "
              f"bf16 vs f32 {figures['compiled_float32'] / figures['compiled_bfloat16']:.2f}x | "
              f"speed-up vs reference {figures['reference_eager'] / figures['compiled_float32']:.2f}x f32, "
              f"{figures['reference_eager'] / figures['compiled_bfloat16']:.2f}x bf16", flush=True)

    if not args.quick:
        variants = {"stylize default": {}, "stylize bfloat16": {"precision": "bfloat16"}}
        for size in args.sizes:
            for pair in args.pairs:
                content_name, style_name = pair.split(":")
                if not artefact_path(content_name, style_name, size, ".json").exists():
                    print(f"skip {pair}@{size}: no reference artefact (run make_reference.py)")
                    continue
                run = time_to_quality(content_name, style_name, size, variants, args.max_iterations)
                key = f"{pair}@{size}"
                report["time_to_quality"][key] = run
                # the reference's wall time on *this* pair (a square picture has more pixels)
                per_iteration = (report["speed"][str(size)]["reference_eager"] if pair == args.pairs[0] else
                                 reference_seconds(nh.load_sample(content_name, size),
                                                   nh.load_sample(style_name, size), args.repeats))
                run["reference"]["eager_seconds_per_iteration"] = per_iteration
                reference_wall = run["reference"]["wall_seconds"] = 1000 * per_iteration
                for label, variant in run.items():
                    if label == "reference":
                        continue
                    reached = variant["reached"]
                    text = (f"{reached['seconds']:.1f} s (iteration {reached['iteration']}), "
                            f"1/{reference_wall / reached['seconds']:.0f} of the reference's "
                            f"{reference_wall:.0f} s"
                            if reached else f"not reached in {variant['iterations']} iterations")
                    print(f"{key} {label}: time to quality {text}; final errors content "
                          f"{variant['final_content_error']:.4f} style {variant['final_style_error']:.4f} vs "
                          f"reference {run['reference']['content_error']:.4f} / "
                          f"{run['reference']['style_error']:.4f}", flush=True)
        report["peak_rss_mib_512"] = {
            "float32": peak_rss_mib(512, 10, {}),
            "bfloat16": peak_rss_mib(512, 10, {"precision": "bfloat16"})}
        print(f"peak RSS, default stylize at 512 px: {report['peak_rss_mib_512']['float32']:.0f} MiB "
              f"float32, {report['peak_rss_mib_512']['bfloat16']:.0f} MiB bfloat16", flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=1))
    if report["time_to_quality"]:
        plot(report, RESULTS / "error_vs_seconds.png")
    print(f"wrote {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    main()
