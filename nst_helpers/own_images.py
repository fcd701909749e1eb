"""A learner's own pictures: a path, a URL or a Colab upload, with a bundled sample as fallback.

Notebooks call :func:`load_own` from cells whose flag is off by default, so that a
"Run all" (in Colab too) never waits on a file picker or on the network.  Everything
that can go wrong outside the learner's control (no network, a refused download,
an upload outside Colab) prints one clear line and falls back to a bundled sample;
a bad file of the learner's own raises :class:`ImageError` naming the file.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

from .errors import ImageError
from .images import load_image, load_sample

__all__ = ["UPLOAD", "DOWNLOAD_TIMEOUT_S", "MAX_DOWNLOAD_BYTES", "USER_AGENT", "download_cache", "download",
           "load_own"]

UPLOAD = "upload"
DOWNLOAD_TIMEOUT_S = 20
MAX_DOWNLOAD_BYTES = 64 * 2**20
# Wikimedia and others refuse Python's default user agent (HTTP 403).
USER_AGENT = ("nst_helpers (neural style transfer notebooks; "
              "https://github.com/nst-studio/neural-style-transfer)")


def download_cache() -> Path:
    """Where downloaded pictures are kept.

    Returns:
        ``$NST_DOWNLOAD_DIR``, default ``~/.cache/nst_helpers``.
    """
    return Path(os.environ.get("NST_DOWNLOAD_DIR", Path.home() / ".cache" / "nst_helpers"))


def _is_url(source) -> bool:
    return isinstance(source, str) and urllib.parse.urlparse(source).scheme in ("http", "https")


def download(url: str) -> Path:
    """Download ``url`` once into :func:`download_cache`; later calls reuse the file.

    Args:
        url: an ``http(s)`` address (at most 64 MB).

    Returns:
        The path of the downloaded file.

    Raises:
        OSError: (including ``urllib.error.URLError``) when the download fails; a partial
            download never stays in the cache.
    """
    name = Path(urllib.parse.urlparse(url).path).name or "download"
    target = download_cache() / f"{hashlib.sha256(url.encode()).hexdigest()[:12]}_{name}"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response:
        data = response.read(MAX_DOWNLOAD_BYTES + 1)
    if len(data) > MAX_DOWNLOAD_BYTES:
        raise OSError(f"{url} is larger than {MAX_DOWNLOAD_BYTES // 2**20} MB")
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as part:
        part.write(data)
    os.replace(part.name, target)
    return target


def _upload():
    """The bytes of one file chosen in Colab's file picker (blocks until the learner chooses)."""
    if "google.colab" not in sys.modules:
        raise ImageError('"upload" opens Colab\'s file picker, and this is not Colab: '
                         "give the path of your picture instead, e.g. \"photo.jpg\".")
    from google.colab import files

    uploaded = files.upload()
    if not uploaded:
        raise ImageError("no file was uploaded: run the cell again and choose a picture")
    return next(iter(uploaded.values()))


def load_own(source: str | os.PathLike | np.ndarray | None, fallback: str,
             size: int | None = None) -> np.ndarray:
    """Load the learner's picture, or a bundled sample when there is none.

    Example: ``load_own(MY_PHOTO, "chelsea", 256)`` with ``MY_PHOTO = None`` by default.

    Derived in notebook 01, §9 ("Your own images").

    Args:
        source: ``None`` (use ``fallback``), a file path, an ``http(s)`` URL (downloaded
            once, cached), ``"upload"`` (Colab's file picker) or an array.
        fallback: the sample name (:func:`nst_helpers.list_samples`) to use instead; a
            download that fails prints why and falls back to it.
        size: the long side in pixels (``None``: the picture's own size).

    Returns:
        float32 RGB ``(h, w, 3)`` in ``[0, 1]``.

    Raises:
        ImageError: for a bad file of the learner's own, naming the file.
    """
    if source is None:
        return load_sample(fallback, size)
    if isinstance(source, str) and source == UPLOAD:
        return load_image(_upload(), size)
    if _is_url(source):
        try:
            path = download(source)
        except (OSError, ValueError) as error:  # URLError and HTTPError are OSErrors
            reason = getattr(error, "reason", None) or error
            print(f"Could not download {source} ({reason}); using the bundled {fallback!r} instead. "
                  "Check the address, or download the picture in a browser and give its path.")
            return load_sample(fallback, size)
        return load_image(path, size)
    return load_image(source, size)
