"""The bad-input matrix: every odd file or array a learner may feed in, with its expected outcome.

Each case either *works correctly* (checked on the pixels, not just "no exception") or
raises :class:`nst_helpers.ImageError` whose message names the input and the fix.  All
files are generated here with PIL (or by hand, byte by byte) in ``tmp_path``; nothing
binary is committed.
"""

from __future__ import annotations

import io
import struct
import subprocess
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from PIL import Image

import nst_helpers
from nst_helpers import ImageError, NSTError
from nst_helpers.images import load_image, load_sample, resize_long_side

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


# --------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------
def quadrants(width=64, height=48) -> np.ndarray:
    """An asymmetric uint8 RGB picture: red top-left, green top-right, blue bottom, a white dot."""
    image = np.zeros((height, width, 3), np.uint8)
    image[: height // 2, : width // 2] = RED
    image[: height // 2, width // 2:] = GREEN
    image[height // 2:] = BLUE
    image[2:6, 2:6] = WHITE  # breaks the left/right and up/down symmetry
    return image


def save(tmp: Path, name: str, image: Image.Image, **options) -> Path:
    path = tmp / name
    image.save(path, **options)
    return path


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def handmade_png(width: int, height: int, depth: int, colour: int, raw_rows: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(raw_rows))
            + png_chunk(b"IEND", b""))


def png_bomb(tmp: Path, width: int, height: int) -> Path:
    """A valid PNG header claiming ``width x height`` pixels over a tiny IDAT (~100 bytes)."""
    path = tmp / f"bomb_{width}x{height}.png"
    path.write_bytes(handmade_png(width, height, 1, 0, b"\x00" * 64))
    return path


def rgb16_png(tmp: Path) -> tuple[Path, np.ndarray]:
    """A 16-bit-per-channel RGB PNG (PIL cannot write one, so by hand) and its pixels."""
    y, x = np.mgrid[0:40, 0:48]
    pixels = np.zeros((40, 48, 3), np.uint16)
    pixels[..., 0] = 65535  # pure red ...
    pixels[20:, :, 0] = 0
    pixels[20:, :, 2] = (x[20:] * 1365).astype(np.uint16)  # ... over a blue ramp
    rows = b"".join(b"\x00" + pixels[r].astype(">u2").tobytes() for r in range(40))
    path = tmp / "rgb16.png"
    path.write_bytes(handmade_png(48, 40, 16, 2, rows))
    return path, pixels


def jpeg_with_orientation(tmp: Path, orientation: int) -> Path:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return save(tmp, f"exif{orientation}.jpg", Image.fromarray(quadrants()), exif=exif, quality=98)


def near(image: np.ndarray, colour, tol=0.08) -> bool:
    return bool(np.all(np.abs(image.reshape(-1, 3).mean(axis=0) - np.asarray(colour) / 255.0) < tol))


# --------------------------------------------------------------------------------------
# The matrix.  ``make(tmp_path)`` returns (source, expected): expected is either a check
# function on the loaded array, or (exception class, fragments the message must contain).
# "{path}" in a fragment stands for the file's path: messages must name the file.
# --------------------------------------------------------------------------------------
@dataclass
class Case:
    id: str
    make: Callable
    expect: object


def fails(*fragments, kind=ImageError):
    return (kind, fragments)


def check_quadrants(image, *, tol=0.08, shape=(48, 64)):
    assert image.shape == (*shape, 3)
    h, w = shape
    assert near(image[8: h // 2 - 2, 8: w // 2 - 2], RED, tol)
    assert near(image[2: h // 2 - 2, w // 2 + 2: w - 2], GREEN, tol)
    assert near(image[h // 2 + 2:], BLUE, tol)


def case_16bit_gray(tmp):
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (48, 1))
    path = save(tmp, "gray16.png", Image.fromarray(ramp))
    assert Image.open(path).mode.startswith("I")  # really 16-bit on disk

    def check(image):
        assert image.shape == (48, 64, 3)
        np.testing.assert_allclose(image[..., 0], ramp / 65535.0, atol=1 / 255 + 1e-6)
        assert np.array_equal(image[..., 0], image[..., 2])
        assert image[0, -1, 0] == 1.0 and image[0, 0, 0] == 0.0
    return path, check


def case_16bit_rgb(tmp):
    path, pixels = rgb16_png(tmp)

    def check(image):
        np.testing.assert_allclose(image, pixels / 65535.0, atol=1 / 255 + 1e-6)
        assert near(image[:20], RED, 0.01)
    return path, check


def case_cmyk_jpeg(tmp):
    path = save(tmp, "cmyk.jpg", Image.fromarray(quadrants()).convert("CMYK"), quality=98)
    assert Image.open(path).mode == "CMYK"
    return path, check_quadrants


def case_palette_gif(tmp):
    original = Image.fromarray(quadrants()).convert("P")
    path = save(tmp, "palette.gif", original)

    def check(image):
        np.testing.assert_array_equal(image, np.asarray(original.convert("RGB"), np.float32) / 255.0)
        check_quadrants(image, tol=0.01)
    return path, check


def case_animated_gif(tmp):
    frames = [Image.new("RGB", (64, 48), RED), Image.new("RGB", (64, 48), BLUE),
              Image.new("RGB", (64, 48), GREEN)]
    path = tmp / "animated.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert getattr(Image.open(path), "n_frames", 1) == 3

    def check(image):
        assert image.shape == (48, 64, 3) and near(image, RED, 0.01)  # the first frame
    return path, check


def case_rgba(tmp):
    rgba = np.zeros((48, 64, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:16, :, 3] = 255  # opaque red
    rgba[16:32, :, 3] = 128  # half-transparent red
    rgba[32:, :, 3] = 0  # fully transparent
    path = save(tmp, "rgba.png", Image.fromarray(rgba, "RGBA"))

    def check(image):
        assert near(image[:16], RED, 0.01)
        assert near(image[16:32], (255, 127, 127), 0.01)  # red over white
        assert near(image[32:], WHITE, 0.001)  # transparent -> white, not black
    return path, check


def case_la(tmp):
    la = np.zeros((48, 64, 2), np.uint8)
    la[..., 1] = 255
    la[24:, :, 1] = 0  # bottom half transparent black
    path = save(tmp, "gray_alpha.png", Image.fromarray(la, "LA"))

    def check(image):
        assert near(image[:24], (0, 0, 0), 0.001) and near(image[24:], WHITE, 0.001)
    return path, check


def case_palette_transparency(tmp):
    image = Image.fromarray(quadrants()).convert("P")
    index_of_blue = image.getpixel((0, 47))
    path = save(tmp, "palette_trns.png", image, transparency=index_of_blue)

    def check(loaded):
        assert near(loaded[30:], WHITE, 0.001) and near(loaded[8:20, 8:28], RED, 0.01)
    return path, check


def case_grayscale(tmp):
    gray = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (48, 1))
    path = save(tmp, "gray.png", Image.fromarray(gray, "L"))

    def check(image):
        for channel in range(3):
            np.testing.assert_array_equal(image[..., channel], gray / np.float32(255.0))
    return path, check


def case_bilevel(tmp):
    bits = np.zeros((48, 64), bool)
    bits[:, 32:] = True
    path = save(tmp, "bilevel.png", Image.fromarray(bits))

    def check(image):
        assert np.all(image[:, :32] == 0.0) and np.all(image[:, 32:] == 1.0)
    return path, check


def case_float_tiff_nan(tmp):
    values = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (48, 1))
    values[0, 0] = np.nan
    path = save(tmp, "float.tif", Image.fromarray(values, "F"))

    def check(image):
        assert np.all(np.isfinite(image)) and image[0, 0, 0] == 0.0
        np.testing.assert_allclose(image[1:, :, 1], values[1:], atol=1 / 255 + 1e-6)
    return path, check


def case_exif(orientation, turns):
    def make(tmp):
        path = jpeg_with_orientation(tmp, orientation)

        def check(image):
            upright = np.rot90(quadrants(), turns).astype(np.float32) / 255.0
            assert image.shape == upright.shape
            assert np.abs(image - upright).mean() < 0.02  # JPEG noise only
            # The white dot marks the corner: it must sit where the rotation puts it.
            dot = np.unravel_index(np.argmax(image.min(axis=-1)), image.shape[:2])
            expected = np.unravel_index(np.argmax(upright.min(axis=-1)), upright.shape[:2])
            assert abs(dot[0] - expected[0]) <= 2 and abs(dot[1] - expected[1]) <= 2, (dot, expected)
        return path, check
    return make


def case_wide_ok(tmp):
    path = save(tmp, "wide_4000x40.png", Image.fromarray(quadrants(4000, 40)))

    def check(image):
        check_quadrants(image, shape=(40, 4000), tol=0.01)
        # Resizing keeps the aspect ratio exactly as far as the 32 px minimum allows ...
        assert load_image(path, 3200).shape == (32, 3200, 3)
        assert load_image(path, 8000).shape == (80, 8000, 3)
        # ... and refuses to squash it below 32 px, saying which size would work.
        with pytest.raises(ImageError, match=r"4000x40.*512x5.*at least 32 px.*max_size >= 3200"):
            load_image(path, 512)
    return path, check


def case_file_object(tmp):
    path = save(tmp, "as_file.png", Image.fromarray(quadrants()))
    return open(path, "rb"), lambda image: check_quadrants(image, tol=0.001)


def case_pil_image(tmp):
    return Image.fromarray(quadrants()).convert("P"), lambda image: check_quadrants(image, tol=0.01)


def case_bytes(tmp):
    buffer = io.BytesIO()
    Image.fromarray(quadrants()).save(buffer, format="PNG")
    return buffer.getvalue(), lambda image: check_quadrants(image, tol=0.001)


def write(name, data):
    def make(tmp):
        path = tmp / name
        path.write_bytes(data() if callable(data) else data)
        return path
    return make


def truncated(name, fmt, keep):
    def data():
        buffer = io.BytesIO()
        noise = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
        Image.fromarray(noise).save(buffer, format=fmt)
        return buffer.getvalue()[: int(len(buffer.getvalue()) * keep)]
    return write(name, data)


def tiny(width, height):
    def make(tmp):
        return save(tmp, f"tiny_{width}x{height}.png", Image.fromarray(quadrants(width, height)))
    return make


FILE_CASES = [
    Case("zero-byte file", write("empty.png", b""), fails("{path}", "empty (0 bytes)", "Re-download")),
    Case("text file named .jpg", write("notes.jpg", b"shopping list: eggs, milk\n" * 20),
         fails("{path}", "text file", "re-export it as PNG or JPEG")),
    Case("web page saved as .png", write("page.png", b"<!DOCTYPE html><html><body>404</body></html>"),
         fails("{path}", "web page", "re-export")),
    Case("HEIC photo renamed .jpg", write("iphone.jpg", b"\x00\x00\x00\x18ftypheic" + b"\x00" * 200),
         fails("{path}", "HEIC", "re-export it as PNG or JPEG")),
    Case("PNG signature only", write("sig.png", b"\x89PNG\r\n\x1a\n"), fails("{path}", "Re-download")),
    Case("truncated JPEG (half)", truncated("half.jpg", "JPEG", 0.5),
         fails("{path}", "damaged or truncated", "Re-download or re-export")),
    Case("truncated JPEG (header only)", truncated("head.jpg", "JPEG", 0.02), fails("{path}", "Re-download")),
    Case("truncated PNG (half)", truncated("half.png", "PNG", 0.5),
         fails("{path}", "damaged or truncated", "Re-download or re-export")),
    Case("truncated PNG (no IDAT)", truncated("head.png", "PNG", 0.001), fails("{path}", "Re-download")),
    Case("decompression bomb 20000x20000", lambda tmp: png_bomb(tmp, 20000, 20000),
         fails("{path}", "megapixels", "decompression bomb", "Downscale")),
    Case("oversized 9000x9000 (81 Mpx)", lambda tmp: png_bomb(tmp, 9000, 9000),
         fails("{path}", "9000x9000 = 81 megapixels", "64 Mpx", "Downscale")),
    Case("1x1 image", tiny(1, 1), fails("{path}", "1x1 pixels", "at least 32 px", "larger image")),
    Case("20x20 image", tiny(20, 20), fails("{path}", "20x20 pixels", "at least 32 px")),
    Case("4000x16 (short side 16)", tiny(4000, 16), fails("{path}", "4000x16 pixels", "at least 32 px")),
    Case("4000x40 panorama", case_wide_ok, None),
    Case("16-bit grayscale PNG", case_16bit_gray, None),
    Case("16-bit RGB PNG", case_16bit_rgb, None),
    Case("CMYK JPEG", case_cmyk_jpeg, None),
    Case("palette GIF", case_palette_gif, None),
    Case("animated GIF", case_animated_gif, None),
    Case("RGBA PNG", case_rgba, None),
    Case("gray+alpha PNG", case_la, None),
    Case("palette PNG with transparency", case_palette_transparency, None),
    Case("grayscale PNG", case_grayscale, None),
    Case("1-bit PNG", case_bilevel, None),
    Case("float TIFF with NaN", case_float_tiff_nan, None),
    Case("EXIF orientation 6 JPEG", case_exif(6, -1), None),
    Case("EXIF orientation 8 JPEG", case_exif(8, 1), None),
    Case("EXIF orientation 3 JPEG", case_exif(3, 2), None),
    Case("open file object", case_file_object, None),
    Case("PIL image object", case_pil_image, None),
    Case("bytes of a PNG", case_bytes, None),
    Case("empty bytes", lambda tmp: b"", fails("<bytes>", "empty")),
    Case("missing file", lambda tmp: tmp / "nope" / "photo.jpg",
         fails("{path}", "no such file", "Check the path")),
    Case("directory path", lambda tmp: tmp, fails("{path}", "is a folder", "PNG or JPEG")),
    Case("unknown sample name in load_image", lambda tmp: "chelsae",
         fails("chelsae", "no such file", "Did you mean the bundled sample 'chelsea'")),
]


@pytest.mark.parametrize("case", FILE_CASES, ids=[c.id for c in FILE_CASES])
def test_bad_file(case, tmp_path):
    made = case.make(tmp_path)
    source, check = made if isinstance(made, tuple) else (made, case.expect)
    try:
        if isinstance(check, tuple):
            kind, fragments = check
            with pytest.raises(kind) as info:
                load_image(source)
            message = str(info.value)
            for fragment in fragments:
                assert fragment.replace("{path}", str(source)) in message, (fragment, message)
            assert type(info.value) is ImageError and isinstance(info.value, NSTError)
        else:
            image = load_image(source)
            assert image.dtype == np.float32 and image.ndim == 3 and image.shape[-1] == 3
            assert 0.0 <= image.min() and image.max() <= 1.0
            check(image)
    finally:
        if hasattr(source, "close"):
            source.close()


def test_bomb_is_refused_before_decoding(tmp_path):
    """The 20000x20000 header is refused from its header alone: fast, no 400 MB allocation."""
    path = png_bomb(tmp_path, 20000, 20000)
    assert path.stat().st_size < 200
    start = time.perf_counter()
    with pytest.raises(ImageError):
        load_image(path)
    assert time.perf_counter() - start < 2.0


def test_postscript_is_refused_without_running_ghostscript(tmp_path, monkeypatch):
    """PIL's EPS plugin runs Ghostscript; the loader never lets a file reach it."""
    path = tmp_path / "drawing.eps"
    path.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\nshowpage\n")

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"a subprocess was started: {args}")

    monkeypatch.setattr(subprocess, "Popen", no_subprocess)
    with pytest.raises(ImageError, match="PostScript"):
        load_image(path)


def test_unknown_sample_name():
    with pytest.raises(ImageError,
                       match=r"unknown sample 'chelsae'; did you mean 'chelsea'\? choose one of:.*astronaut"):
        load_sample("chelsae")
    with pytest.raises(ImageError, match="unknown sample"):
        load_sample(["not", "a", "name"])


# --------------------------------------------------------------------------------------
# Arrays
# --------------------------------------------------------------------------------------
def ok_array(array, check):
    return array, check


ARRAY_CASES = [
    Case("rank 1", np.zeros(5, np.float32), fails("shape (5,)", "(height, width, 3)")),
    Case("rank 5", np.zeros((1, 1, 40, 40, 3), np.float32),
         fails("shape (1, 1, 40, 40, 3)", "(height, width, 3)")),
    Case("batch of 2", np.zeros((2, 40, 40, 3), np.float32), fails("shape (2, 40, 40, 3)", "pass one image")),
    Case("channels first", np.zeros((3, 40, 40), np.float32), fails("channels-first", "np.moveaxis")),
    Case("2 channels", np.zeros((40, 40, 2), np.float32), fails("shape (40, 40, 2)", "(height, width, 3)")),
    Case("5 channels", np.zeros((40, 40, 5), np.float32), fails("shape (40, 40, 5)", "(height, width, 3)")),
    Case("dtype bool", np.ones((40, 40, 3), bool), fails("dtype bool", "astype(np.float32)")),
    Case("dtype int64 0-255", np.full((40, 40, 3), 200, np.int64), fails("dtype int64", "astype(np.uint8)")),
    Case("dtype int64 negative", np.full((40, 40, 3), -5, np.int64), fails("dtype int64", "uint8 (0-255)")),
    Case("dtype complex", np.zeros((40, 40, 3), complex), fails("dtype complex128", "float32 in [0, 1]")),
    Case("dtype object", np.zeros((40, 40, 3), object), fails("dtype object", "float32 in [0, 1]")),
    Case("dtype str", np.full((40, 40, 3), "a"), fails("dtype <U1", "float32 in [0, 1]")),
    Case("NaN", np.full((40, 40, 3), np.nan, np.float32), fails("NaN or infinite", "np.nan_to_num")),
    Case("inf", np.where(np.eye(40, dtype=bool)[..., None], np.inf, 0.5).repeat(3, -1),
         fails("NaN or infinite", "np.nan_to_num")),
    Case("float64 beyond float32", np.full((40, 40, 3), 1e300), fails("NaN or infinite")),
    Case("float 0-255", np.full((40, 40, 3), 200.0, np.float32),
         fails("[200, 200]", "[0, 1]", "divide by 255")),
    Case("float -1..1", np.linspace(-1, 1, 40 * 40 * 3).reshape(40, 40, 3),
         fails("[-1, 1]", "(image + 1) / 2")),
    Case("caffe tensor", np.full((40, 40, 3), -100.0, np.float32), fails("[-100, -100]", "deprocess()")),
    Case("float huge range", np.full((40, 40, 3), 1e6, np.float32), fails("[0, 1]", "image.min()")),
    Case("empty array", np.zeros((0, 40, 3), np.float32), fails("empty", "shape (0, 40, 3)")),
    Case("20x20 array", np.zeros((20, 20, 3), np.uint8), fails("20x20 pixels", "at least 32 px")),
    Case("ragged list", [[1, 2], [3]], fails("cannot be converted to an array", "(h, w, 3)")),
    Case("None", None, fails("NoneType", "file path")),
    Case("uint8 RGB", np.full((40, 48, 3), 255, np.uint8), lambda im: np.all(im == 1.0)
         and im.shape == (40, 48, 3)),
    Case("uint16 RGB", np.full((40, 48, 3), 65535, np.uint16), lambda im: np.all(im == 1.0)),
    Case("float16", np.full((40, 48, 3), 0.5, np.float16), lambda im: np.all(im == 0.5)
         and im.dtype == np.float32),
    Case("2-D gray float", np.full((40, 48), 0.25), lambda im: im.shape == (40, 48, 3)
         and np.all(im == 0.25)),
    Case("batch of 1", np.full((1, 40, 48, 3), 0.75, np.float32), lambda im: im.shape == (40, 48, 3)),
    Case("RGBA float on white", np.concatenate([np.zeros((40, 48, 3)), np.zeros((40, 48, 1))], -1),
         lambda im: np.all(im == 1.0)),
    Case("tiny float rounding", np.full((40, 48, 3), 1.0 + 1e-7), lambda im: im.max() == 1.0),
    Case("TensorFlow tensor", "tf", lambda im: im.shape == (40, 48, 3) and np.allclose(im, 0.5)),
]


@pytest.mark.parametrize("case", ARRAY_CASES, ids=[c.id for c in ARRAY_CASES])
def test_bad_array(case):
    source = case.make
    if isinstance(source, str) and source == "tf":
        import tensorflow as tf

        source = tf.fill((40, 48, 3), 0.5)
    if isinstance(case.expect, tuple):
        kind, fragments = case.expect
        with pytest.raises(kind) as info:
            load_image(source)
        for fragment in fragments:
            assert fragment in str(info.value), (fragment, str(info.value))
        assert type(info.value) is ImageError
    else:
        image = load_image(source)
        assert image.dtype == np.float32 and image.ndim == 3 and image.shape[-1] == 3
        assert case.expect(image) is not False


# --------------------------------------------------------------------------------------
# Downstream: a too-thin image cannot crash TensorFlow inside stylize
# --------------------------------------------------------------------------------------
def test_resize_refuses_shapes_vgg_cannot_process():
    wide = np.zeros((40, 4000, 3), np.float32)
    with pytest.raises(ImageError, match=r"4000x40.*384 px.*384x4.*at least 16 px.*at least 1600 px"):
        resize_long_side(wide, 384)
    assert resize_long_side(wide, 1600).shape == (16, 1600, 3)
    assert resize_long_side(wide, 384, min_side=1).shape == (4, 384, 3)


def test_stylize_with_a_panorama_gives_a_clear_error_not_a_tensorflow_crash(needs_weights):
    wide = np.full((40, 4000, 3), 0.5, np.float32)
    with pytest.raises(ImageError, match="too thin"):
        nst_helpers.stylize(wide, wide, size=384, iterations=1, progress=False)
