"""The bundled sample images: their names, and where their files are.

The sample images ship inside the package (``nst_helpers/samples/``, package data), so
they are there in a clone, an editable install and an installed wheel alike.  The
environment variable ``NST_IMAGES_DIR`` swaps in another folder holding the same file
names (read once, at import: :data:`SAMPLES_OVERRIDE_DIR`).

Every name here is also importable from :mod:`nst_helpers.images` (``nh.images.sample_path``),
where the loaders that read them live.
"""

from __future__ import annotations

import atexit
import contextlib
import difflib
import importlib.resources
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ImageError

__all__ = [
    "SAMPLES_ENV", "SAMPLES_OVERRIDE_DIR", "REINSTALL_HINT", "Sample", "SAMPLES", "DEFAULT_CONTENT",
    "DEFAULT_STYLE", "list_samples", "samples_dir", "sample_path",
]

SAMPLES_PACKAGE, SAMPLES_FOLDER = "nst_helpers", "samples"
SAMPLES_ENV = "NST_IMAGES_DIR"
SAMPLES_OVERRIDE_DIR: Path | None = Path(os.environ[SAMPLES_ENV]) if os.environ.get(SAMPLES_ENV) else None
REINSTALL_HINT = ("Reinstall the package (pip install --force-reinstall --no-deps with the wheel or the "
                  "repository folder it came from); in a clone of the repository restore the files with "
                  "git checkout -- nst_helpers/samples, or re-clone.")


@dataclass(frozen=True)
class Sample:
    """One bundled image, an entry of :data:`SAMPLES`.

    Args:
        name: the name :func:`sample_path` and :func:`nst_helpers.load_sample` take, e.g. ``"chelsea"``.
        filename: the file's name inside the samples folder, e.g. ``"chelsea.png"``.
        kind: ``"content"`` (a photo) or ``"style"`` (a painting or texture).
        title: a human-readable caption.
    """

    name: str
    filename: str
    kind: str  # "content" or "style"
    title: str


SAMPLES = {s.name: s for s in [
    Sample("astronaut", "astronaut.png", "content", "Astronaut Eileen Collins (NASA)"),
    Sample("chelsea", "chelsea.png", "content", "Chelsea the cat"),
    Sample("coffee", "coffee.png", "content", "A cup of coffee"),
    Sample("rocket", "rocket.jpg", "content", "Falcon 9 launch (SpaceX)"),
    Sample("china", "china.jpg", "content", "Temple in China"),
    Sample("flower", "flower.jpg", "content", "A flower"),
    Sample("hubble", "hubble_deep_field.jpg", "style", "Hubble Deep Field (NASA)"),
    Sample("ihc", "ihc.png", "style", "Immunohistochemistry stain"),
    Sample("swirl", "swirl.png", "style", "Swirling brush strokes (generated)"),
    Sample("mosaic", "mosaic.png", "style", "Stained-glass mosaic (generated)"),
    Sample("composition", "composition.png", "style", "Geometric composition (generated)"),
]}
DEFAULT_CONTENT = "chelsea"
DEFAULT_STYLE = "swirl"


def list_samples(kind: str | None = None) -> list[str]:
    """Names of the bundled images, e.g. ``list_samples("style")``.

    Derived in notebook 02, §1 ("From a file to an array").

    Args:
        kind: ``None`` for all of them, or only ``"content"`` or ``"style"`` images.

    Returns:
        The names, in the order of :data:`SAMPLES`.
    """
    return [name for name, s in SAMPLES.items() if kind in (None, s.kind)]


def samples_dir() -> Path:
    """The folder :func:`sample_path` reads from.

    ``$NST_IMAGES_DIR`` when it is set, else the package's own ``nst_helpers/samples/``
    (inside the archive when the package is imported from a zip file; :func:`sample_path`
    then extracts the file it is asked for).

    Returns:
        The folder, which need not exist.
    """
    if SAMPLES_OVERRIDE_DIR is not None:
        return Path(SAMPLES_OVERRIDE_DIR)
    return Path(str(importlib.resources.files(SAMPLES_PACKAGE) / SAMPLES_FOLDER))


_EXTRACTED: dict[str, Path] = {}  # samples copied out of a zipped package, deleted at exit
_EXTRACTED_FILES = contextlib.ExitStack()
atexit.register(_EXTRACTED_FILES.close)


def _bundled_path(filename: str) -> Path | None:
    """A real file holding the package's copy of a sample (``None`` when it is missing)."""
    if filename in _EXTRACTED:
        return _EXTRACTED[filename]
    resource = importlib.resources.files(SAMPLES_PACKAGE) / SAMPLES_FOLDER / filename
    if isinstance(resource, Path):  # a normal install, an editable install or a clone
        return resource if resource.is_file() else None
    if not resource.is_file():
        return None
    _EXTRACTED[filename] = Path(_EXTRACTED_FILES.enter_context(importlib.resources.as_file(resource)))
    return _EXTRACTED[filename]


def sample_path(name: str) -> Path:
    """Filesystem path of a bundled image, e.g. ``sample_path("chelsea")``.

    The file lies inside the installed package (``nst_helpers/samples/``), or in
    ``$NST_IMAGES_DIR`` when that variable is set; the path works with ``open()``,
    ``PIL.Image.open`` and :func:`nst_helpers.load_image`.

    Derived in notebook 02, §1 ("From a file to an array").

    Args:
        name: one of :func:`list_samples`.

    Returns:
        The path of an existing file.

    Raises:
        ImageError: for an unknown name (listing the valid ones), or a missing file (saying
            how to restore it).
    """
    if not isinstance(name, str) or name not in SAMPLES:
        close = difflib.get_close_matches(name, list(SAMPLES), n=1) if isinstance(name, str) else []
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ImageError(f"unknown sample {name!r}; {hint}choose one of: {', '.join(SAMPLES)}")
    filename = SAMPLES[name].filename
    if SAMPLES_OVERRIDE_DIR is not None:
        path = Path(SAMPLES_OVERRIDE_DIR) / filename
        if not path.is_file():
            raise ImageError(f"sample image {path} is missing: {SAMPLES_ENV}={SAMPLES_OVERRIDE_DIR} replaces "
                             f"the bundled samples but has no {filename}. Copy the file there, or unset "
                             f"{SAMPLES_ENV} to use the copies that ship inside the nst_helpers package.")
        return path
    path = _bundled_path(filename)
    if path is None:
        raise ImageError(f"sample image {samples_dir() / filename} is missing: the nst_helpers package is "
                         f"installed without its bundled samples. {REINSTALL_HINT}")
    return path
