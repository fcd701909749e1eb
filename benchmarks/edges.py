"""Edge-to-interior ratios: is the picture painted to every edge?

For each pair and size, ``stylize`` runs with ``pool_padding="valid"`` (Keras' VGG19:
pooling drops an odd side's last row) and ``"same"`` (the default: it rounds up), and
prints :func:`nst_helpers.metrics.edge_ratios` for each side: the mean change from the
photo over the outer 6 pixels, divided by the interior's.  Target: at least 0.85 on
every side.  Writes ``results/edges.json`` and the pictures ``results/edges_<pair>_<size>.jpg``.

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
            pictures = []
            for padding in ("valid", "same"):
                result = nh.stylize(
                    photo,
                    style_name,
                    size=size,
                    iterations=args.iterations,
                    pool_padding=padding,
                    progress=False,
                )
                ratios = edge_ratios(result.image, photo)
                rows.append(
                    dict(
                        pair=pair,
                        size=size,
                        shape=list(photo.shape[:2]),
                        pool_padding=padding,
                        seconds=round(result.seconds, 1),
                        **{k: round(v, 3) for k, v in ratios.items()},
                    )
                )
                pictures.append(result.image)
                print(
                    f"{pair:>18} {photo.shape[1]:>4}x{photo.shape[0]:<4} {padding:>5}: "
                    + "  ".join(f"{k} {v:.2f}" for k, v in ratios.items())
                    + f"   min {min(ratios.values()):.2f}",
                    flush=True,
                )
            save_image(
                np.concatenate(pictures, axis=1),
                HERE / "results" / f"edges_{content_name}_{style_name}_{size}.jpg",
                overwrite=True,
            )
    worst = min(
        min(r[s] for s in ("top", "bottom", "left", "right")) for r in rows if r["pool_padding"] == "same"
    )
    print(f'worst side with pool_padding="same": {worst:.2f} (target >= 0.85)')
    (HERE / "results" / "edges.json").write_text(
        json.dumps(
            dict(
                cpu=cpu_description(), date=time.strftime("%Y-%m-%d"), iterations=args.iterations, rows=rows
            ),
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
