"""Loading, resizing, converting and saving images.

The package's one image convention: a float32 NumPy array of shape ``(h, w, 3)``,
RGB, values in ``[0, 1]``.  Model inputs are the same pixels with a batch axis,
``(1, h, w, 3)``.  :func:`preprocess` / :func:`deprocess` convert to and from the
"caffe" convention the VGG weights were trained with (BGR, ImageNet means
subtracted, 0-255 scale).

Two concerns live in their own modules, and their names are re-exported here so that
``nh.images.NAME`` keeps working: the bundled sample images (:mod:`nst_helpers.samples`:
``SAMPLES``, ``sample_path``, ...) and the decoding of image files (:mod:`nst_helpers.decode`:
``FORMATS``, ``MAX_PIXELS``, ...).
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Union

import numpy as np
from PIL import Image, ImageOps

from .decode import FORMATS, MAX_PIXELS, decode_rgb8, to_rgb8
from .errors import ImageError
from .files import atomic_write, check_output_path
from .samples import (
    DEFAULT_CONTENT,
    DEFAULT_STYLE,
    SAMPLES,
    SAMPLES_ENV,
    Sample,
    list_samples,
    sample_path,
    samples_dir,
)

if TYPE_CHECKING:
    import tensorflow as tf
    from numpy.typing import ArrayLike

    #: Anything :func:`load_image` reads.
    ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview, BinaryIO, Image.Image, ArrayLike]

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
RESAMPLE = {"bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS,
            "bilinear": Image.Resampling.BILINEAR, "nearest": Image.Resampling.NEAREST}


def _is_file_like(source) -> bool:
    return hasattr(source, "read") and callable(source.read)


def load_image(source: ImageSource, max_size: int | None = None, *, resample: str = "bicubic",
               min_side: int = MIN_SIDE) -> np.ndarray:
    """Load an image as float32 RGB in ``[0, 1]``, shape ``(h, w, 3)``, e.g. ``load_image("photo.jpg", 512)``.

    EXIF rotation is applied; grayscale, palette, RGBA/LA (on white), CMYK, 16-bit and
    float images become 8-bit RGB; of an animation the first frame is used
    (:func:`nst_helpers.decode.decode_rgb8`).

    Derived in notebook 02, §1 ("From a file to an array"), §2 ("EXIF orientation: why
    phone photos come out sideways") and §3 ("Scaling so the long side is 512").

    Args:
        source: a path, a file object, bytes, a bundled sample name (see
            :func:`list_samples`), a PIL image or an array (validated and converted, see
            :func:`to_float_image`).
        max_size: resize so that the long side is exactly this many pixels, keeping the
            aspect ratio (``None``: keep the size).
        resample: the filter for ``max_size``, a key of :data:`RESAMPLE`.
        min_side: the smallest side accepted, in pixels, before and after resizing (32:
            VGG19 halves the image five times).

    Returns:
        The pixels, a C-contiguous float32 array.

    Raises:
        ImageError: for every problem, with a message naming the input and the fix.
    """
    if isinstance(source, str) and source in SAMPLES and not Path(source).exists():
        source = sample_path(source)
    if isinstance(source, Image.Image):
        label = "image"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                source.load()
                pil = to_rgb8(ImageOps.exif_transpose(source))
        except Exception as exc:
            raise ImageError(f"the PIL image cannot be converted to RGB ({type(exc).__name__}: {exc}). "
                             "Save it as PNG and load the file.") from None
        image = np.asarray(pil, dtype=np.float32) / 255.0
    elif isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview)) or _is_file_like(source):
        pil, label = decode_rgb8(source)
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
    """Load a bundled image by name, e.g. ``load_sample("chelsea", 384)``.

    Derived in notebook 01, §2 ("The two inputs").

    Args:
        name: one of :func:`list_samples`.
        max_size: the long side in pixels (``None``: the file's own size).

    Returns:
        float32 RGB ``(h, w, 3)`` in ``[0, 1]``, as :func:`load_image`.
    """
    return load_image(sample_path(name), max_size)


def to_float_image(array: ArrayLike, *, name: str = "image") -> np.ndarray:
    """Validate an array and return it as float32 ``(h, w, 3)`` in ``[0, 1]``.

    Derived in notebook 02, §1 ("From a file to an array").

    Args:
        array: ``(h, w)``, ``(h, w, 1|3|4)`` or ``(1, h, w, 3)``; uint8/uint16 are scaled by
            their range; floats must already lie in ``[0, 1]``; an alpha channel is
            composited on white.  Tensors and nested lists are accepted too.
        name: what to call the array in error messages.

    Returns:
        A C-contiguous float32 ``(h, w, 3)`` array.

    Raises:
        ImageError: for any other shape, dtype or range, naming the problem and the fix.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NumPy's ragged-array warnings: the error says it
            array = np.asarray(array)
    except Exception as exc:
        raise ImageError(f"{name} cannot be converted to an array ({exc}); pass an (h, w, 3) "
                         "array.") from None
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
        raise ImageError(f"{name} has dtype {array.dtype}; use uint8 (0-255), uint16 or float in "
                         f"[0, 1].{hint}")
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
    """The shape with the long side ``size`` and the aspect ratio kept, e.g. ``fit_long_side(300, 451, 64)``.

    Derived in notebook 02, §3 ("Scaling so the long side is 512").

    Args:
        height: the current height in pixels.
        width: the current width in pixels.
        size: the new long side in pixels.

    Returns:
        ``(new_h, new_w)`` with ``max(new_h, new_w) == size`` (each side rounded, at least 1).
    """
    if size < 1:
        raise ImageError(f"size must be a positive number of pixels, got {size}")
    scale = size / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize(image: ArrayLike, height: int, width: int, *, resample: str = "bicubic") -> np.ndarray:
    """Resize a ``[0, 1]`` RGB array to ``(height, width)`` with PIL, per channel in float.

    Derived in notebook 02, §3 ("Scaling so the long side is 512").

    Args:
        image: ``(h, w, 3)`` RGB, anything :func:`to_float_image` accepts.
        height: the new height in pixels.
        width: the new width in pixels.
        resample: a key of :data:`RESAMPLE` (``"bicubic"``, ``"lanczos"``, ``"bilinear"``,
            ``"nearest"``).

    Returns:
        float32 ``(height, width, 3)``, clipped to ``[0, 1]`` (bicubic overshoots at edges).
    """
    image = to_float_image(image)
    if image.shape[:2] == (height, width):
        return image
    if resample not in RESAMPLE:
        raise ImageError(f"unknown resample {resample!r}; choose one of {sorted(RESAMPLE)}")
    channels = [np.asarray(Image.fromarray(image[..., c], mode="F").resize((width, height),
                                                                          RESAMPLE[resample]))
                for c in range(3)]
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0).astype(np.float32)


def resize_long_side(image: ArrayLike, size: int, *, resample: str = "bicubic",
                     min_side: int = VGG_MIN_SIDE) -> np.ndarray:
    """Resize so the long side is ``size`` pixels, keeping the aspect ratio.

    Example: ``resize_long_side(photo, 512)``.

    Derived in notebook 02, §3 ("Scaling so the long side is 512").  Gatys et al. give no
    fixed size; 512 px is the size of the paper's figures.

    Args:
        image: ``(h, w, 3)`` RGB, anything :func:`to_float_image` accepts.
        size: the new long side in pixels.
        resample: a key of :data:`RESAMPLE`.
        min_side: the smallest short side allowed (default 16, where VGG19's fourth pooling
            layer would leave nothing and TensorFlow would fail with an obscure error);
            ``min_side=1`` allows any.

    Returns:
        float32 ``(h', w', 3)`` in ``[0, 1]``.

    Raises:
        ImageError: when the short side would fall below ``min_side``.
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


def rgb_to_caffe(images: tf.Tensor | np.ndarray) -> tf.Tensor | np.ndarray:
    """The caffe formula itself: BGR order, 0-255 scale, ImageNet mean removed.

    The one implementation behind :func:`preprocess` and the model's
    :class:`nst_helpers.model.Preprocess` layer.  Derived in notebook 02, §4 ("Two
    conventions: `[0, 1]` RGB and "caffe"").

    Args:
        images: a float32 tensor or array of any rank whose last axis is RGB in ``[0, 1]``.

    Returns:
        The same shape and type, ``images[..., ::-1] * 255 - IMAGENET_MEAN_BGR``.
    """
    return images[..., ::-1] * 255.0 - IMAGENET_MEAN_BGR


def preprocess(image: ArrayLike) -> tf.Tensor:
    """``[0, 1]`` RGB -> the caffe input VGG19 was trained on: BGR, 0-255, ImageNet mean removed.

    Example: ``nh.preprocess(nh.load_sample("chelsea"))`` has shape ``(1, 300, 451, 3)``.
    The same as ``keras.applications.vgg19.preprocess_input(image * 255)``, and as the
    preprocessing of the Caffe VGG19 Gatys et al. used.

    Derived in notebook 02, §4 ("Two conventions: `[0, 1]` RGB and "caffe"").

    Args:
        image: ``(h, w, 3)`` or ``(1, h, w, 3)`` RGB in ``[0, 1]`` (array or tensor).

    Returns:
        A float32 tensor ``(1, h, w, 3)``.
    """
    import tensorflow as tf

    image = tf.convert_to_tensor(image, dtype=tf.float32)
    if image.shape.rank == 3:
        image = image[tf.newaxis]
    return rgb_to_caffe(image)


def deprocess(tensor: ArrayLike, clip: bool = True) -> np.ndarray:
    """Exact inverse of :func:`preprocess`, returning ``(h, w, 3)`` RGB in ``[0, 1]``.

    Derived in notebook 02, §4 ("Two conventions: `[0, 1]` RGB and "caffe"") and §5
    ("Why we clip").

    Args:
        tensor: a caffe image ``(h, w, 3)`` or ``(1, h, w, 3)``.
        clip: clip to ``[0, 1]`` (the default): optimisation can push pixels slightly
            outside it, and out-of-range values show as wrong colours.

    Returns:
        float32 ``(h, w, 3)`` RGB.
    """
    array = np.asarray(tensor, dtype=np.float32)
    if array.ndim == 4:
        array = array[0]
    array = (array + IMAGENET_MEAN_BGR)[..., ::-1] / 255.0
    return np.clip(array, 0.0, 1.0) if clip else array


def to_uint8(image: ArrayLike) -> np.ndarray:
    """An image as 8-bit RGB, e.g. for PIL or for the ``NST`` class's 0-255 inputs.

    Derived in notebook 11, §1 ("The images: `(h, w, 3)` arrays with values 0-255").

    Args:
        image: anything :func:`to_float_image` accepts.

    Returns:
        uint8 ``(h, w, 3)``, ``round(255 * image)``.
    """
    return (np.clip(to_float_image(image), 0, 1) * 255.0 + 0.5).astype(np.uint8)


class ImageSaveError(ImageError, OSError):
    """Writing an image failed (disk full, no permission, ...); the previous file is untouched.

    Both an :class:`ImageError` (so the CLI reports it cleanly) and an ``OSError``."""


def save_image(image: ArrayLike, path: str | os.PathLike, *, overwrite: bool = False,
               protect: tuple = (), quality: int = 95) -> Path:
    """Save a ``[0, 1]`` RGB array as PNG or JPEG, atomically, e.g. ``save_image(result.image, "out.png")``.

    Missing folders are created.  The image is written to a temporary file in the same
    folder and renamed over the target, so a failure (disk full, Ctrl-C) leaves the old
    file untouched and no partial file behind.

    Derived in notebook 01, §9 ("Your own images").

    Args:
        image: anything :func:`to_float_image` accepts.
        path: the file to write; its suffix (``.png``, ``.jpg``, ``.webp``, ``.bmp``,
            ``.tif``) chooses the format.
        overwrite: replace an existing file (never one of ``protect``).
        protect: paths that must never be replaced (the inputs of a run), however they
            are spelled (relative, ``..``, symlink, hard link).
        quality: JPEG/WebP quality, 1-95.

    Returns:
        The path written.

    Raises:
        ImageError: for a folder, an unknown suffix, an existing or protected file.
        ImageSaveError: when writing fails.
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
