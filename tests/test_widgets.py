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
    assert list(studio.layer_boxes) == list(nh.STYLE_LAYERS)
    assert all(b.value for b in studio.layer_boxes.values())
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
    assert studio.style_choice.value == "upload:photo.png"
    assert "Using your style image" in studio.message.value


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


# ------------------------------------------------------------------------------- every option
# How the test sets each hand-made control to another valid value; generated controls are set from
# their widget (another choice, a larger number), text ones from TEXT_EXAMPLES.
HANDMADE = {
    "size": lambda s: setattr(s.size, "value", 256),
    "iterations": lambda s: setattr(s.iterations, "value", 7),
    "style_weight": lambda s: setattr(s.style_weight, "value", 100.0),
    "tv_weight": lambda s: setattr(s.tv_weight, "value", 0.01),
    "style_layers": lambda s: setattr(s.layer_boxes["block5_conv1"], "value", False),
    "preserve_color": lambda s: setattr(s.preserve_color, "value", True),
    "style_scale": lambda s: setattr(s.style_scale, "value", 0.5),
    "time_budget": lambda s: setattr(s.time_budget, "value", 30.0),
    "style_weights": lambda s: (setattr(s.style2_choice, "value", "hubble"), setattr(s.blend, "value", 0.25)),
    "style_masks": lambda s: setattr(s.mask_mode, "value", "rectangle"),
}
TEXT_EXAMPLES = {"stages": "192 384", "content_layers": "block4_conv2", "style_layer_weights": "1 2 3 4 5",
                 "optimizer_options": "history_size=5", "stop_tolerance": "0.02"}


def set_another_value(studio, name):
    """Set the control of field ``name`` to a valid value other than its default, as a user would."""
    control = studio.settings_controls[name]
    if name in HANDMADE:
        HANDMADE[name](studio)
        return
    assert control.generated, f"{name}: a hand-made control needs an entry in HANDMADE"
    widget = control.widget
    if isinstance(widget, ipywidgets.Dropdown):
        values = [option[1] if isinstance(option, tuple) else option for option in widget.options]
        widget.value = next(value for value in values if value != widget.value)
    elif isinstance(widget, ipywidgets.Checkbox):
        widget.value = not widget.value
    elif isinstance(widget, ipywidgets.BoundedIntText):
        widget.value += 1
    elif isinstance(widget, ipywidgets.FloatText):
        widget.value += 0.5
    else:
        assert name in TEXT_EXAMPLES, f"{name}: add a valid non-default text for its control to TEXT_EXAMPLES"
        widget.value = TEXT_EXAMPLES[name]


def same(a, b) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    return type(a) is type(b) and a == b


def all_widgets(widget) -> list:
    found = [widget]
    for child in getattr(widget, "children", ()):
        found += all_widgets(child)
    return found


def stylize_flags() -> dict:
    parser = cli.build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a, cli.argparse._SubParsersAction)]
    return {flag: action.dest for action in subparsers.choices["stylize"]._actions
            for flag in action.option_strings}


@pytest.mark.parametrize("name", nh.StyleSettings._names())
def test_every_setting_has_a_flag_and_a_studio_control(tmp_path, name):
    """Each StyleSettings field: a same-named CLI flag, and a control shown in the studio that changes
    what the studio passes to stylize.  A new field fails here until it has both."""
    assert stylize_flags().get(cli.flag(name)) == name
    studio = widgets.studio(show=False, output_dir=tmp_path)
    assert name in studio.settings_controls.controls, f"the studio has no control for {name}"
    control = studio.settings_controls[name]
    assert any(w is control.widget for w in all_widgets(studio.ui)), f"the control of {name} is not shown"
    default = nh.StyleSettings.default(name)
    before = studio.stylize_options().get(name, default)
    set_another_value(studio, name)
    after = studio.stylize_options()
    assert not same(after.get(name, default), before), f"setting the control of {name} changed nothing"
    nh.StyleSettings.from_options(**studio._picture_options())  # a valid value
    assert studio._settings_problem() is None


def test_the_studio_reaches_every_field_and_shows_the_extras_closed(tmp_path):
    import dataclasses

    studio = widgets.studio(show=False, output_dir=tmp_path)
    assert list(studio.settings_controls.controls) == [f.name for f in dataclasses.fields(nh.StyleSettings)]
    assert studio.more.selected_index is None  # "more settings" starts closed: the first view stays simple
    titles = [studio.more.get_title(i) for i in range(len(studio.more.children))]
    assert titles[:2] == ["second style and blend", "mask: where the styles go"]
    assert studio.style2_choice.value == "" and studio.style2_choice.label == "none"
    assert tuple(value for _, value in studio.pooling.options) == nh.StyleSettings.choices("pooling")


def test_a_field_added_later_gets_a_generated_control(tmp_path, monkeypatch):
    import dataclasses

    from nst_helpers import studio_controls

    @dataclasses.dataclass(frozen=True)
    class Wider(nh.StyleSettings):
        octaves: int = dataclasses.field(default=3, metadata=dict(
            help="a new option", choices=None, cli_type=int, nargs=None, metavar=None))
        palette: list | None = dataclasses.field(default=None, metadata=dict(
            help="another", choices=None, cli_type=float, nargs="+", metavar=None))

    monkeypatch.setattr(studio_controls, "StyleSettings", Wider)
    studio = widgets.studio(show=False, output_dir=tmp_path)
    octaves, palette = studio.settings_controls["octaves"], studio.settings_controls["palette"]
    assert octaves.generated and isinstance(octaves.widget, ipywidgets.BoundedIntText)
    assert isinstance(palette.widget, ipywidgets.Text) and palette.value is None  # empty: the default None
    shown = all_widgets(studio.more.children[-1])  # the last section takes what no section names
    assert octaves.widget in shown and palette.widget in shown
    assert "octaves" not in studio.stylize_options()
    studio.octaves.value, studio.palette.value = 5, "0.5 1"
    assert (studio.stylize_options()["octaves"], studio.stylize_options()["palette"]) == (5, [0.5, 1.0])


@pytest.mark.parametrize("name, text, expected", [
    ("stages", "abc", "stages: 'abc' is not understood; type whole numbers"),
    ("stages", "64 128", "stages must be sizes >= 32 ending at size=64"),  # StyleSettings' own message
    ("optimizer_options", "learning_rate", "optimizer options: 'learning_rate' is not understood"),
    ("content_layers", "block9_conv9", "unknown VGG19 layer(s) ['block9_conv9']"),
    ("style_layer_weights", "1 2", "style_layer_weights needs 5 non-negative numbers"),
])
def test_bad_text_in_a_control_is_a_message(tmp_path, fake_stylize, name, text, expected):
    studio = make_studio(tmp_path)
    studio.settings_controls[name].widget.value = text
    assert studio.run(blocking=True) is None and not fake_stylize.calls
    assert "These settings cannot run" in studio.message.value
    assert html.escape(expected) in studio.message.value
    assert studio.show_command() is None and html.escape(expected) in studio.message.value


def test_bad_numbers_in_generated_controls_are_a_message(tmp_path, fake_stylize):
    studio = make_studio(tmp_path)
    studio.content_weight.value = -1.0
    assert studio.run(blocking=True) is None
    assert "content_weight must be a finite number &gt;= 0" in studio.message.value
    studio.content_weight.value, studio.sw_directions.value = 1.0, 0
    assert studio.run(blocking=True) is None
    assert "sw_directions must be an integer &gt;= 1" in studio.message.value
    assert not fake_stylize.calls


def test_blend_gives_two_styles_and_their_weights(tmp_path, fake_stylize):
    studio = make_studio(tmp_path)
    assert studio.blend.disabled  # no second style yet
    studio.style2_choice.value = "mosaic"
    assert not studio.blend.disabled and studio.style2_thumbnail.value
    studio.blend.value = 0.3
    studio.run(blocking=True)
    call = fake_stylize.calls[0]
    assert call["style"] == ["swirl", "mosaic"] and call["style_weights"] == [0.7, 0.3]
    assert "style_masks" not in call
    assert studio.save().name == "chelsea_swirl+mosaic.png"  # as the command line names it


def test_mask_places_the_styles(tmp_path, fake_stylize):
    studio = make_studio(tmp_path)
    studio.mask_mode.value = "rectangle"
    studio.mix.top.value, studio.mix.height.value = 0.0, 0.5
    studio.mix.left.value, studio.mix.width.value = 0.0, 1.0
    assert studio.mix.mask_preview.value and "no style (the content is kept)" in studio.mix.note.value
    studio.run(blocking=True)
    (mask,) = fake_stylize.calls[0]["style_masks"]  # one style: the content is kept outside the mask
    content = nh.load_image("chelsea")
    np.testing.assert_array_equal(mask, nh.mask_from_rectangle(content, 0.0, 0.0, 0.5, 1.0))
    studio.style2_choice.value = "mosaic"
    studio.mix.feather.value = 3.0
    assert studio.blend.disabled and "style 2" in studio.mix.note.value  # a mask places, it does not blend
    studio.run(blocking=True)
    call = fake_stylize.calls[1]
    mask, rest = call["style_masks"]
    assert rest is None and call["style"] == ["swirl", "mosaic"] and "style_weights" not in call
    assert len(np.unique(mask)) > 2  # soft edges, in the 8-bit steps of the PNG the command line gets
    np.testing.assert_allclose(mask * 255, np.round(mask * 255), atol=1e-3)


def test_colour_mask_and_combinations_that_cannot_run(tmp_path, fake_stylize):
    studio = make_studio(tmp_path)
    content = nh.load_image("chelsea")
    studio.mask_mode.value = "color"
    studio.mix.color.value, studio.mix.tolerance.value = "#000000", 0.0  # no pixel of the cat is pure black
    assert studio.run(blocking=True) is None and "the mask is empty" in studio.message.value
    studio.mix.tolerance.value = 0.5
    studio.run(blocking=True)
    (mask,) = fake_stylize.calls[0]["style_masks"]
    np.testing.assert_array_equal(mask, nh.mask_from_color(content, "#000000", 0.5))
    studio.mask_mode.value = "rectangle"
    studio.mix.top.value = studio.mix.left.value = 0.0
    studio.mix.height.value = studio.mix.width.value = 1.0
    studio.style2_choice.value = "mosaic"
    assert studio.run(blocking=True) is None and "style 2 goes nowhere" in studio.message.value
    assert len(fake_stylize.calls) == 1


def test_command_line_carries_every_option(tmp_path):
    """The studio's options and the CLI's from its command line are the same values (no run)."""
    studio = make_studio(tmp_path, size=128, iterations=7)
    for name in nh.StyleSettings._names():
        if name not in ("time_budget", "style_layer_weights"):
            set_another_value(studio, name)
    studio.size.value = 384  # the stages example ends at 384
    line = studio.command_line()
    args = cli.build_parser().parse_args(shlex.split(line)[3:])
    assert (args.content, args.style) == ("chelsea", ["swirl", "hubble"])
    given = cli.settings_options(args)
    expected = studio._picture_options()
    at_default = {name for name, value in expected.items() if same(value, nh.StyleSettings.default(name))}
    assert at_default == {"size"} and set(given) == set(expected)  # the CLI takes the size from --stages
    (path, rest), (mask, none) = given.pop("style_masks"), expected.pop("style_masks")
    assert rest is none is None
    np.testing.assert_array_equal(nh.controls.to_mask(path), mask)  # the file is the run's mask
    for name, value in given.items():
        assert same(value, expected[name]), name
    assert studio.command_line() == line and len(list((tmp_path / "outputs").glob("*.png"))) == 1  # one file


def test_copy_as_command_reproduces_a_blend_and_a_mask(tmp_path, weights_available):
    """Two styles placed by a soft colour mask, and a blend: the CLI paints the studio's PNG bit for bit."""
    if not weights_available:
        pytest.skip("no VGG19 weights offline")
    studio = make_studio(tmp_path, size=48, iterations=2)
    studio.style2_choice.value = "mosaic"
    studio.mask_mode.value = "color"
    studio.mix.color.value, studio.mix.tolerance.value, studio.mix.feather.value = "#c08060", 0.4, 2.0
    studio.style_scale.value = 0.5
    for mixing in ("mask", "blend"):
        result = studio.run(blocking=True)
        assert result is not None and result.stopped is None, studio.message.value
        out = tmp_path / f"cli_{mixing}.png"
        words = shlex.split(studio.command_line())
        masked = mixing == "mask"
        assert ("--style-masks" in words) == masked and ("--style-weights" in words) != masked
        assert cli.main([*words[3:], "-o", str(out), "-q"]) == 0
        np.testing.assert_array_equal(decode_png(out.read_bytes()), decode_png(png_of(studio.image)))
        studio.mask_mode.value, studio.blend.value = "none", 0.3
