"""Calibrate :mod:`nst_helpers.memory`: measured peak RSS against the activation model.

Each measurement is a fresh Python process that runs one stage of
``nh.stylize("chelsea", "swirl", size=S, stages=[S], iterations=3)`` and reports its
peak resident set size (``ru_maxrss``).  The script then fits

    peak - optimiser_bytes = BASE + k * activation_bytes

by least squares and prints the fit, the constants in ``nst_helpers/memory.py`` and
each point's estimate, so the two can be compared::

    .venv/bin/python benchmarks/memory_calibration.py                 # default sizes
    .venv/bin/python benchmarks/memory_calibration.py --sizes 256 512 --optimizers lbfgs

It writes ``benchmarks/memory_calibration.json``, which ``benchmarks/highres.py`` puts in
its report.  ``--from-log FILE`` refits the JSON lines a previous run printed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys

import numpy as np

CHILD = r"""
import json, resource, sys, time
import nst_helpers as nh
size, optimizer = int(sys.argv[1]), sys.argv[2]
start = time.perf_counter()
result = nh.stylize("chelsea", "swirl", size=size, stages=[size], iterations=3, optimizer=optimizer,
                    progress=False)
print(json.dumps(dict(size=size, optimizer=optimizer, shape=list(result.image.shape[:2]),
                      peak=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                      seconds=time.perf_counter() - start)))
"""


def measure(size: int, optimizer: str) -> dict:
    env = dict(os.environ, NST_MEMORY_LIMIT="off")
    run = subprocess.run([sys.executable, "-c", CHILD, str(size), optimizer], env=env,
                         capture_output=True, text=True)
    if run.returncode:
        raise SystemExit(f"size {size} {optimizer} failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 768, 1024])
    parser.add_argument("--optimizers", nargs="+", default=["lbfgs", "adam"])
    parser.add_argument("--from-log", help="refit the JSON lines of an earlier run instead of measuring")
    parser.add_argument("--json", default=os.path.join(os.path.dirname(__file__), "memory_calibration.json"))
    args = parser.parse_args()

    from nst_helpers import memory
    from nst_helpers.model import CONTENT_LAYERS, STYLE_LAYERS

    layers = list(CONTENT_LAYERS) + list(STYLE_LAYERS)
    rows = []
    if args.from_log:
        measured = [json.loads(line) for line in open(args.from_log) if line.startswith("{")]
    else:
        measured = (measure(size, optimizer) for optimizer in args.optimizers for size in args.sizes)
    for row in measured:
        h, w = row["shape"]
        row["activations"] = memory.activation_values(h, w, layers) * 4
        row["optimiser"] = memory.optimizer_bytes(h, w, row["optimizer"])
        row["estimate"] = memory.estimate_peak_bytes(h, w, layers, row["optimizer"])
        rows.append(row)
        print(json.dumps(row), flush=True)
    x = np.array([[1.0, r["activations"]] for r in rows])
    y = np.array([r["peak"] - r["optimiser"] for r in rows], dtype=float)
    (base, factor), *_ = np.linalg.lstsq(x, y, rcond=None)
    gib = 1024 ** 3
    print(f"\nfit: BASE = {base / gib:.2f} GiB, ACTIVATION_FACTOR = {factor:.2f}")
    print(f"in memory.py: BASE = {memory.BASE_BYTES / gib:.2f} GiB, ACTIVATION_FACTOR = "
          f"{memory.ACTIVATION_FACTOR:.2f}, SAFETY = {memory.SAFETY:.2f}\n")
    print("| optimizer | size | image (h x w) | measured peak | fitted | estimate (with safety) | seconds |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        fitted = r["fitted"] = base + factor * r["activations"] + r["optimiser"]
        print(f"| {r['optimizer']} | {r['size']} | {r['shape'][0]} x {r['shape'][1]} | {r['peak'] / gib:.2f} "
              "GiB "
              f"| {fitted / gib:.2f} GiB | {r['estimate'] / gib:.2f} GiB | {r['seconds']:.0f} |")
    _save(args.json, rows, float(base), float(factor), "python benchmarks/memory_calibration.py" + (
        "" if args.from_log else " " + " ".join(sys.argv[1:])))


def _save(path, rows, base, factor, command):
    from nst_helpers import memory

    payload = dict(date=f"{datetime.date.today()}", command=command, base=base, factor=factor, rows=rows,
                   memory_py=dict(base=memory.BASE_BYTES, factor=memory.ACTIVATION_FACTOR,
                                  safety=memory.SAFETY))
    with open(path, "w") as handle:
        json.dump(payload, handle, indent=1)


if __name__ == "__main__":
    main()
