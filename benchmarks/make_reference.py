"""Compute the reference's 1000-iteration outputs once and keep them as artefacts.

    python benchmarks/make_reference.py --sizes 256 384 512 --pairs chelsea:swirl astronaut:mosaic

Writes ``benchmarks/artefacts/reference_CONTENT_STYLE_SIZE.png`` (the best image of the
seed loop) and ``.json`` (its yardstick errors every 25 iterations).  The artefact is
computed with the seed step wrapped in ``tf.function`` (same maths, faster); the
reference's *speed* is measured separately, eager, by ``bench.py``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import nst_helpers as nh
from nst_helpers.images import save_image

from quality import Yardstick
from reference import run_reference

ARTEFACTS = Path(__file__).resolve().parent / "artefacts"


def artefact_path(content, style, size, suffix):
    return ARTEFACTS / f"reference_{content}_{style}_{size}{suffix}"


def make(content_name, style_name, size, iterations, every=25):
    content = nh.load_sample(content_name, size)
    style = nh.load_sample(style_name, size)
    yardstick = Yardstick(nh.load_sample(content_name), nh.load_sample(style_name))
    trace = []

    def callback(i, loss, best):
        if (i + 1) % every == 0 or i == 0:
            c, s = yardstick(best)
            trace.append(dict(iteration=i + 1, loss=loss, content_error=c, style_error=s))

    start = time.perf_counter()
    best, _ = run_reference(content, style, iterations, callback=callback, compiled=True)
    content_error, style_error = yardstick(best)
    record = dict(content=content_name, style=style_name, size=size, iterations=iterations,
                  content_error=content_error, style_error=style_error, trace=trace,
                  compute_seconds=time.perf_counter() - start)
    save_image(best, artefact_path(content_name, style_name, size, ".png"), overwrite=True)
    artefact_path(content_name, style_name, size, ".json").write_text(json.dumps(record, indent=1))
    print(f"{content_name}+{style_name} {size}px: content {content_error:.4f} style {style_error:.4f} "
          f"({record['compute_seconds']:.0f} s)", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 384, 512])
    parser.add_argument("--pairs", nargs="+", default=["chelsea:swirl", "astronaut:mosaic"])
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--force", action="store_true", help="recompute existing artefacts")
    args = parser.parse_args()
    for size in args.sizes:
        for pair in args.pairs:
            content, style = pair.split(":")
            if args.force or not artefact_path(content, style, size, ".json").exists():
                make(content, style, size, args.iterations)


if __name__ == "__main__":
    main()
