"""Edge-to-interior ratios: is the picture painted to every edge?

For each pair and size, ``stylize`` runs with ``pool_padding="valid"`` (Keras' VGG19:
pooling drops an odd side's last row) and ``"same"`` (the default: it rounds up), and
prints :func:`nst_helpers.metrics.edge_ratios` for each side: the mean change from the
photo over the outer 6 pixels, divided by the interior's.  Target: at least 0.85 on
every side.  Writes ``results/edges.json`` and the pictures ``results/edges_<pair>_<size>.jpg``.

A third run is the control for what the photo itself does at a side: the photo mirrored by
``MARGIN`` pixels on every side (so each side's strip lies inside a larger picture, with
painted surroundings), painted with the style at the same pixel scale, then cropped back.
Where a side's ratio is low in the control too, its strip changes little because of what
is in it, not because it is an edge; ``edge / control`` then says how much the edge costs.

    cd benchmarks && ../.venv/bin/python edges.py [--sizes 200 256 384] [--iterations 60]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import nst_helpers as nh
from nst_helpers.doctor import cpu_description
from nst_helpers.images import load_image, resize_long_side, save_image
from nst_helpers.metrics import edge_ratios

HERE = Path(__file__).resolve().parent
PAIRS = ("chelsea:swirl", "astronaut:mosaic", "coffee:composition", "rocket:hubble")
MARGIN = 64  # px of mirrored photo around the control run: more than the strip, less than the photo
SIDES = ("top", "bottom", "left", "right")


def paint(photo, style_name, size, iterations, padding, margin=0):
    """stylize at ``size``; with ``margin``, the photo mirrored that far on every side and cropped back."""
    if margin:
        photo = np.pad(photo, ((margin, margin), (margin, margin), (0, 0)), mode="reflect")
    result = nh.stylize(
        photo,
        style_name,
        size=size + 2 * margin,
        style_scale=size / (size + 2 * margin),
        iterations=iterations,
        pool_padding=padding,
        init="content",  # the edge ratio measures |output - photo|: a recoloured start would move every pixel
        progress=False,
    )
    if margin:
        result.image = result.image[margin:-margin, margin:-margin]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 256, 384])
    parser.add_argument("--pairs", nargs="+", default=list(PAIRS))
    parser.add_argument("--iterations", type=int, default=60)
    args = parser.parse_args()
    available = set(nh.list_samples())
    pairs = [p for p in args.pairs if set(p.split(":")) <= available]
    print(f"CPU: {cpu_description()}   date: {time.strftime('%Y-%m-%d')}   iterations: {args.iterations}")
    rows = []
    for pair in pairs:
        content_name, style_name = pair.split(":")
        for size in args.sizes:
            photo = resize_long_side(load_image(content_name), size)
            pictures, ratios = [], {}
            for run, padding, margin in (
                ("valid", "valid", 0),
                ("same", "same", 0),
                ("control", "same", MARGIN),
            ):
                result = paint(photo, style_name, size, args.iterations, padding, margin)
                ratios[run] = edge_ratios(result.image, photo)
                rows.append(
                    dict(
                        pair=pair,
                        size=size,
                        shape=list(photo.shape[:2]),
                        run=run,
                        pool_padding=padding,
                        margin=margin,
                        seconds=round(result.seconds, 1),
                        **{k: round(v, 3) for k, v in ratios[run].items()},
                    )
                )
                pictures.append(result.image)
                print(
                    f"{pair:>18} {photo.shape[1]:>4}x{photo.shape[0]:<4} {run:>7}: "
                    + "  ".join(f"{k} {v:.2f}" for k, v in ratios[run].items())
                    + f"   min {min(ratios[run].values()):.2f}",
                    flush=True,
                )
            relative = {side: ratios["same"][side] / ratios["control"][side] for side in SIDES}
            rows.append(
                dict(
                    pair=pair,
                    size=size,
                    run="same / control",
                    **{k: round(v, 3) for k, v in relative.items()},
                )
            )
            print(
                f"{'':>18} {'':>9} same / control: " + "  ".join(f"{k} {v:.2f}" for k, v in relative.items()),
                flush=True,
            )
            save_image(
                np.concatenate(pictures, axis=1),
                HERE / "results" / f"edges_{content_name}_{style_name}_{size}.jpg",
                overwrite=True,
            )
    for run in ("same", "control", "same / control"):
        worst = min(min(r[side] for side in SIDES) for r in rows if r["run"] == run)
        print(f"worst side, {run}: {worst:.2f} (target >= 0.85)")
    (HERE / "results" / "edges.json").write_text(
        json.dumps(
            dict(
                cpu=cpu_description(),
                date=time.strftime("%Y-%m-%d"),
                iterations=args.iterations,
                margin=MARGIN,
                rows=rows,
            ),
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
