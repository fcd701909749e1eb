"""The studio (nst_helpers.widgets) driven from Python, no browser: widgets are plain objects.

Two real (tiny) runs cover the Run and Stop buttons end to end; the other tests swap
``stylize`` for a fake that reports a few steps, so the wiring is checked in milliseconds.
"""

from __future__ import annotations

import datetime
import io
import inspect

import numpy as np
import pytest
from PIL import Image

import nst_helpers as nh
from nst_helpers import widgets
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


def upload_entry(name: str, data: bytes) -> dict:
    """One file as the browser's FileUpload widget reports it."""
    return dict(name=name, type="image/png", size=len(data), content=memoryview(data),
                last_modified=datetime.datetime(2024, 1, 1))


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


def test_colour_checkbox_is_passed_only_when_stylize_supports_it(tmp_path, fake_stylize):
    studio = make_studio(tmp_path)
    supported = "preserve_color" in inspect.signature(nh.stylize).parameters
    assert studio.colour_supported == supported and studio.preserve_colour.disabled == (not supported)
    studio.preserve_colour.value = True
    studio.run(blocking=True)
    expected = {"preserve_color": "luminance"} if supported else {}
    assert {k: v for k, v in fake_stylize.calls[0].items() if k == "preserve_color"} == expected


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


@pytest.mark.skipif("preserve_color" not in inspect.signature(nh.stylize).parameters,
                    reason="this nst_helpers has no colour preservation")
def test_colour_checkbox_runs_for_real(tmp_path, weights_available):
    if not weights_available:
        pytest.skip("no VGG19 weights offline")
    studio = make_studio(tmp_path, iterations=2)
    studio.preserve_colour.value = True
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


def test_bad_upload_shows_an_error_and_keeps_the_choice(tmp_path):
    studio = make_studio(tmp_path)
    studio.content_upload.value = (upload_entry("notes.jpg", b"this is not a picture"),)
    assert "Cannot use &#x27;notes.jpg&#x27; as the content image" in studio.message.value
    assert studio.content_choice.value == "chelsea"
    studio.style_upload.value = (upload_entry("tiny.png", png_of(np.zeros((8, 8, 3), np.float32))),)
    assert "at least" in studio.message.value and studio.style_choice.value == "swirl"


def test_good_upload_is_selected_and_used(tmp_path, fake_stylize, image_factory):
    studio = make_studio(tmp_path)
    photo = image_factory(60, 90)
    studio.content_upload.value = (upload_entry("My photo.png", png_of(photo)),)
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
