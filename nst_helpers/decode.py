"""Decoding any image file to 8-bit RGB, safely, with an error that names the fix.

Only the PIL plugins in :data:`FORMATS` are ever asked to decode a file.  Others (EPS runs
Ghostscript, PDF, PSD, ICNS, ...) are never needed for photos and paintings and widen the
attack surface; a file in another format gets a clear "convert it" error instead.  Files
over :data:`MAX_PIXELS` (decompression bombs, huge scans) are refused before decoding.

:func:`nst_helpers.images.load_image` is the function to call; this module is its first
half (bytes to pixels).  Every name here is also importable from :mod:`nst_helpers.images`.
"""

from __future__ import annotations

import difflib
import io
import os
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError
from .samples import SAMPLES

__all__ = ["FORMATS", "FORMATS_TEXT", "MAX_PIXELS", "to_rgb8", "decode_rgb8"]

MAX_PIXELS = 64_000_000  # refuse decompression bombs (PIL's own limit is ~89 Mpx with a warning)
# (JPEG includes phones' multi-picture "MPO" JPEGs.)
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM", "AVIF")
FORMATS_TEXT = "PNG, JPEG, GIF, BMP, TIFF, WebP, PPM or AVIF"


def _formats() -> list[str]:
    Image.init()
    return [name for name in FORMATS if name in Image.OPEN]  # AVIF only where Pillow was built with it


_SIGNATURES = [  # (offset, magic bytes, what the file is): for friendlier errors
    (0, b"%PDF", "a PDF document"), (0, b"%!PS", "a PostScript/EPS file"),
    (0, b"\xc5\xd0\xd3\xc6", "an EPS file"), (0, b"8BPS", "a Photoshop (PSD) file"),
    (0, b"<?xml", "an XML/SVG file"), (0, b"<svg", "an SVG drawing"), (0, b"PK\x03\x04", "a ZIP archive"),
    (4, b"ftypheic", "a HEIC photo (iPhone)"), (4, b"ftypheix", "a HEIC photo"),
    (4, b"ftypmif1", "a HEIF photo"), (4, b"ftypavif", "an AVIF image"),
    (0, b"<!DOCTYPE html", "a web page (HTML)"), (0, b"<html", "a web page (HTML)"),
]

_IMAGE_SIGNATURES = [(b"\x89PNG", "PNG"), (b"\xff\xd8", "JPEG"), (b"GIF8", "GIF"), (b"BM", "BMP"),
                     (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"RIFF", "WebP")]


def _describe(source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return str(getattr(source, "name", None) or type(source).__name__)


def _sniff(head: bytes) -> str:
    """A guess at what a non-image file is, from its first bytes ("" when unknown)."""
    for offset, magic, what in _SIGNATURES:
        if head[offset:offset + len(magic)] == magic:
            return what
    stripped = head.lstrip()
    if stripped and all(32 <= b < 127 or b in b"\t\r\n" for b in stripped[:64]):
        return "a text file"
    return ""


def to_rgb8(image: Image.Image) -> Image.Image:
    """Convert a PIL image of any mode to 8-bit RGB.

    16-bit and float images are scaled to 0-255; transparency (RGBA, LA, palette with a
    transparent colour) is composited on white; CMYK, YCbCr, grey and palette images are
    converted by PIL.

    Derived in notebook 02, §1 ("From a file to an array").

    Args:
        image: a loaded PIL image.

    Returns:
        A PIL image in mode ``"RGB"``.
    """
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        array = np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        top = 65535.0 if image.mode.startswith("I;16") or array.max(initial=0) > 255 else 255.0
        if image.mode == "F" and array.max(initial=0) <= 1.0:
            top = 1.0
        return Image.fromarray(np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8)).convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")  # L, 1, P, CMYK (PIL undoes Adobe's inverted CMYK), YCbCr, ...


def _check_path(path: Path) -> None:
    try:
        exists, is_dir = path.exists(), path.is_dir()
        size = path.stat().st_size if exists and not is_dir else None
    except OSError as exc:  # name too long, permission denied on a parent folder, ...
        raise ImageError(f"{path} cannot be opened ({exc.strerror or exc}). Check the path and its "
                         "permissions.") from None
    if not exists:
        hint = ""
        close = difflib.get_close_matches(str(path), list(SAMPLES), n=1) if not path.suffix else []
        if close:
            hint = f" Did you mean the bundled sample {close[0]!r}?"
        elif not path.suffix:
            hint = f" Bundled samples: {', '.join(SAMPLES)} (load_sample(name))."
        raise ImageError(f"{path}: no such file. Check the path (relative paths start from "
                         f"{Path.cwd()}).{hint}")
    if is_dir:
        raise ImageError(f"{path} is a folder, not an image file. Pass the path of a PNG or JPEG.")
    if size == 0:
        raise ImageError(f"{path} is empty (0 bytes). Re-download or re-export the image.")


def _head(source) -> bytes:
    """The first 64 bytes of a file or stream, for the error message ("" when unreadable)."""
    head = b""
    try:
        if isinstance(source, (str, os.PathLike)):
            with open(source, "rb") as handle:
                head = handle.read(64)
        elif hasattr(source, "seek") and hasattr(source, "read"):
            source.seek(0)
            head = source.read(64)
    except Exception:
        pass
    return bytes(head or b"")


def decode_rgb8(source: str | os.PathLike | bytes | bytearray | memoryview | BinaryIO
                ) -> tuple[Image.Image, str]:
    """Open, decode and fully load an image file as 8-bit RGB.

    EXIF rotation is applied (phones store portraits as rotated landscapes); of an
    animation the first frame is used; :func:`to_rgb8` converts the mode.

    Derived in notebook 02, §1 ("From a file to an array") and §2 ("EXIF orientation: why
    phone photos come out sideways").

    Args:
        source: a path, the file's bytes, or a binary file object.

    Returns:
        ``(image, label)``: the RGB PIL image and the name used for ``source`` in messages.

    Raises:
        ImageError: for every failure (missing, empty, damaged, not an image, a format
            outside :data:`FORMATS`, over :data:`MAX_PIXELS`), naming the input and the fix.
    """
    label = _describe(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        source, label = io.BytesIO(bytes(source)), "<bytes>"
        if not source.getbuffer().nbytes:
            raise ImageError("<bytes> is empty (0 bytes). Pass the contents of a PNG or JPEG file.")
    if isinstance(source, (str, os.PathLike)):
        _check_path(Path(source))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source, formats=_formats())
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageError(
                    f"{label} is {width}x{height} = {width * height / 1e6:.0f} megapixels, over the "
                    f"{MAX_PIXELS / 1e6:.0f} Mpx safety limit (a decompression bomb or a huge scan). "
                    "Downscale it with an image editor first.")
            image.seek(0)  # first frame of animations
            image = ImageOps.exif_transpose(image)
            image.load()
            rgb = to_rgb8(image)
            if min(rgb.size) < 1:
                raise ImageError(f"{label} has no pixels ({width}x{height}). Re-export the image.")
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{label} claims to be over {Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels, far "
                         f"over the {MAX_PIXELS / 1e6:.0f} Mpx safety limit (a decompression bomb or a "
                         "huge scan). Downscale it with an image editor first.") from None
    except UnidentifiedImageError:
        head = _head(source)
        for magic, kind in _IMAGE_SIGNATURES:
            if head.startswith(magic):
                raise ImageError(f"{label} starts like a {kind} file but cannot be decoded: it is damaged "
                                 "or truncated. Re-download or re-export the image (as PNG or "
                                 "JPEG).") from None
        what = _sniff(head)
        what = f"it looks like {what}, " if what else "it is "
        raise ImageError(f"{label} is not an image that can be read: {what}not a {FORMATS_TEXT} "
                         "file (a text file or web page saved as .jpg?). Open it in an image viewer and "
                         "re-export it as PNG or JPEG.") from None
    except PermissionError as exc:
        raise ImageError(f"{label} cannot be read ({exc.strerror or exc}). Check the file's "
                         "permissions.") from None
    except MemoryError:
        raise ImageError(f"{label} needs more memory to decode than this machine has. Downscale it "
                         "with an image editor first.") from None
    except Exception as exc:  # OSError, SyntaxError, ValueError, EOFError, struct.error, ...: a bad file
        raise ImageError(f"{label} is damaged or truncated ({type(exc).__name__}: {exc}). Re-download or "
                         "re-export the image (as PNG or JPEG).") from None
    return rgb, label
