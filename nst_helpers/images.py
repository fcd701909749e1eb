"""Loading, resizing, converting and saving images.

The package's one image convention: a float32 NumPy array of shape ``(h, w, 3)``,
RGB, values in ``[0, 1]``.  Model inputs are the same pixels with a batch axis,
``(1, h, w, 3)``.  :func:`preprocess` / :func:`deprocess` convert to and from the
"caffe" convention the VGG weights were trained with (BGR, ImageNet means
subtracted, 0-255 scale).
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError

# ImageNet channel means in BGR order, as used by keras.applications.vgg19.preprocess_input.
IMAGENET_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)
MIN_SIDE = 32
MAX_PIXELS = 64_000_000  # refuse decompression bombs (PIL's own limit is ~89 Mpx with a warning)
RESAMPLE = {"bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS,
            "bilinear": Image.Resampling.BILINEAR, "nearest": Image.Resampling.NEAREST}
IMAGES_DIR = Path(os.environ.get("NST_IMAGES_DIR", Path(__file__).resolve().parent.parent / "images"))


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


def sample_path(name: str) -> Path:
    """Path of a bundled image; unknown names raise an error listing the valid ones."""
    if name not in SAMPLES:
        raise ImageError(f"unknown sample {name!r}; choose one of: {', '.join(SAMPLES)}")
    path = IMAGES_DIR / SAMPLES[name].filename
    if not path.is_file():
        raise ImageError(f"sample image {path} is missing: the images/ folder of the "
                         "repository is incomplete. Re-clone the repository or set NST_IMAGES_DIR.")
    return path


# --------------------------------------------------------------------------------------
# Decoding any file to 8-bit RGB
# --------------------------------------------------------------------------------------
def _describe(source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return getattr(source, "name", None) or type(source).__name__


def _to_rgb8(image: Image.Image) -> Image.Image:
    """Convert any PIL mode to 8-bit RGB; transparency is composited on white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        if image.mode == "F" and array.max() <= 1.0:
            top = 1.0
        return Image.fromarray(np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8)).convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")  # L, P, CMYK (PIL undoes Adobe's inverted CMYK), YCbCr, ...


def _open(source) -> tuple[Image.Image, str]:
    label = _describe(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        source, label = io.BytesIO(bytes(source)), "<bytes>"
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            hint = f" Bundled samples: {', '.join(SAMPLES)} (load_sample(name))." if not path.suffix else ""
            raise ImageError(f"{path}: no such file. Check the path.{hint}")
        if path.is_dir():
            raise ImageError(f"{path} is a folder, not an image file. Pass the path of a PNG or JPEG.")
        if path.stat().st_size == 0:
            raise ImageError(f"{path} is empty (0 bytes). Re-download or re-export the image.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageError(
                    f"{label} is {width}x{height} = {width * height / 1e6:.0f} megapixels, over the "
                    f"{MAX_PIXELS / 1e6:.0f} Mpx safety limit (a decompression bomb or a huge scan). "
                    "Downscale it with an image editor first.")
            image.seek(0)  # first frame of animations
            image = ImageOps.exif_transpose(image)
            image.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{label} is too large to decode safely ({exc}). Downscale it first.") from None
    except UnidentifiedImageError:
        raise ImageError(f"{label} is not an image PIL can read (is it a PNG/JPEG? a text "
                         "file renamed .jpg?). Open it in an image viewer and re-export as PNG or JPEG.") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise ImageError(f"{label} is damaged or truncated ({exc}). Re-download or re-export "
                         "the image.") from None
    return image, label


def load_image(source, max_size: int | None = None, *, resample: str = "bicubic",
               min_side: int = MIN_SIDE) -> np.ndarray:
    """Load an image as float32 RGB in ``[0, 1]``, shape ``(h, w, 3)``.

    ``source``: a path, a file object, bytes, a bundled sample name (see
    :func:`list_samples`) or an array (validated and converted, see :func:`to_float_image`).
    EXIF rotation is applied; grayscale, palette, RGBA/LA (on white), CMYK, 16-bit
    and float images become 8-bit RGB.  With ``max_size`` the long side is resized
    to exactly that many pixels, keeping the aspect ratio.
    """
    if isinstance(source, np.ndarray):
        image = to_float_image(source)
    else:
        if isinstance(source, str) and source in SAMPLES and not Path(source).exists():
            source = sample_path(source)
        pil, label = _open(source)
        if min(pil.size) < min_side:
            raise ImageError(f"{label} is {pil.size[0]}x{pil.size[1]} pixels; each side must be at "
                             f"least {min_side} px for VGG's pooling layers. Use a larger image.")
        image = np.asarray(_to_rgb8(pil), dtype=np.float32) / 255.0
    if max_size is not None:
        image = resize_long_side(image, max_size, resample=resample)
    return image


def load_sample(name: str, max_size: int | None = None) -> np.ndarray:
    """Load a bundled image by name, e.g. ``load_sample("chelsea", 384)``."""
    return load_image(sample_path(name), max_size)


def to_float_image(array, *, name: str = "image") -> np.ndarray:
    """Validate an array and return it as float32 ``(h, w, 3)`` in ``[0, 1]``.

    Accepts ``(h, w)``, ``(h, w, 1|3|4)`` and ``(1, h, w, 3)``; uint8/uint16 are
    scaled by their range; floats must already lie in ``[0, 1]``.
    """
    try:
        array = np.asarray(array)
    except Exception as exc:
        raise ImageError(f"{name} cannot be converted to an array ({exc})") from None
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3, 4):
        raise ImageError(f"{name} has shape {array.shape}; expected (height, width, 3) RGB "
                         "(or (h, w), (h, w, 1), (h, w, 4), (1, h, w, 3)).")
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    elif array.dtype == np.uint16:
        array = array.astype(np.float32) / 65535.0
    elif array.dtype.kind == "f":
        array = array.astype(np.float32)
        if not np.all(np.isfinite(array)):
            raise ImageError(f"{name} contains NaN or infinite values; fix the array "
                             "(np.nan_to_num) before using it.")
        low, high = float(array.min()), float(array.max())
        if low < -1e-6 or high > 1 + 1e-6:
            hint = " It looks like 0-255 values: divide by 255." if high <= 255 else ""
            raise ImageError(f"{name} has values in [{low:.3g}, {high:.3g}]; float images must "
                             f"lie in [0, 1].{hint}")
        array = np.clip(array, 0.0, 1.0)
    elif array.dtype == np.bool_ or array.dtype.kind in "iu":
        raise ImageError(f"{name} has dtype {array.dtype}; use uint8 (0-255), uint16 or float in [0, 1].")
    else:
        raise ImageError(f"{name} has dtype {array.dtype}; use uint8 (0-255) or float32 in [0, 1].")
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    elif array.shape[-1] == 4:  # composite on white
        alpha = array[..., 3:]
        array = array[..., :3] * alpha + (1.0 - alpha)
    if min(array.shape[:2]) < 1:
        raise ImageError(f"{name} is empty (shape {array.shape}).")
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


def resize_long_side(image: np.ndarray, size: int, *, resample: str = "bicubic") -> np.ndarray:
    """Resize so the long side is ``size`` pixels, keeping the aspect ratio."""
    height, width = fit_long_side(*np.shape(image)[:2], size)
    return resize(image, height, width, resample=resample)


def preprocess(image) -> "tf.Tensor":
    """``[0, 1]`` RGB ``(h, w, 3)`` or ``(1, h, w, 3)`` -> caffe input: BGR, 0-255, ImageNet mean removed."""
    import tensorflow as tf

    image = tf.convert_to_tensor(image, dtype=tf.float32)
    if image.shape.rank == 3:
        image = image[tf.newaxis]
    return image[..., ::-1] * 255.0 - IMAGENET_MEAN_BGR


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


def save_image(image, path: str | os.PathLike, *, overwrite: bool = False,
               protect: tuple = (), quality: int = 95) -> Path:
    """Save a ``[0, 1]`` RGB array as PNG or JPEG, atomically.

    Missing folders are created.  An existing file is only replaced with
    ``overwrite=True``, and never when it is one of the ``protect`` paths (the
    inputs of a run).  Returns the path written.
    """
    path = Path(path)
    if path.is_dir():
        raise ImageError(f"output path {path} is a folder; give a file name such as {path / 'result.png'}")
    suffix = path.suffix.lower()
    formats = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP", ".tif": "TIFF",
               ".tiff": "TIFF"}
    if suffix not in formats:
        raise ImageError(f"cannot tell the format of {path}; end the name with .png or .jpg")
    for other in protect:
        try:
            if other is not None and path.resolve() == Path(other).resolve():
                raise ImageError(f"refusing to overwrite the input image {path}; choose another output name")
        except TypeError:
            continue
    if path.exists() and not overwrite:
        raise ImageError(f"{path} already exists; choose another name or pass overwrite=True (--overwrite)")
    path.parent.mkdir(parents=True, exist_ok=True)
    pil = Image.fromarray(to_uint8(image))
    options = {"quality": quality} if formats[suffix] in ("JPEG", "WEBP") else {}
    handle, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            pil.save(stream, format=formats[suffix], **options)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
