"""A 2048 px long-side picture, coarse to fine, with its time and peak memory.

Runs ``nh.stylize`` over the stages (default 512 -> 1024 -> 2048 px, 100/40/20 L-BFGS
iterations), records each stage's wall time and the process's peak RSS
(``ru_maxrss``) next to :func:`nst_helpers.estimate_peak_bytes`, saves the picture
as a JPEG and writes ``benchmarks/RESULTS_highres.md``::

    .venv/bin/python benchmarks/highres.py                       # the recorded run (~1-2 hours on 2 cores)
    .venv/bin/python benchmarks/highres.py --stages 128 256 --iterations 5 3 \\
        --output /tmp/small.jpg --results /tmp/RESULTS_small.md  # a quick smoke test

The calibration of the memory model (``benchmarks/memory_calibration.py``) is
included in the report when ``benchmarks/memory_calibration.json`` exists.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GIB = 1024 ** 3


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def save_jpeg(image, path: Path, quality: int, max_bytes: int) -> int:
    """Save as JPEG at ``quality``; lower it in steps of 5 only if the file would pass ``max_bytes``."""
    import nst_helpers as nh

    while True:
        nh.save_image(image, path, overwrite=True, quality=quality)
        if path.stat().st_size <= max_bytes or quality <= 60:
            return quality
        quality -= 5


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content", default="chelsea")
    parser.add_argument("--style", default="swirl")
    parser.add_argument("--stages", type=int, nargs="+", default=[512, 1024, 2048])
    parser.add_argument("--iterations", type=int, nargs="+", default=[100, 40, 20])
    parser.add_argument("--output", default=str(ROOT / "images" / "gallery" / "chelsea_swirl_2048.jpg"))
    parser.add_argument("--quality", type=int, default=90)
    parser.add_argument("--max-bytes", type=int, default=1_500_000)
    parser.add_argument("--results", default=str(HERE / "RESULTS_highres.md"))
    args = parser.parse_args(argv)

    import nst_helpers as nh  # first: it quietens TensorFlow's start-up log

    import psutil
    import tensorflow as tf
    from nst_helpers.images import fit_long_side

    command = " ".join(["python benchmarks/highres.py", *(argv if argv is not None else sys.argv[1:])])
    content = nh.load_image(args.content)
    layers = list(nh.CONTENT_LAYERS) + list(nh.STYLE_LAYERS)
    shapes = [fit_long_side(*content.shape[:2], s) for s in args.stages]
    stages = {i: dict(size=s, shape=shape, iterations=n, estimate=nh.estimate_peak_bytes(*shape, layers))
              for i, (s, shape, n) in enumerate(zip(args.stages, shapes, args.iterations))}
    load_before = os.getloadavg()
    print(f"{datetime.datetime.now():%Y-%m-%d %H:%M}  {cpu_name()}, {os.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / GIB:.0f} GiB; load {load_before[0]:.1f}", flush=True)
    for i, stage in stages.items():
        print(f"stage {i}: {stage['shape'][1]}x{stage['shape'][0]} px, {stage['iterations']} iterations, "
              f"estimated peak {stage['estimate'] / GIB:.1f} GiB", flush=True)

    marks = {"start": time.perf_counter()}

    def callback(info):
        stages[info.stage]["peak_rss_so_far"] = peak_rss()  # ru_maxrss only grows: the last value of a stage
        stages[info.stage].setdefault("first_iteration_at", info.seconds)
        stages[info.stage]["seconds_end"] = info.seconds
        stages[info.stage]["done"] = stages[info.stage].get("done", 0) + 1
        done = stages[info.stage]["done"]
        if done == 1 or done % 10 == 0 or done == stages[info.stage]["iterations"]:
            print(f"  stage {info.stage} iteration {done}/{stages[info.stage]['iterations']}  "
                  f"{info.seconds:7.0f} s  loss {info.losses['total']:.4g}  rss "
                  f"{psutil.Process().memory_info().rss / GIB:.1f} GiB",
                  flush=True)
        return False

    result = nh.stylize(content, args.style, size=args.stages[-1], stages=args.stages,
                        iterations=args.iterations, init="content", progress=False, callback=callback, seed=0)
    total = time.perf_counter() - marks["start"]
    load_after = os.getloadavg()
    output = Path(args.output)
    quality = save_jpeg(result.image, output, args.quality, args.max_bytes)
    previous_end = 0.0
    for stage in stages.values():  # stage wall time includes building its objective
        stage["seconds"] = stage.get("seconds_end", previous_end) - previous_end
        previous_end = stage.get("seconds_end", previous_end)

    peak = peak_rss()
    figures = dict(date=f"{datetime.datetime.now():%Y-%m-%d}", cpu=cpu_name(), cores=os.cpu_count(),
                   memory_gib=round(psutil.virtual_memory().total / GIB, 1), tensorflow=tf.__version__,
                   command=command, seconds=total, peak_rss=peak, iterations=result.iterations,
                   loss=result.loss, stopped=result.stopped, output=str(output), quality=quality,
                   jpeg_bytes=output.stat().st_size, shape=list(result.image.shape[:2]),
                   load=[load_before[0], load_after[0]], stages=list(stages.values()),
                   machine_bytes=psutil.virtual_memory().total)
    Path(args.results).with_suffix(".json").write_text(json.dumps(figures, indent=1, default=str))
    write_report(Path(args.results), figures)
    print(f"done: {total:.0f} s, peak RSS {peak / GIB:.2f} GiB, {output} ({output.stat().st_size / 1e6:.2f} "
          "MB, "
          f"quality {quality})", flush=True)
    return 0


def write_report(path: Path, f: dict) -> None:
    rel = os.path.relpath(f["output"], ROOT) if os.path.isabs(f["output"]) else f["output"]
    lines = [
        "# High resolution: a 2048 px picture on a 2-core CPU",
        "",
        f"- Date: {f['date']}",
        f"- Machine: {f['cpu']} ({f['cores']} cores), {f['memory_gib']} GiB RAM, CPU only, TensorFlow "
        f"{f['tensorflow']}. The machine was shared with other jobs (load average {f['load'][0]:.1f} at the "
        "start, "
        f"{f['load'][1]:.1f} at the end, on 2 cores), so times are pessimistic.",
        f"- Command: `{f['command']}`: `nh.stylize(\"chelsea\", \"swirl\", size={f['stages'][-1]['size']}, "
        f"stages={[x['size'] for x in f['stages']]}, iterations={[x['iterations'] for x in f['stages']]}, "
        "init=\"content\", seed=0)`, "
        "every other setting at `stylize`'s defaults (L-BFGS, float32). The same from the command line: "
        "`python -m nst_helpers stylize chelsea swirl --stages "
        f"{' '.join(str(x['size']) for x in f['stages'])} "
        f"--iterations {' '.join(str(x['iterations']) for x in f['stages'])} --init content -o picture.jpg`.",
        "",
        f"**Result**: `{rel}`, {f['shape'][1]}x{f['shape'][0]} px, {f['iterations']} L-BFGS iterations in "
        f"**{f['seconds'] / 60:.1f} minutes**, **peak RSS {f['peak_rss'] / GIB:.2f} GiB** "
        f"(JPEG quality {f['quality']}, {f['jpeg_bytes'] / 1e6:.2f} MB). "
        + ("No tiling was needed: the estimate for the largest stage "
           f"({f['stages'][-1]['estimate'] / GIB:.1f} GiB) fits in this machine's {f['memory_gib']} GiB."
           if f["stages"][-1]["estimate"] <= f["machine_bytes"] else ""),
        "",
        "| stage | size (w x h) | iterations | wall time | s / iteration | peak RSS so far | estimate "
        "(memory.py) |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, s in enumerate(f["stages"]):
        done = s.get("done", 0)
        per = s["seconds"] / done if done else float("nan")
        lines.append(f"| {i} | {s['shape'][1]} x {s['shape'][0]} | {done} | {s['seconds'] / 60:.1f} min | "
                     f"{per:.1f} s "
                     f"| {s.get('peak_rss_so_far', 0) / GIB:.2f} GiB | {s['estimate'] / GIB:.2f} GiB |")
    last = f["stages"][-1]
    lines += ["", "Wall time per stage includes building its objective (VGG features of the content and "
              "style at that size) and L-BFGS's extra function evaluations in line searches. Peak RSS is "
              "`ru_maxrss` of the process, which only grows, read after each iteration. The measured peak is "
              f"{100 * (1 - f['peak_rss'] / last['estimate']):.0f}% under `memory.py`'s estimate for the "
              "last stage."]
    if f.get("note"):
        lines += ["", f["note"]]
    calibration = HERE / "memory_calibration.json"
    if calibration.exists():
        c = json.loads(calibration.read_text())
        lines += ["", "## Memory model calibration", "",
                  "`nst_helpers/memory.py` estimates a stage's peak RSS as "
                  "`SAFETY * (BASE + k * activation_bytes + optimiser_bytes)`; `activation_bytes` counts "
                  "every VGG19 output up to the deepest layer used (float32), the optimiser state is exact "
                  "arithmetic (L-BFGS: 2m + 9 float64 vectors of the image, m = 10; Adam: 6 float32 "
                  "vectors). `k` and `BASE` are a least-squares fit of the peak RSS of fresh processes "
                  "running 3 iterations of one stage "
                  f"(`{c['command']}`, {c['date']}): fit k = {c['factor']:.2f}, BASE = {c['base'] / GIB:.2f} "
                  "GiB; "
                  f"memory.py uses k = {c['memory_py']['factor']:.2f}, BASE = "
                  f"{c['memory_py']['base'] / GIB:.2f} GiB "
                  f"and SAFETY = {c['memory_py']['safety']:.2f}.", "",
                  "| optimizer | size | image (h x w) | measured peak | fitted | estimate (with safety) |",
                  "|---|---|---|---|---|---|"]
        for r in c["rows"]:
            lines.append(f"| {r['optimizer']} | {r['size']} | {r['shape'][0]} x {r['shape'][1]} | "
                         f"{r['peak'] / GIB:.2f} GiB | {r['fitted'] / GIB:.2f} GiB | "
                         f"{r['estimate'] / GIB:.2f} GiB |")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
