"""The studio's settings controls: one control for every field of :class:`~nst_helpers.StyleSettings`.

The artist's controls are made by hand (sliders for the weights, the size and the
iterations, one checkbox per style layer, the colour checkbox, a style-scale slider and
a time budget); every other field gets a control generated from its metadata
(:func:`generic_control`): choices become a Dropdown, an int a BoundedIntText, a float a
FloatText, a list a Text of space-separated values, a dict a Text of ``KEY=VALUE``
words, and an optional field an empty value ("empty: the default").  Defaults, choices
and help texts are read from :class:`StyleSettings`, never retyped, so a field added
there later gets a control (in the last "more settings" section) with no change here.

A control's ``value`` raises :class:`~nst_helpers.OptionError` with a message for the
user when what was typed is not a value (e.g. ``"abc"`` in the stages box);
:class:`StyleSettings` then checks the values themselves.  The small helpers of the
studio (PNG bytes, download links, uploads, tooltips) live here too.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import html
import io
import re
from collections.abc import Callable, Mapping
from pathlib import Path

import ipywidgets as widgets
import numpy as np
from PIL import Image

from .cli import _key_value
from .errors import OptionError
from .images import to_uint8
from .model import STYLE_LAYERS
from .settings import StyleSettings

__all__ = ["COLOR_MODE", "LAYER_HINTS", "SECTIONS", "FieldControl", "SettingsControls", "artist_controls",
           "download_html", "field_help", "file_label", "generic_control", "png_bytes", "same_value",
           "set_tooltip", "uploaded_files"]

LAYER_HINTS = {  # what each style layer's Gram matrix captures, shown as a tooltip
    "block1_conv1": "fine grain and colour",
    "block2_conv1": "small strokes",
    "block3_conv1": "repeating patterns",
    "block4_conv1": "motifs",
    "block5_conv1": "large shapes",
}
COLOR_MODE = "luminance"  # what the colour checkbox asks stylize(preserve_color=...) for by default
assert COLOR_MODE in StyleSettings.choices("preserve_color")
MAIN = ("size", "iterations", "style_weight", "tv_weight", "style_layers", "preserve_color")  # the first view
ALWAYS = ("size", "iterations", "style_weight", "tv_weight", "style_layers", "seed")  # passed even at default
# The "more settings" sections of generated and hand-made controls; a field in none of them (or in MAIN,
# or one of the blend and mask controls) is shown in the last section.
SECTIONS = (
    ("style", ("style_scale", "style_loss", "sw_directions", "style_layer_weights")),
    ("schedule and optimiser", ("stages", "time_budget", "stop_tolerance", "optimizer", "optimizer_options",
                                "init", "seed")),
    ("content, model and other options", ("content_weight", "content_layers", "pooling", "pool_padding",
                                          "precision")),
)
NONE_LABEL = "none (default)"  # the Dropdown entry of an optional field's None
LABEL_STYLE = dict(description_width="130px")
WIDE = "460px"


# ---------------------------------------------------------------------------------- small helpers
def png_bytes(image: np.ndarray) -> bytes:
    """A ``[0, 1]`` RGB array encoded as PNG bytes (for Image widgets and downloads).

    Args:
        image: ``(h, w, 3)`` (or ``(h, w)``) array in ``[0, 1]``.
    """
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buffer, format="PNG")
    return buffer.getvalue()


def download_html(png: bytes, filename: str) -> str:
    """An ``<a download>`` link carrying ``png`` as a data: URI (works in Colab and JupyterLab).

    Args:
        png: the file's bytes.
        filename: the name the browser saves it under.
    """
    data = base64.b64encode(png).decode("ascii")
    name = html.escape(filename, quote=True)
    return (f'<a download="{name}" href="data:image/png;base64,{data}" '
            f'style="font-weight:bold">⬇ Download {name}</a>')


def uploaded_files(value: object) -> list[tuple[str, bytes]]:
    """A ``FileUpload.value`` as ``[(filename, content), ...]``, whichever ipywidgets made it.

    Args:
        value: ipywidgets 8: a tuple of ``{"name", "type", "size", "content" (memoryview),
            "last_modified"}``; ipywidgets 7 (Colab): a dict ``{filename: {"metadata": {"name", ...},
            "content": bytes}}``.
    """
    if isinstance(value, Mapping):
        return [(str(entry.get("metadata", {}).get("name", name)), bytes(entry["content"]))
                for name, entry in value.items()]
    return [(str(entry["name"]), bytes(entry["content"])) for entry in value or ()]


def set_tooltip(widget: widgets.Widget, text: str) -> widgets.Widget:
    """Hover text: ``tooltip`` in ipywidgets 8 (and a Button in 7), ``description_tooltip`` otherwise in 7.

    Args:
        widget: any ipywidgets control.
        text: the hover text.
    """
    setattr(widget, "tooltip" if widget.has_trait("tooltip") else "description_tooltip", text)
    return widget


def file_label(filename: str) -> str:
    """A safe file-name stem for an uploaded file, e.g. ``"My photo.JPG"`` -> ``"My_photo"``.

    Args:
        filename: the uploaded file's name.
    """
    return re.sub(r"[^A-Za-z0-9_-]+", "_", Path(filename).stem).strip("_") or "upload"


def same_value(value: object, default: object) -> bool:
    """Whether an option's value is its default (lists compare by items, ``1 != True``).

    Args:
        value: the control's value.
        default: the field's default.
    """
    if isinstance(value, (list, tuple)) and isinstance(default, (list, tuple)):
        return list(value) == list(default)
    return type(value) is type(default) and value == default


# ---------------------------------------------------------------------------------- controls
class FieldControl:
    """The control of one :class:`StyleSettings` field: the ``widget`` shown and its ``value``.

    Args:
        name: the field's name (the option of ``stylize``).
        widget: the widget to display (a single control or a box of several).
        read: returns the option's value from the widgets; raises :class:`OptionError` with a
            message for the user when what was typed is not a value.
        generated: True for a control made by :func:`generic_control` from the field's metadata.
        parts: the widgets the studio makes attributes, ``{attribute: widget}`` (default ``{name: widget}``).
    """

    def __init__(self, name: str, widget: widgets.Widget, read: Callable[[], object], *, generated=False,
                 parts: Mapping[str, widgets.Widget] | None = None):
        self.name, self.widget, self._read, self.generated = name, widget, read, generated
        self.parts = dict(parts) if parts is not None else {name: widget}  # the studio's attributes

    @property
    def value(self):
        return self._read()

    def __repr__(self):
        generated = ", generated" if self.generated else ""
        return f"FieldControl({self.name!r}, {type(self.widget).__name__}{generated})"


def _words(text: str) -> list[str]:
    return text.replace(",", " ").split()


def _converter(field) -> tuple[Callable, str]:
    """How one word of a list field becomes a value, and what a word should look like."""
    if "dict" in str(field.type):
        return _key_value, "KEY=VALUE words, e.g. learning_rate=0.02"
    kind = field.metadata["cli_type"]
    if kind is int:
        return int, "whole numbers separated by spaces, e.g. 256 512"
    if kind is float:
        return float, "numbers separated by spaces, e.g. 1 0.5"
    return str, "words separated by spaces"


def _parse_list(field, text: str, optional: bool):
    words = _words(text)
    if not words and optional:
        return None
    convert, hint = _converter(field)
    values = []
    for word in words:
        try:
            values.append(convert(word))
        except (ValueError, argparse.ArgumentTypeError):
            raise OptionError(f"{field.name.replace('_', ' ')}: {word!r} is not understood; type {hint}"
                              + (" (or nothing, for the default)" if optional else "")) from None
    return dict(values) if convert is _key_value else values


def _parse_scalar(field, text: str, optional: bool):
    text = text.strip()
    if not text and optional:
        return None
    kind = field.metadata["cli_type"] or str
    try:
        return kind(text)
    except ValueError:
        whole = "whole " if kind is int else ""
        raise OptionError(f"{field.name.replace('_', ' ')}: {text!r} is not a {whole}number"
                          + ("; leave it empty for the default" if optional else "")) from None


def _shown(default) -> str:
    if default is None:
        return ""
    if isinstance(default, Mapping):
        return " ".join(f"{k}={v}" for k, v in default.items())
    if isinstance(default, (list, tuple)):
        return " ".join(map(str, default))
    return str(default)


def generic_control(field: dataclasses.Field) -> FieldControl:
    """A control generated from a :class:`StyleSettings` field's default and metadata.

    Choices: a Dropdown (with a "none" entry when the default is None); a list (``nargs``) or
    a dict: a Text of space-separated values (``KEY=VALUE`` for a dict; empty = the default
    None); an int or a float: a BoundedIntText or a FloatText (a Text when the default is
    None, empty = None); a bool: a Checkbox; anything else a Text.

    Args:
        field: one of ``dataclasses.fields(StyleSettings)``.
    """
    meta, default = field.metadata, field.default
    optional = default is None or "None" in str(field.type)
    common = dict(description=field.name.replace("_", " "), style=LABEL_STYLE,
                  layout=widgets.Layout(width=WIDE))
    text = dict(value=_shown(default), placeholder="empty: the default" if optional else "", **common)
    if meta["choices"] is not None:
        options = ([(NONE_LABEL, "")] if default is None else []) + [(str(c), c) for c in meta["choices"]]
        widget = widgets.Dropdown(options=options, value="" if default is None else default, **common)
        parse = (lambda value: None if value == "" else value)  # noqa: E731
    elif meta["nargs"] is not None or "dict" in str(field.type):
        widget = widgets.Text(**text)
        parse = (lambda value: _parse_list(field, value, optional))  # noqa: E731
    elif isinstance(default, bool):
        widget, parse = widgets.Checkbox(value=default, description=common["description"], indent=False), bool
    elif meta["cli_type"] is int and default is not None:
        widget = widgets.BoundedIntText(value=default, min=min(0, default), max=2 ** 31 - 1, **common)
        parse = int
    elif meta["cli_type"] is float and default is not None:
        widget, parse = widgets.FloatText(value=default, **common), float
    else:
        widget = widgets.Text(**text)
        parse = (lambda value: _parse_scalar(field, value, optional))  # noqa: E731
    set_tooltip(widget, meta["help"])
    return FieldControl(field.name, widget, lambda: parse(widget.value), generated=True)


def field_help(name: str) -> str:
    """The help text of a :class:`StyleSettings` field (also the CLI flag's).

    Args:
        name: the field's name.
    """
    return StyleSettings.__dataclass_fields__[name].metadata["help"]


def _fixed(name, widget, read, parts=None) -> FieldControl:
    if not isinstance(widget, widgets.Box):
        set_tooltip(widget, field_help(name))
    return FieldControl(name, widget, read, parts=parts)


def artist_controls() -> dict[str, FieldControl]:
    """The hand-made controls: ``{field name: FieldControl}`` for the first view and a few more.

    The weights and the style scale are log sliders, size and iterations sliders, the
    style layers one checkbox each (``parts["layer_boxes"]``), the colour a checkbox with a
    mode dropdown (``parts["preserve_color"]``, ``parts["color_mode"]``), the time budget a
    number of seconds (0 = none).  Defaults come from :class:`StyleSettings`.
    """
    wide = widgets.Layout(width=WIDE)
    default = StyleSettings.default
    style_weight = widgets.FloatLogSlider(value=default("style_weight"), base=10, min=-1, max=4, step=0.25,
                                          readout_format=".3g", description="style weight", style=LABEL_STYLE,
                                          layout=wide)
    tv_weight = widgets.FloatLogSlider(value=default("tv_weight"), base=10, min=-3, max=2, step=0.25,
                                       readout_format=".3g", description="variation", style=LABEL_STYLE,
                                       layout=wide)
    size = widgets.IntSlider(value=default("size"), min=128, max=1024, step=64, description="size (px)",
                             style=LABEL_STYLE, layout=wide)
    iterations = widgets.IntSlider(value=default("iterations"), min=1, max=500, description="iterations",
                                   style=LABEL_STYLE, layout=wide)
    boxes = {}
    for layer in STYLE_LAYERS:
        box = widgets.Checkbox(value=layer in default("style_layers"), description=layer, indent=False,
                               layout=widgets.Layout(width="auto", margin="0 12px 0 0"))
        boxes[layer] = set_tooltip(box, LAYER_HINTS.get(layer, ""))
    layers = widgets.VBox([widgets.HTML("<b>style layers</b> (shallow = fine texture, deep = large shapes)"),
                           widgets.HBox(list(boxes.values()))])
    color = widgets.Checkbox(value=default("preserve_color") is not None,
                             description="keep the content's colours", indent=False,
                             layout=widgets.Layout(width="auto"))
    color_mode = widgets.Dropdown(options=list(StyleSettings.choices("preserve_color")),
                                  value=default("preserve_color") or COLOR_MODE, description="how",
                                  style=dict(description_width="40px"), layout=widgets.Layout(width="200px"))
    set_tooltip(color_mode, field_help("preserve_color"))
    style_scale = widgets.FloatLogSlider(value=default("style_scale"), base=2, min=-2, max=1, step=0.25,
                                         readout_format=".3g", description="style scale", style=LABEL_STYLE,
                                         layout=wide)
    budget = widgets.BoundedFloatText(value=default("time_budget") or 0.0, min=0.0, max=7 * 24 * 3600.0,
                                      description="time budget (s)", style=LABEL_STYLE,
                                      layout=widgets.Layout(width="300px"))
    controls = [
        _fixed("size", size, lambda: int(size.value)),
        _fixed("iterations", iterations, lambda: int(iterations.value)),
        _fixed("style_weight", style_weight, lambda: float(style_weight.value)),
        _fixed("tv_weight", tv_weight, lambda: float(tv_weight.value)),
        _fixed("style_layers", layers, lambda: [layer for layer, box in boxes.items() if box.value],
               parts=dict(layer_boxes=boxes)),
        _fixed("preserve_color", widgets.HBox([color, color_mode]),
               lambda: color_mode.value if color.value else None,
               parts=dict(preserve_color=color, color_mode=color_mode)),
        _fixed("style_scale", style_scale, lambda: float(style_scale.value)),
        _fixed("time_budget", widgets.HBox([budget, widgets.HTML("&nbsp;0 = no limit")]),
               lambda: float(budget.value) if budget.value > 0 else None, parts=dict(time_budget=budget)),
    ]
    set_tooltip(budget, field_help("time_budget"))
    return {control.name: control for control in controls}


class SettingsControls:
    """A control for every :class:`StyleSettings` field: the hand-made ones, the rest generated.

    Args:
        handmade: ``{field name: FieldControl}`` made by hand (e.g. :func:`artist_controls`
            and the studio's blend and mask controls); every other field gets
            :func:`generic_control`.
    """

    def __init__(self, handmade: Mapping[str, FieldControl]):
        self._fields = {f.name: f for f in dataclasses.fields(StyleSettings)}
        unknown = sorted(set(handmade) - set(self._fields))
        if unknown:
            raise OptionError(f"no StyleSettings field {unknown} for these controls")
        self.controls = {name: handmade[name] if name in handmade else generic_control(field)
                         for name, field in self._fields.items()}

    def __getitem__(self, name) -> FieldControl:
        return self.controls[name]

    def options(self) -> dict:
        """``{field: value}`` of every control; a field at its default is left out unless in ``ALWAYS``.

        Raises :class:`OptionError` naming the control whose text is not a value.
        """
        options = {}
        for name, control in self.controls.items():
            value = control.value
            if name in ALWAYS or not same_value(value, self._fields[name].default):
                options[name] = value
        return options

    def sections(self, extra: Mapping[str, list] = (), placed=()) -> widgets.Accordion:
        """The "more settings" Accordion (closed): ``extra`` sections first, then :data:`SECTIONS`,
        and last every control not shown elsewhere (``MAIN``, ``placed``, the sections).

        Args:
            extra: ``{title: [widgets]}`` sections to put first (the blend and mask controls).
            placed: names of fields whose controls are shown by ``extra`` or elsewhere.
        """
        shown = set(MAIN) | set(placed)
        groups = [(title, list(children)) for title, children in dict(extra).items()]
        for title, names in SECTIONS:
            names = [n for n in names if n in self.controls and n not in shown]
            shown.update(names)
            groups.append((title, [self.controls[n].widget for n in names]))
        rest = [control.widget for name, control in self.controls.items() if name not in shown]
        if rest:
            groups[-1][1].extend(rest)
        groups = [(title, children) for title, children in groups if children]
        accordion = widgets.Accordion(children=[widgets.VBox(children) for _, children in groups])
        for index, (title, _) in enumerate(groups):
            accordion.set_title(index, title)
        accordion.selected_index = None
        return accordion
