"""The studio (nst_helpers.widgets) driven from Python, no browser: widgets are plain objects.

Two real (tiny) runs cover the Run and Stop buttons end to end; the other tests swap
``stylize`` for a fake that reports a few steps, so the wiring is checked in milliseconds.
"""

from __future__ import annotations

import datetime
import html
import inspect
import io
import shlex
import warnings

import ipywidgets
import numpy as np
import pytest
from PIL import Image

import nst_helpers as nh
from nst_helpers import cli, widgets
from nst_helpers.optimise import StepInfo, StyleResult

SIZE = 64  # long side of the test runs; chelsea (451x300) becomes 64x43
EXPECTED_SHAPE = (43, 64)


def make_studio(tmp_path, *, size=SIZE, iterations=3) -> widgets.Studio:
    studio = widgets.studio(show=False, output_dir=tmp_path / "outputs")
    studio.size.min = size  # the slider starts at 128; tests use smaller, faster images
    studio.size.value = size
    studio.iterations.value = iterations
    return studio


def decode_png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def png_of(image: np.ndarray) -> bytes:
    return widgets.png_bytes(image)


IPYWIDGETS_7 = int(ipywidgets.__version__.split(".")[0]) < 8  # Colab's; CI runs 8


def upload_entry(name: str, data: bytes) -> dict:
    """One file as ipywidgets 8's FileUpload reports it (its value is a tuple of these)."""
    return dict(name=name, type="image/png", size=len(data), content=memoryview(data),
                last_modified=datetime.datetime(2024, 1, 1))


def upload_value_7(name: str, data: bytes) -> dict:
    """One file as ipywidgets 7's FileUpload reports it: its whole value."""
    return {name: {"metadata": dict(name=name, type="image/png", size=len(data), lastModified=1704067200000),
                   "content": data}}


def browser_upload(upload, name: str, data: bytes) -> None:
    """Choose one file in a real FileUpload the way the browser does, for the installed ipywidgets."""
    if IPYWIDGETS_7:  # the front end syncs metadata and data, then bumps the counter
        upload.metadata = [upload_value_7(name, data)[name]["metadata"]]
        upload.data = [data]
        upload._counter += 1
        assert upload.value == upload_value_7(name, data)
    else:
        upload.value = (upload_entry(name, data),)


@pytest.fixture(scope="module")
def finished_studio(tmp_path_factory, weights_available):
    """A studio whose Run button was pressed once (a real 3-iteration run at 64 px)."""
    if not weights_available:
        pytest.skip("no VGG19 weights offline")
    studio = make_studio(tmp_path_factory.mktemp("studio"))
    studio.run_button.click()
    assert studio.running or studio.result is not None  # the click returns at once, the run goes on
    studio.wait()
    return studio


class FakeStylize:
    """Stands in for nh.stylize: records its arguments, reports ``steps`` iterations, then
    returns (or raises ``error``).  Images are flat grey levels 0.1, 0.2, ... per iteration."""

    def __init__(self, steps=3, error=None):
        self.steps, self.error, self.calls = steps, error, []
        self.__signature__ = inspect.signature(nh.stylize)  # the options the real one accepts

    def image(self, iteration):
        return np.full((*EXPECTED_SHAPE, 3), 0.1 * iteration, dtype=np.float32)

    def __call__(self, content, style, *, callback, **options):
        self.calls.append(dict(content=content, style=style, **options))
        stopped = None
        for iteration in range(1, self.steps + 1):
            loss = 10.0 - iteration
            info = StepInfo(iteration, 0, EXPECTED_SHAPE, dict(total=loss, content=1.0, style=2.0, tv=0.1),
                            loss, self.image(iteration), 0.01 * iteration)
            if callback(info):
                stopped = "stopped by the callback"
                break
        if self.error is not None:
            raise self.error
        return StyleResult(image=self.image(iteration), loss=loss, iterations=iteration, seconds=0.5,
                           stopped=stopped)


@pytest.fixture
def fake_stylize(monkeypatch):
    fake = FakeStylize()
    monkeypatch.setattr(widgets, "stylize", fake)
    return fake


# ------------------------------------------------------------------------------- building
def test_studio_has_every_control(tmp_path):
    studio = widgets.studio(show=False, output_dir=tmp_path)
    assert studio.content_choice.options == tuple(nh.list_samples("content"))
    assert studio.style_choice.options == tuple(nh.list_samples("style"))
    assert isinstance(studio.style_weight, widgets.widgets.FloatLogSlider)
    assert isinstance(studio.tv_weight, widgets.widgets.FloatLogSlider)
    assert (studio.size.min, studio.size.max, studio.size.step, studio.size.value) == (128, 1024, 64, 384)
    assert list(studio.layer_boxes) == list(nh.STYLE_LAYERS) and all(b.value for b in studio.layer_boxes.values())
    assert studio.stop_button.disabled and studio.save_button.disabled and not studio.run_button.disabled
    assert isinstance(studio.ui, widgets.widgets.Widget)
    assert decode_png(studio.content_thumbnail.value).shape[2] == 3  # thumbnails shown from the start
    assert len(studio.preview.value) > 0


def test_settings_reach_stylize(tmp_path, fake_stylize):
    studio = make_studio(tmp_path, size=128, iterations=7)
    studio.style_weight.value, studio.tv_weight.value = 100.0, 0.01
    studio.layer_boxes["block5_conv1"].value = False
    studio.run(blocking=True)
    (call,) = fake_stylize.calls
    assert (call["content"], call["style"]) == ("chelsea", "swirl")
    assert (call["size"], call["iterations"]) == (128, 7)
    assert call["style_weight"] == pytest.approx(100.0) and call["tv_weight"] == pytest.approx(0.01)
    assert call["style_layers"] == list(nh.STYLE_LAYERS[:4])
    assert call["progress"] is False


def test_colour_checkbox_passes_preserve_color(tmp_path, fake_stylize):
    studio = make_studio(tmp_path)
    assert not studio.preserve_color.value and not studio.preserve_color.disabled
    studio.run(blocking=True)
    assert "preserve_color" not in fake_stylize.calls[0]
    studio.preserve_color.value = True
    studio.run(blocking=True)
    assert fake_stylize.calls[1]["preserve_color"] == "luminance"
    with pytest.raises(AttributeError, match="preserve_color"):
        studio.preserve_colour  # noqa: B018 (one spelling)


def test_controls_read_the_settings_defaults(tmp_path):
    from nst_helpers.settings import StyleSettings

    studio = widgets.studio(show=False, output_dir=tmp_path)
    for name in ("style_weight", "tv_weight", "size", "iterations"):
        assert getattr(studio, name).value == pytest.approx(StyleSettings.default(name)), name
    assert studio.selected_layers() == list(StyleSettings.default("style_layers"))


def test_progress_counts_every_stage(tmp_path, fake_stylize):
    studio = make_studio(tmp_path, size=1024, iterations=4)
    studio.run(blocking=True)
    assert studio.progress.max == 8  # 512 then 1024: the settings' stage schedule


def test_bad_settings_are_a_message_not_a_run(tmp_path, fake_stylize):
    studio = make_studio(tmp_path, size=16)  # below the smallest size stylize accepts
    assert studio.run(blocking=True) is None and not fake_stylize.calls
    assert "size must be an integer" in studio.message.value


def test_copy_as_command_shows_the_line(tmp_path):
    studio = make_studio(tmp_path, size=128, iterations=7)
    studio.layer_boxes["block5_conv1"].value = False
    studio.preserve_color.value = True
    studio.command_button.click()
    line = studio.command_line()
    assert line == ("python -m nst_helpers stylize chelsea swirl --size 128 --iterations 7 --style-layers "
                    "block1_conv1 block2_conv1 block3_conv1 block4_conv1 --preserve-color luminance")
    assert html.escape(line) in studio.message.value
    studio.use_upload("content", "mine.png", png_of(np.full((40, 60, 3), 0.5, np.float32)))
    assert studio.show_command() is None and "save it to a file" in studio.message.value


def test_copy_as_command_reproduces_the_picture(tmp_path, weights_available):
    """The studio's picture and the CLI's from its command line are the same PNG, bit for bit."""
    if not weights_available:
        pytest.skip("no VGG19 weights offline")
    studio = make_studio(tmp_path, size=48, iterations=2)
    studio.tv_weight.value = 0.1
    result = studio.run(blocking=True)
    assert result is not None and result.stopped is None, studio.message.value
    out = tmp_path / "cli.png"
    words = shlex.split(studio.command_line())
    assert words[:4] == ["python", "-m", "nst_helpers", "stylize"]
    assert cli.main([*words[3:], "-o", str(out), "-q"]) == 0
    np.testing.assert_array_equal(decode_png(out.read_bytes()), decode_png(png_of(studio.image)))


# ------------------------------------------------------------------------------- real runs
def test_run_button_shows_the_result(finished_studio):
    studio = finished_studio
    assert studio.result is not None and studio.result.stopped is None
    assert decode_png(studio.preview.value).shape == (*EXPECTED_SHAPE, 3)
    assert studio.progress.value == studio.progress.max == 3 and studio.progress.bar_style == "success"
    assert studio.status.value.startswith("Done: 3 iterations")
    assert 'href="data:image/png;base64,' in studio.download_link.value
    assert not studio.running and not studio.run_button.disabled and studio.stop_button.disabled
    assert not studio.save_button.disabled


def test_stop_keeps_the_best_image(tmp_path, weights_available, monkeypatch):
    if not weights_available:
        pytest.skip("no VGG19 weights offline")
    studio = make_studio(tmp_path, iterations=3)
    on_step = studio._on_step

    def press_stop_after_first_iteration(info):
        if info.iteration == 1:
            studio.stop_button.click()  # as a user would, while the run goes on in its thread
        return on_step(info)

    monkeypatch.setattr(studio, "_on_step", press_stop_after_first_iteration)
    result = studio.run(blocking=True)
    assert result.stopped and result.iterations == 1
    assert studio.image is not None and studio.image.shape == (*EXPECTED_SHAPE, 3)
    assert decode_png(studio.preview.value).shape == (*EXPECTED_SHAPE, 3)
    assert studio.status.value.startswith("Stopped after 1 iteration in")
    assert studio.progress.value == 1 and studio.progress.bar_style == "warning"
    assert not studio.save_button.disabled


def test_colour_checkbox_runs_for_real(tmp_path, weights_available):
    if not weights_available:
        pytest.skip("no VGG19 weights offline")
    studio = make_studio(tmp_path, iterations=2)
    studio.preserve_color.value = True
    result = studio.run(blocking=True)
    assert result is not None and result.stopped is None, studio.message.value
    assert result.settings.get("preserve_color") == "luminance"
    assert decode_png(studio.preview.value).shape == (*EXPECTED_SHAPE, 3)


# ------------------------------------------------------------------------------- failures
@pytest.mark.parametrize("error", [RuntimeError("out of memory on the GPU"), KeyboardInterrupt()])
def test_failure_mid_run_keeps_the_best_image(tmp_path, monkeypatch, error):
    fake = FakeStylize(steps=2, error=error)
    monkeypatch.setattr(widgets, "stylize", fake)
    studio = make_studio(tmp_path)
    assert studio.run(blocking=True) is None
    expected = "out of memory on the GPU" if isinstance(error, RuntimeError) else "interrupted"
    assert expected in studio.status.value and expected in studio.message.value
    assert np.allclose(studio.image, fake.image(2))  # the best (lowest-loss) image seen
    assert np.array_equal(decode_png(studio.preview.value), widgets.to_uint8(fake.image(2)))
    assert studio.progress.bar_style == "danger" and not studio.run_button.disabled
    assert studio.save().is_file()


def test_no_style_layer_gives_a_clear_message(tmp_path, fake_stylize):
    studio = make_studio(tmp_path)
    for box in studio.layer_boxes.values():
        box.value = False
    studio.run_button.click()
    assert studio._worker is None and fake_stylize.calls == []  # nothing started
    assert "Tick at least one box" in studio.message.value


def test_uploaded_files_reads_both_ipywidgets_formats():
    data = b"\x89PNG fake bytes"
    expected = [("My photo.png", data)]
    assert widgets.uploaded_files((upload_entry("My photo.png", data),)) == expected  # ipywidgets 8
    assert widgets.uploaded_files(upload_value_7("My photo.png", data)) == expected  # ipywidgets 7
    assert all(type(content) is bytes for _, content in widgets.uploaded_files((upload_entry("a", data),)))
    assert widgets.uploaded_files(()) == widgets.uploaded_files({}) == []  # nothing chosen yet


@pytest.mark.parametrize("version", [7, 8])
def test_upload_in_either_format_reaches_the_studio(tmp_path, image_factory, version):
    """The installed version's format arrives through a real FileUpload below; this is the other one too."""
    studio = make_studio(tmp_path)
    data = png_of(image_factory(60, 90))
    value = upload_value_7("photo.png", data) if version == 7 else (upload_entry("photo.png", data),)
    studio._uploaded("style", value)
    assert studio.style_choice.value == "upload:photo.png" and "Using your style image" in studio.message.value


def test_studio_uses_only_what_ipywidgets_7_and_8_both_have(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        studio = widgets.studio(show=False, output_dir=tmp_path)
    unknown = [str(w.message) for w in caught if "unrecognized arguments" in str(w.message)]
    assert not unknown, unknown  # traitlets' warning for a keyword this ipywidgets does not know
    for layer, box in studio.layer_boxes.items():  # hover text: tooltip (8) or description_tooltip (7)
        assert getattr(box, "tooltip" if box.has_trait("tooltip") else "description_tooltip") == \
            widgets.LAYER_HINTS[layer]


def test_bad_upload_shows_an_error_and_keeps_the_choice(tmp_path):
    studio = make_studio(tmp_path)
    browser_upload(studio.content_upload, "notes.jpg", b"this is not a picture")
    assert "Cannot use &#x27;notes.jpg&#x27; as the content image" in studio.message.value
    assert studio.content_choice.value == "chelsea"
    browser_upload(studio.style_upload, "tiny.png", png_of(np.zeros((8, 8, 3), np.float32)))
    assert "at least" in studio.message.value and studio.style_choice.value == "swirl"


def test_good_upload_is_selected_and_used(tmp_path, fake_stylize, image_factory):
    studio = make_studio(tmp_path)
    photo = image_factory(60, 90)
    browser_upload(studio.content_upload, "My photo.png", png_of(photo))
    assert studio.content_choice.value == "upload:My photo.png"
    assert "Using your content image" in studio.message.value
    studio.run(blocking=True)
    np.testing.assert_allclose(fake_stylize.calls[0]["content"], photo, atol=1 / 255)
    assert studio.save().name == "My_photo_swirl.png"


# ------------------------------------------------------------------------------- saving
def test_save_writes_a_new_file_each_time(tmp_path, fake_stylize):
    studio = make_studio(tmp_path)
    assert studio.save() is None and "press Run first" in studio.message.value
    studio.run(blocking=True)
    existing = tmp_path / "outputs" / "chelsea_swirl.png"
    existing.parent.mkdir()
    existing.write_bytes(b"someone else's file")
    paths = [studio.save() for _ in range(3)]
    assert len(set(paths)) == 3 and all(p.parent == existing.parent for p in paths)
    assert existing.read_bytes() == b"someone else's file"  # never overwritten
    for path in paths:
        assert nh.load_image(path).shape == (*EXPECTED_SHAPE, 3)
    assert "Saved" in studio.message.value
    assert studio.save(tmp_path / "elsewhere").parent == tmp_path / "elsewhere"
