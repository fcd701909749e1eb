"""nst_helpers.images, the basics: samples, resizing, VGG pre/deprocessing, safe saving.

(The exhaustive bad-input matrix lives with the reliability tests.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from nst_helpers import images, samples
from nst_helpers.errors import ImageError
from nst_helpers.images import (
    SAMPLES, deprocess, fit_long_side, list_samples, load_image, load_sample, preprocess, resize_long_side,
    save_image,
)


# --------------------------------------------------------------------------- samples
@pytest.mark.parametrize("name", list(SAMPLES))
def test_load_every_sample(name):
    path = images.sample_path(name)
    assert isinstance(path, Path) and path.is_file() and path.name == SAMPLES[name].filename
    with open(path, "rb") as handle, Image.open(path) as pil:  # a real file, for open() and PIL alike
        assert handle.read(2) and min(pil.size) >= images.MIN_SIDE
    image = load_sample(name)
    assert image.dtype == np.float32 and image.ndim == 3 and image.shape[-1] == 3
    assert min(image.shape[:2]) >= images.MIN_SIDE
    assert 0.0 <= image.min() and image.max() <= 1.0 and image.std() > 0.02  # a real picture
    small = load_sample(name, 64)
    assert max(small.shape[:2]) == 64
    # Aspect ratio kept to within rounding of one pixel.
    h, w = image.shape[:2]
    assert small.shape[:2] == fit_long_side(h, w, 64)
    assert load_image(name, 64).shape == small.shape  # sample names work in load_image too


def test_list_samples_by_kind():
    assert set(list_samples()) == set(SAMPLES)
    assert set(list_samples("content")) | set(list_samples("style")) == set(SAMPLES)
    assert "chelsea" in list_samples("content") and "chelsea" not in list_samples("style")
    with pytest.raises(ImageError, match="choose one of"):
        images.sample_path("no_such_sample")


def test_samples_ship_inside_the_package():
    """They are package data (nst_helpers/samples/), read with importlib.resources."""
    package = Path(images.__file__).resolve().parent
    if samples.SAMPLES_OVERRIDE_DIR is None:
        assert images.samples_dir() == package / "samples"
        for name in SAMPLES:
            assert images.sample_path(name).resolve().parent == package / "samples"


def test_sample_override_folder(tmp_path, monkeypatch):
    shutil.copy(images.sample_path("chelsea"), tmp_path / "chelsea.png")
    monkeypatch.setattr(samples, "SAMPLES_OVERRIDE_DIR", tmp_path)
    assert images.samples_dir() == tmp_path
    assert images.sample_path("chelsea") == tmp_path / "chelsea.png"
    assert load_sample("chelsea").shape == (300, 451, 3)
    with pytest.raises(ImageError, match="swirl.png is missing: NST_IMAGES_DIR=.*unset NST_IMAGES_DIR"):
        images.sample_path("swirl")


def test_sample_override_from_the_environment(tmp_path):
    """NST_IMAGES_DIR is read at import (checked in a fresh process)."""
    code = ("from nst_helpers import images, samples; print(images.samples_dir()); "
            "print(samples.SAMPLES_OVERRIDE_DIR)")
    env = dict(os.environ, NST_IMAGES_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == [str(tmp_path), str(tmp_path)]


def test_missing_bundled_sample_says_how_to_fix_it(monkeypatch):
    monkeypatch.setattr(samples, "SAMPLES_OVERRIDE_DIR", None)
    monkeypatch.setattr(samples, "SAMPLES_FOLDER", "no_such_folder")  # as if the files were not installed
    with pytest.raises(ImageError) as info:
        images.sample_path("chelsea")
    message = str(info.value)
    assert "chelsea.png is missing" in message and "installed without its bundled samples" in message
    assert "Reinstall the package" in message and "git checkout -- nst_helpers/samples" in message
    assert "images/ folder" not in message


# --------------------------------------------------------------------------- resizing
@pytest.mark.parametrize("shape, size, expected", [
    ((48, 64), 32, (24, 32)),
    ((48, 64), 128, (96, 128)),  # upscaling
    ((64, 40), 80, (80, 50)),  # portrait
    ((300, 451), 64, (43, 64)),  # 42.57 rounds to 43
    ((50, 50), 37, (37, 37)),
])
def test_resize_long_side_exact_long_side_and_aspect(image_factory, shape, size, expected):
    image = image_factory(*shape)
    resized = resize_long_side(image, size)
    assert resized.shape == (*expected, 3) and resized.dtype == np.float32
    assert max(resized.shape[:2]) == size
    assert 0.0 <= resized.min() and resized.max() <= 1.0
    # Content is preserved: the mean colour barely moves.
    np.testing.assert_allclose(resized.mean(axis=(0, 1)), image.mean(axis=(0, 1)), atol=0.03)


@settings(max_examples=200, deadline=None)
@given(h=st.integers(1, 5000), w=st.integers(1, 5000), size=st.integers(1, 4096))
def test_fit_long_side_property(h, w, size):
    new_h, new_w = fit_long_side(h, w, size)
    assert max(new_h, new_w) == size
    assert min(new_h, new_w) >= 1
    # Aspect ratio within half a pixel of rounding on the short side.
    if h >= w:
        assert abs(new_w - w * size / h) <= 0.5 + 1e-9 or new_w == 1
    else:
        assert abs(new_h - h * size / w) <= 0.5 + 1e-9 or new_h == 1


def test_resize_same_size_is_identity(small_image):
    np.testing.assert_array_equal(resize_long_side(small_image, 64), small_image)


# --------------------------------------------------------------------------- VGG conversion
def test_preprocess_deprocess_round_trip(small_image, small_portrait):
    for image in (small_image, small_portrait):
        caffe = preprocess(image)
        assert tuple(caffe.shape) == (1, *image.shape)
        np.testing.assert_allclose(deprocess(caffe), image, rtol=0, atol=1e-6)
        np.testing.assert_allclose(deprocess(preprocess(image[None])), image, rtol=0, atol=1e-6)


def test_preprocess_is_caffe_convention():
    pixel = np.array([[[0.0, 0.5, 1.0]]], np.float32)  # R, G, B
    caffe = np.asarray(preprocess(pixel))[0, 0, 0]
    np.testing.assert_allclose(caffe, [255.0 - 103.939, 127.5 - 116.779, 0.0 - 123.68], rtol=0, atol=1e-4)


def test_deprocess_clips_unless_asked():
    out_of_range = np.array([[[[200.0, -150.0, 0.0]]]], np.float32)  # BGR, mean removed
    clipped = deprocess(out_of_range)
    raw = deprocess(out_of_range, clip=False)
    assert clipped.min() >= 0.0 and clipped.max() <= 1.0
    assert raw.max() > 1.0 and raw.min() < 0.0
    np.testing.assert_allclose(raw[0, 0],
                               [(0.0 + 123.68) / 255, (-150 + 116.779) / 255, (200 + 103.939) / 255],
                               rtol=0, atol=1e-6)


# --------------------------------------------------------------------------- saving
def _tmp_leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".tmp") or ".tmp" in p.name]


def test_save_image_png_round_trip(tmp_path, small_image):
    path = save_image(small_image, tmp_path / "out.png")
    assert path == tmp_path / "out.png" and path.is_file()
    back = load_image(path)
    np.testing.assert_allclose(back, np.round(small_image * 255) / 255, rtol=0,
                               atol=1e-6)  # PNG is lossless 8-bit
    assert _tmp_leftovers(tmp_path) == []


def test_save_image_refuses_overwrite_unless_asked(tmp_path, small_image, small_portrait):
    path = save_image(small_image, tmp_path / "out.png")
    before = path.read_bytes()
    with pytest.raises(ImageError, match="already exists"):
        save_image(small_portrait, path)
    assert path.read_bytes() == before
    save_image(small_portrait, path, overwrite=True)
    assert load_image(path).shape == small_portrait.shape
    assert _tmp_leftovers(tmp_path) == []


def test_save_image_never_overwrites_protected_path(tmp_path, small_image, small_portrait, monkeypatch):
    source = save_image(small_image, tmp_path / "input.png")
    before = source.read_bytes()
    for spelling in (source, str(source), tmp_path / "sub" / ".." / "input.png"):
        with pytest.raises(ImageError, match="refusing to overwrite the input"):
            save_image(small_portrait, spelling, overwrite=True, protect=(source,))
    monkeypatch.chdir(tmp_path)  # a relative spelling of the same file is caught too
    with pytest.raises(ImageError, match="refusing to overwrite the input"):
        save_image(small_portrait, "input.png", overwrite=True, protect=(None, str(source)))
    assert source.read_bytes() == before


def test_save_image_creates_folders(tmp_path, small_image):
    path = save_image(small_image, tmp_path / "a" / "b" / "c" / "out.jpg")
    assert path.is_file()
    back = load_image(path)
    assert back.shape == small_image.shape
    assert np.abs(back - small_image).mean() < 0.05  # JPEG: close, not exact


def test_save_image_is_atomic_on_failure(tmp_path, small_image, small_portrait, monkeypatch):
    path = save_image(small_image, tmp_path / "out.png")
    before = path.read_bytes()

    def broken_save(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(images.Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_image(small_portrait, path, overwrite=True)
    with pytest.raises(OSError, match="disk full"):
        save_image(small_portrait, tmp_path / "new.png")
    assert path.read_bytes() == before  # the old file is intact
    assert not (tmp_path / "new.png").exists()
    assert _tmp_leftovers(tmp_path) == []  # and no temporary file is left behind


def test_save_image_output_folder_or_unknown_format(tmp_path, small_image):
    with pytest.raises(ImageError, match="is a folder"):
        save_image(small_image, tmp_path)
    with pytest.raises(ImageError, match=r"\.png or \.jpg"):
        save_image(small_image, tmp_path / "out.xyz")
