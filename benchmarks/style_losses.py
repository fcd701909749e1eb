"""Gram, Gaussian (W2) and sliced Wasserstein style losses, compared on held-out measures.

For each content/style pair, ``stylize`` runs once per ``style_loss`` at the same size and
iterations (seed 0), and prints, for the final images and for the images at equal wall
time (the Gram run's):

* the yardstick content error and Gram style error (``quality.Yardstick``, 512 px);
* a **held-out** sliced Wasserstein distance: at ``blockN_conv2`` (N = 1..5), layers no
  loss optimises, with 64 directions of its own (fixed seed), mean over layers of
  ``mean((sort(F_out d) - quantiles(sort(F_style d)))^2) / mean(sort(F_style d)^2)``.

It also times one loss-and-gradient step per representation at 384 px (median of 7,
interleaved, in this process) and writes a picture grid per pair and ``results/style_losses.json``.

    cd benchmarks && ../.venv/bin/python style_losses.py [--size 256] [--iterations 60]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from quality import Yardstick

import nst_helpers as nh
from nst_helpers.distributions import quantiles
from nst_helpers.doctor import cpu_description
from nst_helpers.images import load_image, resize, resize_long_side, save_image
from nst_helpers.model import build_extractor
from nst_helpers.settings import STYLE_LOSSES

HERE = Path(__file__).resolve().parent
PAIRS = ("chelsea:swirl", "astronaut:mosaic", "coffee:composition", "rocket:hubble")
HELD_OUT = [f"block{n}_conv2" for n in range(1, 6)]


class HeldOut:
    """Sliced Wasserstein distance at layers no loss optimises, with its own fixed directions."""

    def __init__(self, style, size: int, directions: int = 64, seed: int = 1234):
        self.extractor = build_extractor(HELD_OUT, pool_padding="valid")
        self.size = size
        rng = np.random.default_rng(seed)
        features = self.extractor(resize_long_side(style, size)[None])
        self.directions, self.targets = {}, {}
        for name in HELD_OUT:
            f = features[name].numpy().reshape(-1, features[name].shape[-1])
            d = rng.standard_normal((f.shape[1], directions)).astype(np.float32)
            d /= np.linalg.norm(d, axis=0, keepdims=True)
            self.directions[name], self.targets[name] = d, np.sort((f @ d).T, axis=1)

    def __call__(self, image) -> float:
        features = self.extractor(resize_long_side(image, self.size)[None])
        values = []
        for name in HELD_OUT:
            f = features[name].numpy().reshape(-1, features[name].shape[-1])
            projected = np.sort((f @ self.directions[name]).T, axis=1)
            target = quantiles(self.targets[name], projected.shape[1])
            values.append(np.mean((projected - target) ** 2) / np.mean(target**2))
        return float(np.mean(values))


def step_times(size: int, repeats: int = 7) -> dict:
    content = resize_long_side(load_image("chelsea"), size)
    style = resize_long_side(load_image("swirl"), size)
    objectives = {loss: nh.StyleObjective(content, [style], style_loss=loss) for loss in STYLE_LOSSES}
    image = tf.constant(content[None])
    times = {loss: [] for loss in objectives}
    for objective in objectives.values():
        objective.value_and_grad(image)
    for _ in range(repeats):
        for loss, objective in objectives.items():
            start = time.perf_counter()
            objective.value_and_grad(image)[1].numpy()
            times[loss].append(time.perf_counter() - start)
    return {loss: float(np.median(t)) for loss, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--pairs", nargs="+", default=list(PAIRS))
    args = parser.parse_args()
    print(
        f"CPU: {cpu_description()}   date: {time.strftime('%Y-%m-%d')}   {args.size} px, "
        f"{args.iterations} iterations, default weights"
    )
    steps = step_times(384)
    print(
        "step at 384 px: "
        + ", ".join(f"{k} {v:.3f} s ({v / steps['gram']:.2f}x gram)" for k, v in steps.items())
    )
    rows = []
    for pair in args.pairs:
        content_name, style_name = pair.split(":")
        content, style = load_image(content_name), load_image(style_name)
        yardstick, held_out = Yardstick(content, style), HeldOut(style, args.size)
        results = {
            loss: nh.stylize(
                content,
                style,
                size=args.size,
                iterations=args.iterations,
                style_loss=loss,
                init="content",  # the start of the recorded comparison: only the style loss differs
                frame_every=1,
                progress=False,
            )
            for loss in STYLE_LOSSES
        }
        equal_time = results["gram"].seconds
        for loss, result in results.items():
            seconds = [h["seconds"] for h in result.history]
            last = max([i for i, s in enumerate(seconds) if s <= equal_time] or [0])
            at_time = result.frames[last][1]
            content_error, style_error = yardstick(result.image)
            t_content, t_style = yardstick(at_time)
            row = dict(
                pair=pair,
                loss=loss,
                seconds=round(result.seconds, 1),
                content=round(content_error, 4),
                gram_style=round(style_error, 4),
                held_out_sw=round(held_out(result.image), 4),
                equal_time_iterations=last + 1,
                equal_time_content=round(t_content, 4),
                equal_time_gram_style=round(t_style, 4),
                equal_time_held_out_sw=round(held_out(at_time), 4),
            )
            rows.append(row)
            print(
                f"{pair:>20} {loss:>8}: {result.seconds:5.1f} s  content {content_error:.3f}  gram style "
                f"{style_error:.4f}  held-out SW {row['held_out_sw']:.4f}   | at {equal_time:.0f} s "
                f"(it. {last + 1}): content {t_content:.3f}, held-out SW {row['equal_time_held_out_sw']:.4f}",
                flush=True,
            )
        size = resize_long_side(content, args.size).shape[:2]
        grid = [resize(content, *size), resize(style, *size), *[r.image for r in results.values()]]
        save_image(
            np.concatenate(grid, axis=1),
            HERE / "results" / f"style_losses_{content_name}_{style_name}.jpg",
            overwrite=True,
        )
    for loss in ("gaussian", "sw"):
        gains = []
        for pair in args.pairs:
            gram = next(r for r in rows if r["pair"] == pair and r["loss"] == "gram")
            other = next(r for r in rows if r["pair"] == pair and r["loss"] == loss)
            gains.append(
                (1 - other["held_out_sw"] / gram["held_out_sw"], other["content"] / gram["content"] - 1)
            )
        print(
            f"{loss} vs gram, equal iterations: held-out SW lower by "
            + ", ".join(f"{g:+.0%}" for g, _ in gains)
            + "; content error "
            + ", ".join(f"{c:+.0%}" for _, c in gains)
        )
    (HERE / "results" / "style_losses.json").write_text(
        json.dumps(
            dict(
                cpu=cpu_description(),
                date=time.strftime("%Y-%m-%d"),
                size=args.size,
                iterations=args.iterations,
                step_seconds_384=steps,
                rows=rows,
            ),
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
