"""The package stands on its own: a wheel built from the repository carries the sample
images, and installed outside the repository it lists them and paints with them.

The wheel is built offline (``pip wheel --no-deps --no-build-isolation`` with this
environment's setuptools) from a copy of the build inputs (``pyproject.toml``,
``README.md``, ``nst_helpers/``) in a temporary folder, so that the build's ``build/``
and ``*.egg-info`` folders never land in the checkout.  It is installed with
``pip install --no-deps --target`` into an empty folder and run from another empty
folder with only that folder on ``PYTHONPATH``: the checkout's editable install must
not be what gets imported, and the tests check that it is not.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from nst_helpers.images import SAMPLES, fit_long_side, load_image

REPO = Path(__file__).resolve().parent.parent
BUILD_INPUTS = ["pyproject.toml", "README.md", "nst_helpers"]  # what pyproject.toml's build reads
OPTIONAL_BUILD_INPUTS = ["setup.py", "setup.cfg", "MANIFEST.in", "LICENSE", "LICENSE.txt", "LICENSE.md"]
TIMEOUT = 300  # seconds per subprocess; a healthy run takes a few seconds (pip) or ~20 s (stylize)


def _version(dist: str) -> tuple[int, ...] | None:
    try:
        text = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None
    return tuple(int(part) for part in text.split(".")[:2] if part.isdigit())


def _run(args, *, cwd, env=None, what) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{what} took over {TIMEOUT} s: {' '.join(map(str, args))}\n{exc.stdout}\n{exc.stderr}")
    if done.returncode != 0:
        pytest.fail(f"{what} failed (exit {done.returncode}): {' '.join(map(str, args))}\n"
                    f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}")
    return done


def _pip_env() -> dict:
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PYTHONNOUSERSITE="1")
    env.pop("PYTHONPATH", None)
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from the checkout's build inputs (offline)."""
    if importlib.util.find_spec("pip") is None:
        pytest.fail(f"pip is not installed in {sys.executable}; this test builds and installs a wheel with "
                    "it. "
                    "Install it: python -m ensurepip --upgrade")
    setuptools = _version("setuptools")
    if setuptools is None:
        pytest.fail(f"setuptools is not installed in {sys.executable}; it builds the wheel offline. "
                    "Install it: pip install 'setuptools>=64' wheel")
    if setuptools < (70, 1) and importlib.util.find_spec("wheel") is None:
        pytest.fail(f"setuptools {'.'.join(map(str, setuptools))} needs the 'wheel' package to build wheels "
                    "and "
                    f"it is not installed in {sys.executable}. Install it: pip install wheel")
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS + OPTIONAL_BUILD_INPUTS:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif path.is_file():
            shutil.copy2(path, source / name)
        elif name in BUILD_INPUTS:
            pytest.fail(f"{path} is missing: the wheel cannot be built")
    out = tmp_path_factory.mktemp("wheelhouse")
    env = _pip_env()
    args = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out)]
    if setuptools >= (64,):  # pyproject.toml's requirement: build with it, no download
        args.append("--no-build-isolation")
        env["PIP_NO_INDEX"] = "1"
    _run([*args, str(source)], cwd=source, env=env, what="building the wheel")
    wheels = sorted(out.glob("nst_helpers-*.whl"))
    assert len(wheels) == 1, (f"expected one nst_helpers wheel in {out}, "
                              f"found {[w.name for w in out.iterdir()]}")
    return wheels[0]


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed (no dependencies) into an empty folder; returns that folder."""
    target = tmp_path_factory.mktemp("target")
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", str(target),
          str(wheel)],
         cwd=wheel.parent, env=_pip_env(), what="installing the wheel with --target")
    assert (target / "nst_helpers" / "__init__.py").is_file(), sorted(p.name for p in target.iterdir())
    return target


def _installed_env(target: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(target), PYTHONNOUSERSITE="1", NST_OFFLINE="1")
    env.pop("NST_IMAGES_DIR", None)  # the packaged samples, not an override folder
    return env


def _inside(path: str | Path, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


def test_the_repository_keeps_one_copy_of_each_sample():
    for sample in SAMPLES.values():
        assert (REPO / "nst_helpers" / "samples" / sample.filename).is_file(), sample.filename
        assert not (REPO / "images" / sample.filename).exists(), (f"images/{sample.filename} duplicates "
                                                                  "the package's")


def test_wheel_contains_every_sample(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for sample in SAMPLES.values():
            member = f"nst_helpers/samples/{sample.filename}"
            assert member in names, f"{member} is not in {wheel.name}: check [tool.setuptools.package-data]"
            assert archive.getinfo(member).file_size == (REPO / member).stat().st_size, member
    assert "nst_helpers/images.py" in names and "nst_helpers/__main__.py" in names


def test_installed_wheel_lists_its_samples(installed, tmp_path):
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    done = _run([sys.executable, "-m", "nst_helpers", "samples"], cwd=workdir, env=_installed_env(installed),
                what="python -m nst_helpers samples (installed wheel)")
    lines = done.stdout.splitlines()
    assert len(lines) == len(SAMPLES), done.stdout
    for line, (name, sample) in zip(lines, SAMPLES.items()):
        fields = line.split()
        assert fields[:2] == [name, sample.kind], line
        path = Path(fields[-1])
        assert path.name == sample.filename and path.is_file(), line
        assert _inside(path,
                       installed), f"{name} is read from {path}, not from the installed wheel in {installed}"
    assert list(workdir.iterdir()) == []  # listing writes nothing


def test_installed_wheel_stylizes_a_sample_pair(installed, tmp_path, needs_weights):
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    code = (
        "import json, nst_helpers\n"
        "from nst_helpers.images import sample_path\n"
        "result = nst_helpers.stylize('chelsea', 'swirl', size=64, iterations=2, progress=False)\n"
        "path = nst_helpers.save_image(result.image, 'chelsea_swirl.png')\n"
        "print(json.dumps(dict(module=nst_helpers.__file__, chelsea=str(sample_path('chelsea')),\n"
        "                      swirl=str(sample_path('swirl')), saved=str(path.resolve()))))\n"
    )
    done = _run([sys.executable, "-c", code], cwd=workdir, env=_installed_env(installed),
                what="stylize with the installed wheel")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert _inside(report["module"], installed), (
        f"nst_helpers was imported from {report['module']}, not from the installed wheel in {installed}")
    assert _inside(report["chelsea"], installed) and _inside(report["swirl"], installed), report
    saved = workdir / "chelsea_swirl.png"
    assert Path(report["saved"]) == saved.resolve() and saved.is_file()
    image = load_image(saved)
    assert image.shape == (*fit_long_side(300, 451, 64), 3) and image.std() > 0.02
