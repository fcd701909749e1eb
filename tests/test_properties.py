"""Property tests (hypothesis) for the image boundary of nst_helpers.

* ``preprocess``/``deprocess`` and ``to_float_image``/``to_uint8`` round-trip any valid image.
* ``load_image`` given *any* bytes, any mutation of real image files or any array either
  returns a valid image or raises :class:`nst_helpers.ImageError`: never another
  exception, never a hang (every example has a deadline).
"""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from nst_helpers import ImageError
from nst_helpers.images import MIN_SIDE, deprocess, load_image, preprocess, to_float_image, to_uint8

# Deadlines are generous (the test machine is shared and loaded) but finite: a decoder
# that loops or decodes a bomb takes far longer than this.
FUZZ = settings(max_examples=200, deadline=3000, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# Pillow warns about the corrupt EXIF blocks the fuzzer makes; only exceptions matter here.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def assert_valid_image(image: np.ndarray) -> None:
    assert isinstance(image, np.ndarray) and image.dtype == np.float32
    assert image.ndim == 3 and image.shape[-1] == 3 and min(image.shape[:2]) >= MIN_SIDE
    assert np.all(np.isfinite(image)) and image.min() >= 0.0 and image.max() <= 1.0


def load_or_image_error(source):
    """``load_image(source)``; an ImageError is an accepted outcome, anything else fails."""
    try:
        image = load_image(source)
    except ImageError as error:
        assert str(error), "an ImageError must say what is wrong"
        return None
    assert_valid_image(image)
    return image


# --------------------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------------------
unit_images = hnp.arrays(
    np.float32, hnp.array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=12).map(lambda s: (*s[:2], 3)),
    elements=st.floats(0.0, 1.0, width=32),
)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(image=unit_images, batch=st.booleans())
def test_preprocess_deprocess_round_trip(image, batch):
    caffe = preprocess(image[None] if batch else image)
    assert tuple(caffe.shape) == (1, *image.shape)
    back = deprocess(caffe)
    assert back.shape == image.shape and back.dtype == np.float32
    np.testing.assert_allclose(back, image, rtol=0, atol=2e-6)
    # The caffe convention: BGR, 0-255, ImageNet mean removed.
    np.testing.assert_allclose(np.asarray(caffe)[0, ..., 0], image[..., 2] * 255 - 103.939, rtol=0, atol=1e-3)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(image=unit_images)
def test_to_float_image_accepts_valid_floats_unchanged_and_uint8_round_trips(image):
    np.testing.assert_array_equal(to_float_image(image), image)
    np.testing.assert_array_equal(to_float_image(image.astype(np.float64)), image)
    as_uint8 = to_uint8(image)
    assert as_uint8.dtype == np.uint8
    np.testing.assert_array_equal(to_uint8(to_float_image(as_uint8)), as_uint8)
    assert np.abs(as_uint8 / 255.0 - image).max() <= 0.5 / 255 + 1e-6


# --------------------------------------------------------------------------------------
# load_image never raises anything but ImageError
# --------------------------------------------------------------------------------------
@FUZZ
@given(data=st.binary(max_size=2048))
def test_arbitrary_bytes_raise_only_image_error(data):
    load_or_image_error(data)


MAGIC_PREFIXES = [
    b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1", b"GIF89a", b"GIF87a", b"BM",
    b"II*\x00", b"MM\x00*", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"P6\n", b"P5\n", b"%!PS-Adobe-3.0 EPSF",
    b"%PDF-1.4", b"8BPS", b"\x00\x00\x00\x18ftypheic",
]


@FUZZ
@given(prefix=st.sampled_from(MAGIC_PREFIXES), rest=st.binary(max_size=2048))
def test_bytes_behind_a_real_magic_number_raise_only_image_error(prefix, rest):
    """Random bytes almost never pass a format check; behind a real signature they reach the decoders."""
    load_or_image_error(prefix + rest)


def _real_files() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:48, 0:64]
    pixels = np.stack([x * 4, y * 5, (x + y) * 2], axis=-1).astype(np.uint8)
    pixels[::7] = rng.integers(0, 256, pixels[::7].shape, dtype=np.uint8)
    rgb = Image.fromarray(pixels)
    files = {}
    for name, image, options in [
        ("png", rgb, dict(format="PNG")),
        ("png-palette", rgb.convert("P"), dict(format="PNG")),
        ("png-rgba", rgb.convert("RGBA"), dict(format="PNG")),
        ("jpeg", rgb, dict(format="JPEG", quality=90)),
        ("jpeg-progressive", rgb, dict(format="JPEG", quality=80, progressive=True)),
        ("gif", rgb.convert("P"), dict(format="GIF")),
        ("bmp", rgb, dict(format="BMP")),
        ("tiff", rgb, dict(format="TIFF", compression="tiff_deflate")),
        ("webp", rgb, dict(format="WEBP", quality=80)),
        ("ppm", rgb, dict(format="PPM")),
    ]:
        buffer = io.BytesIO()
        image.save(buffer, **options)
        files[name] = buffer.getvalue()
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    rgb.save(buffer, format="JPEG", exif=exif)
    files["jpeg-exif"] = buffer.getvalue()
    return files


REAL_FILES = _real_files()


def test_the_unmutated_files_load():
    for name, data in REAL_FILES.items():
        image = load_image(data)
        assert_valid_image(image)
        assert image.shape == ((64, 48, 3) if name == "jpeg-exif" else (48, 64, 3)), name


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(0, 7)),
    st.tuples(st.just("set"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 64)),
    st.tuples(st.just("duplicate"), st.integers(0, 10**6), st.integers(1, 64)),
)


def mutate(data: bytes, mutations) -> bytes:
    data = bytearray(data)
    for kind, where, value in mutations:
        if not data:
            break
        at = where % len(data)
        if kind == "flip":
            data[at] ^= 1 << value
        elif kind == "set":
            data[at] = value
        elif kind == "truncate":
            del data[at:]
        elif kind == "delete":
            del data[at:at + value]
        else:
            data[at:at] = data[at:at + value]
    return bytes(data)


@FUZZ
@given(name=st.sampled_from(sorted(REAL_FILES)), mutations=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_real_files_raise_only_image_error(name, mutations):
    data = mutate(REAL_FILES[name], mutations)
    assume(data != REAL_FILES[name])
    load_or_image_error(data)


@settings(max_examples=60, deadline=3000, derandomize=True)
@given(width=st.integers(1, 60000), height=st.integers(1, 60000), depth=st.sampled_from([1, 8, 16]),
       colour=st.sampled_from([0, 2, 3, 4, 6]))
def test_png_headers_with_any_size_raise_only_image_error(width, height, depth, colour):
    """Hand-made PNGs whose header claims any size (bombs included) over a tiny IDAT."""
    assume(not (colour in (2, 4, 6) and depth == 1))

    def chunk(kind, body):
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([depth, colour, 0, 0, 0])
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
    if colour == 3:
        data += chunk(b"PLTE", bytes(range(48)))
    data += chunk(b"IDAT", zlib.compress(b"\x00" * 4096)) + chunk(b"IEND", b"")
    image = load_or_image_error(data)
    if width * height > 64_000_000 or min(width, height) < MIN_SIDE:
        assert image is None


@settings(max_examples=150, deadline=None, derandomize=True)
@given(array=hnp.arrays(hnp.scalar_dtypes(),
                        hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=40)))
def test_arbitrary_arrays_raise_only_image_error(array):
    image = load_or_image_error(array)
    if image is not None:
        assert array.dtype in (np.uint8, np.uint16) or array.dtype.kind == "f"


@pytest.mark.parametrize("value", [None, 3, 2.5, True, {"a": 1}, {1, 2}, [[1, 2], [3]], object()])
def test_odd_python_values_raise_image_error(value):
    with pytest.raises(ImageError):
        load_image(value)
