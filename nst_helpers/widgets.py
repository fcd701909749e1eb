"""The interactive studio: neural style transfer with ipywidgets' built-in controls.

In a notebook (Jupyter, JupyterLab, VS Code or Colab, no set-up needed) one line
builds and shows it (ipywidgets 7.7, which Colab renders, or 8)::

    studio = nh.widgets.studio()

Pick or upload a content and a style image, set the sliders, press **Run**: a live
preview refreshes every few iterations, **Stop** ends the run and keeps the best
image, **Save** writes a PNG to ``outputs/`` (never overwriting) and the download
link offers the same PNG to the browser.

The optimisation runs in a background thread, so the page stays responsive and the
Stop button works during a run.  **Copy as command** shows the ``python -m nst_helpers
stylize ...`` line that paints the same picture.  Scripts and tests drive the same object from
Python: set the widgets' values, then ``studio.run(blocking=True)`` (or press the
button with ``studio.run_button.click()`` and ``studio.wait()``).  There is no
second code path: every run goes through :func:`nst_helpers.stylize`.
"""

from __future__ import annotations

import base64
import html
import io
import re
import threading
from collections.abc import Mapping
from pathlib import Path

import ipywidgets as widgets
from PIL import Image

from .cli import command_line
from .errors import ImageError, NSTError, OptionError
from .files import unique_path
from .images import (
    DEFAULT_CONTENT,
    DEFAULT_STYLE,
    SAMPLES,
    list_samples,
    load_image,
    resize_long_side,
    save_image,
    to_uint8,
)
from .model import STYLE_LAYERS
from .optimise import stylize
from .settings import StyleSettings

__all__ = ["Studio", "studio"]

THUMBNAIL_SIDE = 160  # px, long side of the content/style thumbnails
MAX_UPLOAD_SIDE = 1024  # px: uploads are shrunk to the largest size the slider offers
LAYER_HINTS = {  # what each style layer's Gram matrix captures, shown as a tooltip
    "block1_conv1": "fine grain and colour",
    "block2_conv1": "small strokes",
    "block3_conv1": "repeating patterns",
    "block4_conv1": "motifs",
    "block5_conv1": "large shapes",
}
COLOR_MODE = "luminance"  # what the colour checkbox asks stylize(preserve_color=...) for
assert COLOR_MODE in StyleSettings.choices("preserve_color")


def png_bytes(image) -> bytes:
    """A ``[0, 1]`` RGB array encoded as PNG bytes (for Image widgets and downloads)."""
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buffer, format="PNG")
    return buffer.getvalue()


def download_html(png: bytes, filename: str) -> str:
    """An ``<a download>`` link carrying ``png`` as a data: URI (works in Colab and JupyterLab)."""
    data = base64.b64encode(png).decode("ascii")
    name = html.escape(filename, quote=True)
    return (f'<a download="{name}" href="data:image/png;base64,{data}" '
            f'style="font-weight:bold">⬇ Download {name}</a>')


def uploaded_files(value) -> list[tuple[str, bytes]]:
    """A ``FileUpload.value`` as ``[(filename, content), ...]``, whichever ipywidgets made it.

    ipywidgets 8: a tuple of ``{"name", "type", "size", "content" (memoryview), "last_modified"}``;
    ipywidgets 7 (Colab): a dict ``{filename: {"metadata": {"name", ...}, "content": bytes}}``.
    """
    if isinstance(value, Mapping):
        return [(str(entry.get("metadata", {}).get("name", name)), bytes(entry["content"]))
                for name, entry in value.items()]
    return [(str(entry["name"]), bytes(entry["content"])) for entry in value or ()]


def _set_tooltip(widget, text: str):
    """Hover text: ``tooltip`` in ipywidgets 8, ``description_tooltip`` for a Checkbox in 7."""
    setattr(widget, "tooltip" if widget.has_trait("tooltip") else "description_tooltip", text)
    return widget


def _file_label(filename: str) -> str:
    """A safe file-name stem for an uploaded file, e.g. ``"My photo.JPG"`` -> ``"My_photo"``."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", Path(filename).stem).strip("_") or "upload"


class Studio:
    """Widgets, their wiring and the background run.  ``studio.ui`` is the widget to display.

    Useful attributes: ``content_choice`` / ``style_choice`` (Dropdowns),
    ``content_upload`` / ``style_upload`` (FileUpload), ``style_weight`` and
    ``tv_weight`` (FloatLogSlider), ``size`` and ``iterations`` (IntSlider),
    ``layer_boxes`` (``{layer: Checkbox}``), ``preserve_color`` (Checkbox),
    ``run_button``, ``stop_button``, ``save_button``, ``command_button`` (prints the
    command line of the next run in ``message``), ``preview`` (Image),
    ``progress`` (IntProgress), ``status`` (Label), ``message`` (HTML, errors and
    notes), ``download_link`` (HTML).  After a run: ``result`` (the
    :class:`~nst_helpers.optimise.StyleResult`, or None after an error) and ``image``
    (the best image, kept even when the run stopped or failed).
    """

    def __init__(self, *, content: str = DEFAULT_CONTENT, style: str = DEFAULT_STYLE,
                 output_dir: str | Path = "outputs", preview_every: int = 5):
        self.output_dir = Path(output_dir)
        self.preview_every = preview_every
        self.result = None
        self.image = None
        self._uploads = {"content": {}, "style": {}}  # {dropdown value: image array}
        self._stop_requested = threading.Event()
        self._worker: threading.Thread | None = None
        self._total_iterations = 0
        self._settings = None  # the validated StyleSettings of the last run started
        self._shown_in_cell = None  # the notebook cell that displayed the studio (see show())
        self._build_image_pickers(content, style)
        self._build_settings()
        self._build_run_controls()
        self.ui = self._layout()
        self._show_thumbnail("content")
        self._show_thumbnail("style")
        self.preview.value = png_bytes(self._chosen_image("content", THUMBNAIL_SIDE * 2))

    # ---------------------------------------------------------------- building the widgets
    def _build_image_pickers(self, content, style):
        self.content_choice = widgets.Dropdown(options=list_samples("content"), value=content,
                                               description="content")
        self.style_choice = widgets.Dropdown(options=list_samples("style"), value=style, description="style")
        self.content_upload = widgets.FileUpload(accept="image/*", multiple=False, description="upload content",
                                                 layout=widgets.Layout(width="auto"))
        self.style_upload = widgets.FileUpload(accept="image/*", multiple=False, description="upload style",
                                               layout=widgets.Layout(width="auto"))
        self.content_thumbnail = widgets.Image(format="png", layout=widgets.Layout(max_width=f"{THUMBNAIL_SIDE}px"))
        self.style_thumbnail = widgets.Image(format="png", layout=widgets.Layout(max_width=f"{THUMBNAIL_SIDE}px"))
        for kind in ("content", "style"):
            self._choice(kind).observe(lambda change, kind=kind: self._show_thumbnail(kind), names="value")
            self._upload(kind).observe(lambda change, kind=kind: self._uploaded(kind, change["new"]),
                                       names="value")

    def _build_settings(self):
        style = dict(description_width="110px")
        wide = widgets.Layout(width="460px")
        self.style_weight = widgets.FloatLogSlider(
            value=StyleSettings.default("style_weight"), base=10, min=-1, max=4, step=0.25, readout_format=".3g",
            description="style weight", style=style, layout=wide)
        self.tv_weight = widgets.FloatLogSlider(
            value=StyleSettings.default("tv_weight"), base=10, min=-3, max=2, step=0.25, readout_format=".3g",
            description="variation", style=style, layout=wide)
        self.size = widgets.IntSlider(value=StyleSettings.default("size"), min=128, max=1024, step=64,
                                      description="size (px)", style=style, layout=wide)
        self.iterations = widgets.IntSlider(value=StyleSettings.default("iterations"), min=1, max=500,
                                            description="iterations", style=style, layout=wide)
        self.layer_boxes = {}
        for layer in STYLE_LAYERS:
            box = widgets.Checkbox(value=layer in StyleSettings.default("style_layers"), description=layer, indent=False,
                                   layout=widgets.Layout(width="auto", margin="0 12px 0 0"))
            self.layer_boxes[layer] = _set_tooltip(box, LAYER_HINTS.get(layer, ""))
        self.preserve_color = widgets.Checkbox(value=StyleSettings.default("preserve_color") == COLOR_MODE,
                                               description="keep the content's colours", indent=False)

    def _build_run_controls(self):
        self.run_button = widgets.Button(description="Run", icon="play", button_style="primary")
        self.stop_button = widgets.Button(description="Stop", icon="stop", button_style="danger", disabled=True)
        self.save_button = widgets.Button(description="Save", icon="save", disabled=True)
        self.command_button = _set_tooltip(widgets.Button(description="Copy as command", icon="terminal"),
                                           "show the command line that paints the same picture")
        self.command_button.on_click(lambda _: self.show_command())
        self.run_button.on_click(lambda _: self.run(blocking=False))
        self.stop_button.on_click(lambda _: self.stop())
        self.save_button.on_click(lambda _: self.save())
        self.download_link = widgets.HTML()
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="progress")
        self.status = widgets.Label("Ready: choose images and settings, then press Run.")
        self.message = widgets.HTML()
        self.preview = widgets.Image(format="png", layout=widgets.Layout(max_width="512px"))

    def _layout(self) -> widgets.Widget:
        pickers = widgets.HBox([
            widgets.VBox([self.content_choice, self.content_upload, self.content_thumbnail]),
            widgets.VBox([self.style_choice, self.style_upload, self.style_thumbnail]),
        ])
        layers = widgets.VBox([widgets.HTML("<b>style layers</b> (shallow = fine texture, deep = large shapes)"),
                               widgets.HBox(list(self.layer_boxes.values()))])
        controls = widgets.VBox([pickers, self.style_weight, self.tv_weight, self.size, self.iterations,
                                 layers, self.preserve_color,
                                 widgets.HBox([self.run_button, self.stop_button, self.save_button,
                                               self.command_button]),
                                 self.download_link])
        output = widgets.VBox([self.preview, self.progress, self.status, self.message])
        return widgets.HBox([controls, output], layout=widgets.Layout(flex_flow="row wrap", grid_gap="16px"))

    def _choice(self, kind) -> widgets.Dropdown:
        return self.content_choice if kind == "content" else self.style_choice

    def _upload(self, kind) -> widgets.FileUpload:
        return self.content_upload if kind == "content" else self.style_upload

    # ---------------------------------------------------------------- images and uploads
    def _chosen_image(self, kind, max_side=None):
        """The chosen sample's name, or the uploaded array; with ``max_side`` a small array to show."""
        choice = self._choice(kind).value
        image = self._uploads[kind].get(choice, choice)
        if max_side is None:
            return image
        return resize_long_side(load_image(image), max_side)

    def _show_thumbnail(self, kind):
        thumbnail = self.content_thumbnail if kind == "content" else self.style_thumbnail
        thumbnail.value = png_bytes(self._chosen_image(kind, THUMBNAIL_SIDE))

    def _uploaded(self, kind, value):
        for filename, data in uploaded_files(value):
            self.use_upload(kind, filename, data)

    def use_upload(self, kind: str, filename: str, data: bytes) -> bool:
        """Decode an uploaded file and select it as the ``kind`` ("content"/"style") image.

        A file that is not a usable image leaves the selection as it was and explains
        why in ``message``; returns whether the upload was accepted.
        """
        try:
            image = load_image(data)
        except ImageError as error:
            reason = str(error).replace("<bytes>", repr(filename))
            self._show_error(f"Cannot use {filename!r} as the {kind} image: {reason}")
            return False
        except Exception as error:  # e.g. MemoryError: still a message, never a crash
            self._show_error(f"Cannot use {filename!r} as the {kind} image ({type(error).__name__}: {error}).")
            return False
        if max(image.shape[:2]) > MAX_UPLOAD_SIDE:
            image = resize_long_side(image, MAX_UPLOAD_SIDE)
        key = f"upload:{filename}"
        self._uploads[kind][key] = image
        choice = self._choice(kind)
        options = [option for option in choice.options if option != (f"my upload: {filename}", key)]
        choice.options = [*_as_pairs(options), (f"my upload: {filename}", key)]
        choice.value = key
        self._show_note(f"Using your {kind} image {filename!r} ({image.shape[1]}x{image.shape[0]}).")
        return True

    def _source_label(self, kind) -> str:
        choice = self._choice(kind).value
        return choice if choice in SAMPLES else _file_label(choice.split(":", 1)[1])

    # ---------------------------------------------------------------- settings -> stylize
    def selected_layers(self) -> list[str]:
        return [layer for layer, box in self.layer_boxes.items() if box.value]

    def stylize_options(self) -> dict:
        """The arguments the next run passes to :func:`nst_helpers.stylize` (callback aside)."""
        options = dict(content=self._chosen_image("content"), style=self._chosen_image("style"),
                       size=int(self.size.value), iterations=int(self.iterations.value),
                       style_weight=float(self.style_weight.value), tv_weight=float(self.tv_weight.value),
                       style_layers=self.selected_layers(), seed=0, progress=False)
        if self.preserve_color.value:
            options["preserve_color"] = COLOR_MODE
        return options

    def command_line(self) -> str:
        """The ``python -m nst_helpers stylize ...`` line that paints what Run would paint.

        Raises :class:`~nst_helpers.OptionError` when an image is an upload (the command
        line needs a file: save it and pass its path).
        """
        options = self.stylize_options()
        content, style = options.pop("content"), options.pop("style")
        if not all(isinstance(image, str) for image in (content, style)):
            raise OptionError("an uploaded image has no file name the command line could use; "
                              "save it to a file and pass its path")
        return command_line(content, style, **options)

    def show_command(self) -> str | None:
        """Show :meth:`command_line` in ``message`` (the "Copy as command" button) and return it."""
        try:
            line = self.command_line()
        except NSTError as error:
            self._show_error(f"No command line for these settings: {error}")
            return None
        self.message.value = (f'<span>Run this in a terminal for the same picture:</span><br>'
                              f'<code style="user-select:all">{html.escape(line)}</code>')
        return line

    def __getattr__(self, name):
        if name == "preserve_colour":  # one spelling: the option is preserve_color
            raise AttributeError("Studio has no 'preserve_colour'; the checkbox is 'preserve_color' "
                                 "(spelt like stylize's preserve_color option)")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _settings_problem(self) -> str | None:
        if not self.selected_layers():
            return ("No style layers are ticked, so there is no style to transfer. "
                    "Tick at least one box under 'style layers' (all five is the classic choice).")
        try:
            self._settings = StyleSettings.from_options(**self._picture_options())
        except NSTError as error:
            return f"These settings cannot run: {error}"
        return None

    def _picture_options(self) -> dict:
        return {k: v for k, v in self.stylize_options().items() if k not in ("content", "style", "progress")}

    # ---------------------------------------------------------------- running
    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    def run(self, blocking: bool = True):
        """Start a run with the current settings; ``blocking=False`` returns at once (the Run button).

        Returns the :class:`~nst_helpers.optimise.StyleResult` when blocking (None if
        the run could not start or failed; ``message`` says why).
        """
        if self.running:
            self._show_error("A run is already going: press Stop first.")
            return None
        problem = self._settings_problem()
        if problem:
            self._show_error(problem)
            return None
        options = self.stylize_options()
        self._start(options)
        self._worker = threading.Thread(target=self._optimise, args=(options,), name="nst-studio", daemon=True)
        self._worker.start()
        if blocking:
            self.wait()
            return self.result
        return None

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the background run to end (Ctrl-C here stops the run and keeps the best image)."""
        if self._worker is None:
            return
        try:
            self._worker.join(timeout)
        except KeyboardInterrupt:
            self.stop()
            self._worker.join()

    def stop(self) -> None:
        """Ask the run to end after the current iteration; the best image so far is kept."""
        if self.running:
            self._stop_requested.set()
            self.status.value = "Stopping after this iteration…"

    def _start(self, options):
        self._stop_requested.clear()
        self.result, self.image = None, None
        self._total_iterations = self._settings.total_iterations  # the stage schedule is the settings'
        self.progress.max, self.progress.value, self.progress.bar_style = self._total_iterations, 0, ""
        self.status.value = "Starting: building VGG19 and the style targets…"
        self.message.value = ""
        self.download_link.value = ""
        self._set_buttons(running=True)

    def _optimise(self, options):
        """The body of the background thread: one stylize call, whatever happens the buttons come back."""
        try:
            self.result = stylize(**options, callback=self._on_step)
            self.image = self.result.image
            self._finished()
        except KeyboardInterrupt:
            self._failed("interrupted")
        except Exception as error:
            self._failed(f"{type(error).__name__}: {error}")
        finally:
            self._set_buttons(running=False)

    def _on_step(self, info) -> bool:
        """stylize's callback, after every iteration; returning True stops the run."""
        if info.losses["total"] <= info.best_loss:
            self.image = info.image  # the best so far, kept if the run fails later
        self.progress.value = info.iteration
        self.status.value = (f"iteration {info.iteration}/{self._total_iterations} · loss "
                             f"{info.losses['total']:.4g} (content {info.losses['content']:.3g}, "
                             f"style {info.losses['style']:.3g})")
        if info.iteration == 1 or info.iteration % self.preview_every == 0:
            self.preview.value = png_bytes(info.image)
        return self._stop_requested.is_set()

    def _finished(self):
        result = self.result
        self.preview.value = png_bytes(result.image)
        self.download_link.value = download_html(png_bytes(result.image), self._output_name())
        summary = (f"{_count(result.iterations, 'iteration')} in {result.seconds:.1f} s, "
                   f"loss {result.loss:.4g}, {result.image.shape[1]}x{result.image.shape[0]} px")
        if result.stopped:
            self.progress.bar_style = "warning"
            self.status.value = f"Stopped after {summary}; the best image is kept."
        else:
            self.progress.value, self.progress.bar_style = self.progress.max, "success"
            self.status.value = f"Done: {summary}."

    def _failed(self, reason):
        self.progress.bar_style = "danger"
        self.status.value = f"The run failed: {reason}"
        if self.image is not None:
            self.preview.value = png_bytes(self.image)
            self.download_link.value = download_html(png_bytes(self.image), self._output_name())
            self._show_error(f"{reason}. The preview shows the best image so far; Save keeps it.")
        else:
            self._show_error(f"{reason}. No image was produced; check the settings and press Run again.")

    def _set_buttons(self, running: bool):
        self.run_button.disabled = running
        self.stop_button.disabled = not running
        self.save_button.disabled = running or self.image is None

    # ---------------------------------------------------------------- saving
    def _output_name(self) -> str:
        return f"{self._source_label('content')}_{self._source_label('style')}.png"

    def save(self, folder: str | Path | None = None) -> Path | None:
        """Write the best image as a new PNG in ``folder`` (default ``output_dir``); never overwrites."""
        if self.image is None:
            self._show_error("Nothing to save yet: press Run first.")
            return None
        folder = Path(folder) if folder is not None else self.output_dir
        try:
            path = save_image(self.image, unique_path(folder / self._output_name()))
        except (OSError, ImageError) as error:
            self._show_error(f"Could not save: {error}")
            return None
        self._show_note(f"Saved {path}")
        return path

    # ---------------------------------------------------------------- messages and display
    def _show_error(self, text: str):
        self.message.value = f'<span style="color:#b00020"><b>⚠ {html.escape(text)}</b></span>'

    def _show_note(self, text: str):
        self.message.value = f'<span style="color:#1b5e20">{html.escape(text)}</span>'

    def show(self) -> None:
        """Display the studio in the running notebook (does nothing outside IPython)."""
        shell = _ipython()
        if shell is None:
            return
        from IPython.display import display

        display(self.ui)
        self._shown_in_cell = shell.execution_count

    def _ipython_display_(self):
        # `studio()` already displayed the studio when this same cell ends with it: show it once.
        shell = _ipython()
        if shell is not None and self._shown_in_cell == shell.execution_count:
            return
        self.show()


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _as_pairs(options) -> list:
    """Dropdown options as ``(label, value)`` pairs, whatever form they were given in."""
    return [option if isinstance(option, tuple) else (option, option) for option in options]


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def studio(*, show: bool = True, **options) -> Studio:
    """Build a :class:`Studio` and, in a notebook, display it: ``studio = nh.widgets.studio()``.

    ``options`` go to :class:`Studio` (``content``, ``style``, ``output_dir``,
    ``preview_every``).
    """
    new_studio = Studio(**options)
    if show:
        new_studio.show()
    return new_studio
