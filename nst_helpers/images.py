"""Loading, resizing, converting and saving images.

The package's one image convention: a float32 NumPy array of shape ``(h, w, 3)``,
RGB, values in ``[0, 1]``.  Model inputs are the same pixels with a batch axis,
``(1, h, w, 3)``.  :func:`preprocess` / :func:`deprocess` convert to and from the
"caffe" convention the VGG weights were trained with (BGR, ImageNet means
subtracted, 0-255 scale).
"""

from __future__ import annotations

import atexit
import contextlib
import difflib
import importlib.resources
import io
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError
from .files import atomic_write, check_output_path

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = [
    "IMAGENET_MEAN_BGR", "MIN_SIDE", "VGG_MIN_SIDE", "MAX_PIXELS", "RESAMPLE", "SAMPLES_ENV", "Sample",
    "SAMPLES", "DEFAULT_CONTENT", "DEFAULT_STYLE", "FORMATS", "list_samples", "samples_dir", "sample_path",
    "load_image", "load_sample", "to_float_image", "fit_long_side", "resize", "resize_long_side",
    "rgb_to_caffe", "preprocess", "deprocess", "to_uint8", "ImageSaveError", "save_image",
]

# ImageNet channel means in BGR order, as used by keras.applications.vgg19.preprocess_input.
IMAGENET_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)
MIN_SIDE = 32  # images are refused below this (VGG19 halves them 5 times)
VGG_MIN_SIDE = 16  # below this block5 of VGG19 gets no pixels at all and TensorFlow fails obscurely
MAX_PIXELS = 64_000_000  # refuse decompression bombs (PIL's own limit is ~89 Mpx with a warning)
RESAMPLE = {"bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS,
            "bilinear": Image.Resampling.BILINEAR, "nearest": Image.Resampling.NEAREST}

# The sample images ship inside the package (nst_helpers/samples/, package data), so they are
# there in a clone, an editable install and an installed wheel alike.  The environment
# variable swaps in another folder holding the same file names (read once, at import).
SAMPLES_PACKAGE, SAMPLES_FOLDER = "nst_helpers", "samples"
SAMPLES_ENV = "NST_IMAGES_DIR"
SAMPLES_OVERRIDE_DIR: Path | None = Path(os.environ[SAMPLES_ENV]) if os.environ.get(SAMPLES_ENV) else None
REINSTALL_HINT = ("Reinstall the package (pip install --force-reinstall --no-deps with the wheel or the "
                  "repository folder it came from); in a clone of the repository restore the files with "
                  "git checkout -- nst_helpers/samples, or re-clone.")


@dataclass(frozen=True)
class Sample:
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
    """Names of the bundled images, optionally only ``kind="content"`` or ``"style"``."""
    return [name for name, s in SAMPLES.items() if kind in (None, s.kind)]


def samples_dir() -> Path:
    """The folder :func:`sample_path` reads from: ``$NST_IMAGES_DIR`` when it is set, else the
    package's own ``nst_helpers/samples/`` (inside the archive when the package is imported
    from a zip file; :func:`sample_path` then extracts the file it is asked for)."""
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
    ``PIL.Image.open`` and :func:`load_image`.  Unknown names raise an error listing the
    valid ones; a missing file raises an error saying how to restore it.
    """
    if not isinstance(name, str) or name not in SAMPLES:
        close = difflib.get_close_matches(name, list(SAMPLES), n=1) if isinstance(name, str) else []
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ImageError(f"unknown sample {name!r}; {hint}choose one of: {', '.join(SAMPLES)}")
    filename = SAMPLES[name].filename
    if SAMPLES_OVERRIDE_DIR is not None:
        path = Path(SAMPLES_OVERRIDE_DIR) / filename
        if not path.is_file():
            raise ImageError(f"sample image {path} is missing: {SAMPLES_ENV}={SAMPLES_OVERRIDE_DIR} replaces the "
                             f"bundled samples but has no {filename}. Copy the file there, or unset "
                             f"{SAMPLES_ENV} to use the copies that ship inside the nst_helpers package.")
        return path
    path = _bundled_path(filename)
    if path is None:
        raise ImageError(f"sample image {samples_dir() / filename} is missing: the nst_helpers package is "
                         f"installed without its bundled samples. {REINSTALL_HINT}")
    return path


# --------------------------------------------------------------------------------------
# Decoding any file to 8-bit RGB
# --------------------------------------------------------------------------------------
# Only these PIL plugins are ever asked to decode a file.  Others (EPS runs Ghostscript,
# PDF, PSD, ICNS, ...) are never needed for photos and paintings and widen the attack
# surface; a file in another format gets a clear "convert it" error instead.
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
    (4, b"ftypheic", "a HEIC photo (iPhone)"), (4, b"ftypheix", "a HEIC photo"), (4, b"ftypmif1", "a HEIF photo"),
    (4, b"ftypavif", "an AVIF image"), (0, b"<!DOCTYPE html", "a web page (HTML)"), (0, b"<html", "a web page (HTML)"),
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


def _to_rgb8(image: Image.Image) -> Image.Image:
    """Convert any PIL mode to 8-bit RGB; transparency is composited on white."""
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


def _open(source) -> tuple[Image.Image, str]:
    """Open, decode and fully load ``source``; every failure becomes an :class:`ImageError`."""
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
            rgb = _to_rgb8(image)
            if min(rgb.size) < 1:
                raise ImageError(f"{label} has no pixels ({width}x{height}). Re-export the image.")
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{label} claims to be over {Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels, far over the "
                         f"{MAX_PIXELS / 1e6:.0f} Mpx safety limit (a decompression bomb or a huge scan). "
                         "Downscale it with an image editor first.") from None
    except UnidentifiedImageError:
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
        head = bytes(head or b"")
        for magic, kind in _IMAGE_SIGNATURES:
            if head.startswith(magic):
                raise ImageError(f"{label} starts like a {kind} file but cannot be decoded: it is damaged or "
                                 "truncated. Re-download or re-export the image (as PNG or JPEG).") from None
        what = _sniff(head)
        what = f"it looks like {what}, " if what else "it is "
        raise ImageError(f"{label} is not an image that can be read: {what}not a {FORMATS_TEXT} "
                         "file (a text file or web page saved as .jpg?). Open it in an image viewer and "
                         "re-export it as PNG or JPEG.") from None
    except PermissionError as exc:
        raise ImageError(f"{label} cannot be read ({exc.strerror or exc}). Check the file's permissions.") from None
    except MemoryError:
        raise ImageError(f"{label} needs more memory to decode than this machine has. Downscale it "
                         "with an image editor first.") from None
    except Exception as exc:  # OSError, SyntaxError, ValueError, EOFError, struct.error, ...: a bad file
        raise ImageError(f"{label} is damaged or truncated ({type(exc).__name__}: {exc}). Re-download or "
                         "re-export the image (as PNG or JPEG).") from None
    return rgb, label


def _is_file_like(source) -> bool:
    return hasattr(source, "read") and callable(source.read)


def load_image(source, max_size: int | None = None, *, resample: str = "bicubic",
               min_side: int = MIN_SIDE) -> np.ndarray:
    """Load an image as float32 RGB in ``[0, 1]``, shape ``(h, w, 3)``.

    ``source``: a path, a file object, bytes, a bundled sample name (see
    :func:`list_samples`), a PIL image or an array (validated and converted, see
    :func:`to_float_image`).  EXIF rotation is applied; grayscale, palette, RGBA/LA
    (on white), CMYK, 16-bit and float images become 8-bit RGB; of an animation the
    first frame is used.  With ``max_size`` the long side is resized to exactly that
    many pixels, keeping the aspect ratio.  Both sides must be at least ``min_side``
    (32) pixels, before and after resizing.  Every problem raises :class:`ImageError`
    whose message names the input and the fix.
    """
    if isinstance(source, str) and source in SAMPLES and not Path(source).exists():
        source = sample_path(source)
    if isinstance(source, Image.Image):
        label = "image"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                source.load()
                pil = _to_rgb8(ImageOps.exif_transpose(source))
        except Exception as exc:
            raise ImageError(f"the PIL image cannot be converted to RGB ({type(exc).__name__}: {exc}). "
                             "Save it as PNG and load the file.") from None
        image = np.asarray(pil, dtype=np.float32) / 255.0
    elif isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview)) or _is_file_like(source):
        pil, label = _open(source)
        image = np.asarray(pil, dtype=np.float32) / 255.0
    elif source is None or isinstance(source, (bool, int, float, complex, dict, set)):
        raise ImageError(f"cannot load an image from {type(source).__name__} {source!r}: pass a file path, "
                         "a bundled sample name, bytes, a file object, a PIL image or an (h, w, 3) array.")
    else:  # NumPy arrays, TensorFlow tensors, nested lists
        label = "image"
        image = to_float_image(source)
    if min(image.shape[:2]) < min_side:
        raise ImageError(f"{label} is {image.shape[1]}x{image.shape[0]} pixels; each side must be at "
                         f"least {min_side} px for VGG's pooling layers. Use a larger image.")
    if max_size is not None:
        if isinstance(max_size, bool) or not isinstance(max_size, (int, np.integer)) or max_size < 1:
            raise ImageError(f"max_size must be a positive whole number of pixels, got {max_size!r}")
        height, width = fit_long_side(*image.shape[:2], int(max_size))
        if min(height, width) < min_side:
            needed = math.ceil(min_side * max(image.shape[:2]) / min(image.shape[:2]))
            raise ImageError(f"{label} is {image.shape[1]}x{image.shape[0]}: with its long side resized to "
                             f"{max_size} px it would be {width}x{height}, but each side must be at least "
                             f"{min_side} px. Use max_size >= {needed}, or crop the image to a less "
                             "elongated shape.")
        image = resize(image, height, width, resample=resample)
    return image


def load_sample(name: str, max_size: int | None = None) -> np.ndarray:
    """Load a bundled image by name, e.g. ``load_sample("chelsea", 384)``."""
    return load_image(sample_path(name), max_size)


def to_float_image(array, *, name: str = "image") -> np.ndarray:
    """Validate an array and return it as float32 ``(h, w, 3)`` in ``[0, 1]``.

    Accepts ``(h, w)``, ``(h, w, 1|3|4)`` and ``(1, h, w, 3)``; uint8/uint16 are
    scaled by their range; floats must already lie in ``[0, 1]``.  Anything else
    raises :class:`ImageError` naming the problem and the fix.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NumPy's ragged-array warnings: the error says it
            array = np.asarray(array)
    except Exception as exc:
        raise ImageError(f"{name} cannot be converted to an array ({exc}); pass an (h, w, 3) array.") from None
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3, 4):
        hint = ""
        if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] > 4:
            hint = " It looks channels-first: use np.moveaxis(image, 0, -1)."
        elif array.ndim == 4:
            hint = " For a batch, pass one image: image[0]."
        raise ImageError(f"{name} has shape {array.shape}; expected (height, width, 3) RGB "
                         f"(or (h, w), (h, w, 1), (h, w, 4), (1, h, w, 3)).{hint}")
    if array.size == 0:
        raise ImageError(f"{name} is empty (shape {array.shape}); pass an image with pixels.")
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    elif array.dtype == np.uint16:
        array = array.astype(np.float32) / 65535.0
    elif array.dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):
            array = array.astype(np.float32)  # float64 beyond float32's range becomes inf: refused below
        if not np.all(np.isfinite(array)):
            raise ImageError(f"{name} contains NaN or infinite values; fix the array "
                             "(e.g. np.nan_to_num) before using it.")
        low, high = float(array.min()), float(array.max())
        if low < -1e-6 or high > 1 + 1e-6:
            if low >= -1e-6 and high <= 255 + 1e-3:
                hint = " It looks like 0-255 values: divide by 255."
            elif low >= -1 - 1e-6 and high <= 1 + 1e-6:
                hint = " It looks like values in [-1, 1]: use (image + 1) / 2."
            elif low >= -130 and high <= 160:
                hint = " It looks like a VGG-preprocessed (caffe) tensor: use nst_helpers.deprocess()."
            else:
                hint = " Rescale it, e.g. (image - image.min()) / (image.max() - image.min())."
            raise ImageError(f"{name} has values in [{low:.3g}, {high:.3g}]; float images must "
                             f"lie in [0, 1].{hint}")
        array = np.clip(array, 0.0, 1.0)
    elif array.dtype.kind in "iu":
        hint = ""
        low, high = int(array.min()), int(array.max())
        if 0 <= low and high <= 255:
            hint = " Its values are 0-255: use image.astype(np.uint8)."
        raise ImageError(f"{name} has dtype {array.dtype}; use uint8 (0-255), uint16 or float in [0, 1].{hint}")
    elif array.dtype == np.bool_:
        raise ImageError(f"{name} has dtype bool (a mask?); use uint8 (0-255) or float32 in [0, 1], "
                         "e.g. mask.astype(np.float32).")
    else:
        raise ImageError(f"{name} has dtype {array.dtype}; use uint8 (0-255) or float32 in [0, 1].")
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    elif array.shape[-1] == 4:  # composite on white
        alpha = array[..., 3:]
        array = array[..., :3] * alpha + (1.0 - alpha)
    return np.ascontiguousarray(array, dtype=np.float32)


def fit_long_side(height: int, width: int, size: int) -> tuple[int, int]:
    """``(new_h, new_w)`` with ``max(new_h, new_w) == size`` and the aspect ratio kept."""
    if size < 1:
        raise ImageError(f"size must be a positive number of pixels, got {size}")
    scale = size / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize(image: np.ndarray, height: int, width: int, *, resample: str = "bicubic") -> np.ndarray:
    """Resize a ``[0, 1]`` RGB array to ``(height, width)`` with PIL (per-channel float)."""
    image = to_float_image(image)
    if image.shape[:2] == (height, width):
        return image
    if resample not in RESAMPLE:
        raise ImageError(f"unknown resample {resample!r}; choose one of {sorted(RESAMPLE)}")
    channels = [np.asarray(Image.fromarray(image[..., c], mode="F").resize((width, height), RESAMPLE[resample]))
                for c in range(3)]
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0).astype(np.float32)


def resize_long_side(image: np.ndarray, size: int, *, resample: str = "bicubic",
                     min_side: int = VGG_MIN_SIDE) -> np.ndarray:
    """Resize so the long side is ``size`` pixels, keeping the aspect ratio.

    Raises :class:`ImageError` when the short side would fall below ``min_side``
    pixels (default 16, where VGG19's fourth pooling layer would leave nothing and
    TensorFlow would fail with an obscure error); pass ``min_side=1`` to allow it.
    """
    shape = np.shape(image)
    if len(shape) < 2:
        raise ImageError(f"image has shape {shape}; expected (height, width, 3) RGB.")
    height, width = fit_long_side(*shape[:2], size)
    if min(height, width) < min_side:
        needed = math.ceil(min_side * max(shape[:2]) / max(1, min(shape[:2])))
        raise ImageError(f"an image of {shape[1]}x{shape[0]} pixels resized to {size} px on its long side "
                         f"would be {width}x{height}: too thin, each side must be at least {min_side} px "
                         f"(32 recommended). Use a size of at least {needed} px or crop the image to a "
                         "less elongated shape.")
    return resize(image, height, width, resample=resample)


def rgb_to_caffe(images):
    """The caffe formula itself, on a float32 tensor of any rank whose last axis is RGB in ``[0, 1]``:
    BGR order, 0-255 scale, ImageNet mean removed.  The one implementation behind
    :func:`preprocess` and the model's :class:`nst_helpers.model.Preprocess` layer."""
    return images[..., ::-1] * 255.0 - IMAGENET_MEAN_BGR


def preprocess(image) -> "tf.Tensor":
    """``[0, 1]`` RGB ``(h, w, 3)`` or ``(1, h, w, 3)`` -> caffe input: BGR, 0-255, ImageNet mean removed."""
    import tensorflow as tf

    image = tf.convert_to_tensor(image, dtype=tf.float32)
    if image.shape.rank == 3:
        image = image[tf.newaxis]
    return rgb_to_caffe(image)


def deprocess(tensor, clip: bool = True) -> np.ndarray:
    """Exact inverse of :func:`preprocess`, returning ``(h, w, 3)`` RGB in ``[0, 1]``.

    ``clip=True`` (the default) clips to the valid range: optimisation can push
    pixels slightly outside it, and out-of-range values show as wrong colours.
    """
    array = np.asarray(tensor, dtype=np.float32)
    if array.ndim == 4:
        array = array[0]
    array = (array + IMAGENET_MEAN_BGR)[..., ::-1] / 255.0
    return np.clip(array, 0.0, 1.0) if clip else array


def to_uint8(image) -> np.ndarray:
    return (np.clip(to_float_image(image), 0, 1) * 255.0 + 0.5).astype(np.uint8)


class ImageSaveError(ImageError, OSError):
    """Writing an image failed (disk full, no permission, ...); the previous file is untouched.

    Both an :class:`ImageError` (so the CLI reports it cleanly) and an ``OSError``."""


def save_image(image, path: str | os.PathLike, *, overwrite: bool = False,
               protect: tuple = (), quality: int = 95) -> Path:
    """Save a ``[0, 1]`` RGB array as PNG or JPEG, atomically.

    Missing folders are created.  An existing file is only replaced with
    ``overwrite=True``, and never when it is one of the ``protect`` paths (the
    inputs of a run), however it is spelled (relative, ``..``, symlink, hard link).
    The image is written to a temporary file in the same folder and renamed over
    the target, so a failure (disk full, Ctrl-C) leaves the old file untouched and
    no partial file behind; it raises :class:`ImageSaveError`.  Returns the path written.
    """
    path = Path(path)
    if path.is_dir():
        raise ImageError(f"output path {path} is a folder; give a file name such as {path / 'result.png'}")
    suffix = path.suffix.lower()
    formats = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP", ".tif": "TIFF",
               ".tiff": "TIFF"}
    if suffix not in formats:
        raise ImageError(f"cannot tell the format of {path}; end the name with .png or .jpg")
    check_output_path(path, overwrite=overwrite, protect=protect)
    pil = Image.fromarray(to_uint8(image))
    options = {"quality": quality} if formats[suffix] in ("JPEG", "WEBP") else {}
    try:
        with atomic_write(path, suffix=suffix) as stream:
            pil.save(stream, format=formats[suffix], **options)
    except OSError as exc:
        raise ImageSaveError(f"could not save {path} ({exc}); any existing file there is untouched. Check "
                             "the free disk space and that the folder is writable, or choose another "
                             "output path.") from exc
    return path
