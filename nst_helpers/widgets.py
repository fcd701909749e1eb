"""The interactive studio: neural style transfer with ipywidgets' built-in controls.

In a notebook (Jupyter, JupyterLab, VS Code or Colab, no set-up needed) one line
builds and shows it (ipywidgets 7.7, which Colab renders, or 8)::

    studio = nh.widgets.studio()

Pick or upload a content and a style image, set the sliders, press **Run**: a live
preview refreshes every few iterations, **Stop** ends the run and keeps the best
image, **Save** writes a PNG to ``outputs/`` (never overwriting) and the download
link offers the same PNG to the browser.  **more settings** (closed at first) holds a
control for every other option of :func:`nst_helpers.stylize`: a second style image
with a blend slider, a mask (rectangle or colour) that places the styles, the style
scale and representation, coarse-to-fine stages, a time budget, the optimiser,
pooling, precision and the rest (:mod:`nst_helpers.studio_controls`,
:mod:`nst_helpers.studio_mix`).

The optimisation runs in a background thread, so the page stays responsive and the
Stop button works during a run.  **Copy as command** shows the ``python -m nst_helpers
stylize ...`` line that paints the same picture.  Scripts and tests drive the same object from
Python: set the widgets' values, then ``studio.run(blocking=True)`` (or press the
button with ``studio.run_button.click()`` and ``studio.wait()``).  There is no
second code path: every run goes through :func:`nst_helpers.stylize`.
"""

from __future__ import annotations

import hashlib
import html
import threading
from pathlib import Path

import ipywidgets as widgets

from .cli import command_line
from .errors import ImageError, NSTError, OptionError
from .files import unique_path
from .images import (
    DEFAULT_CONTENT,
    DEFAULT_STYLE,
    save_image,
    to_uint8,  # noqa: F401 (widgets.to_uint8, as before the split)
)
from .optimise import stylize
from .settings import StyleSettings
from .studio_controls import (
    COLOR_MODE,  # noqa: F401 (widgets.COLOR_MODE, as before the split)
    LAYER_HINTS,  # noqa: F401
    SettingsControls,
    artist_controls,
    download_html,
    png_bytes,
    set_tooltip,
    uploaded_files,
)
from .studio_images import KINDS, THUMBNAIL_SIDE, ImagePickers
from .studio_mix import StyleMix

__all__ = ["Studio", "download_html", "png_bytes", "studio", "uploaded_files"]


class Studio(ImagePickers):
    """Widgets, their wiring and the background run.  ``studio.ui`` is the widget to display.

    Useful attributes: ``content_choice`` / ``style_choice`` / ``style2_choice`` (Dropdowns;
    the second style is "none" at first), ``content_upload`` / ``style_upload`` /
    ``style2_upload`` (FileUpload), ``style_weight`` and ``tv_weight`` (FloatLogSlider),
    ``size`` and ``iterations`` (IntSlider), ``layer_boxes`` (``{layer: Checkbox}``),
    ``preserve_color`` (Checkbox) with ``color_mode`` (Dropdown), ``more`` (the "more
    settings" Accordion), ``mix`` (:class:`~nst_helpers.studio_mix.StyleMix`: ``blend``,
    ``mask_mode``, the rectangle, colour and feather controls), ``settings_controls``
    (:class:`~nst_helpers.studio_controls.SettingsControls`: one control per
    :class:`~nst_helpers.StyleSettings` field; a generated one is also the attribute of
    the field's name, e.g. ``studio.stages``, ``studio.pooling``), ``run_button``,
    ``stop_button``, ``save_button``, ``command_button`` (prints the command line of the
    next run in ``message``), ``preview`` (Image), ``progress`` (IntProgress), ``status``
    (Label), ``message`` (HTML, errors and notes), ``download_link`` (HTML).  After a
    run: ``result`` (the :class:`~nst_helpers.optimise.StyleResult`, or None after an
    error) and ``image`` (the best image, kept even when the run stopped or failed).

    Args:
        content: the sample chosen as content at first.
        style: the sample chosen as style at first.
        output_dir: where Save writes, and the mask file of "Copy as command".
        preview_every: refresh the preview every this many iterations.
    """

    def __init__(self, *, content: str = DEFAULT_CONTENT, style: str = DEFAULT_STYLE,
                 output_dir: str | Path = "outputs", preview_every: int = 5):
        self.output_dir = Path(output_dir)
        self.preview_every = preview_every
        self.result = None
        self.image = None
        self._stop_requested = threading.Event()
        self._worker: threading.Thread | None = None
        self._total_iterations = 0
        self._settings = None  # the validated StyleSettings of the last run started
        self._shown_in_cell = None  # the notebook cell that displayed the studio (see show())
        self._build_image_pickers(content, style)
        self._build_settings()
        self._build_run_controls()
        self.ui = self._layout()
        for kind in KINDS:
            self._show_thumbnail(kind)
        self.preview.value = png_bytes(self._chosen_image("content", THUMBNAIL_SIDE * 2))

    # ---------------------------------------------------------------- building the widgets
    def _build_settings(self):
        artist = artist_controls()
        self.mix = StyleMix(second_style=lambda: self._chosen_image("style2") is not None,
                            content=self._content_image)
        self.settings_controls = SettingsControls({**artist, **self.mix.controls()})
        for control in self.settings_controls.controls.values():
            for attribute, widget in control.parts.items():
                if not hasattr(self, attribute):  # a new field never hides a studio attribute
                    setattr(self, attribute, widget)

    def _build_run_controls(self):
        self.run_button = widgets.Button(description="Run", icon="play", button_style="primary")
        self.stop_button = widgets.Button(description="Stop", icon="stop", button_style="danger",
                                          disabled=True)
        self.save_button = widgets.Button(description="Save", icon="save", disabled=True)
        self.command_button = set_tooltip(widgets.Button(description="Copy as command", icon="terminal"),
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
        picker = lambda kind: widgets.VBox(list(self._pickers[kind]))  # noqa: E731
        controls = self.settings_controls
        blend = [picker("style2"), self.mix.blend,
                 widgets.HTML("With a second style and no mask, the slider blends the two styles; "
                              "with a mask, style 1 goes inside it and style 2 outside.")]
        self.more = controls.sections({"second style and blend": blend,
                                       "mask: where the styles go": [self.mix.mask_box]},
                                      placed=("style_weights", "style_masks"))
        main = [controls[name].widget for name in ("style_weight", "tv_weight", "size", "iterations",
                                                  "style_layers", "preserve_color")]
        column = widgets.VBox([widgets.HBox([picker("content"), picker("style")]), *main,
                               widgets.HTML("<b>more settings</b>"), self.more,
                               widgets.HBox([self.run_button, self.stop_button, self.save_button,
                                             self.command_button]),
                               self.download_link])
        output = widgets.VBox([self.preview, self.progress, self.status, self.message])
        return widgets.HBox([column, output], layout=widgets.Layout(flex_flow="row wrap", grid_gap="16px"))

    # ---------------------------------------------------------------- settings -> stylize
    def selected_layers(self) -> list[str]:
        """The ticked style layers, shallow to deep."""
        return self.settings_controls["style_layers"].value

    def stylize_options(self) -> dict:
        """The arguments the next run passes to :func:`nst_helpers.stylize` (callback aside).

        ``style`` is a list with a second style.  Options at their default are left out
        (but size, iterations, the weights, the style layers and the seed are always
        given).  Raises :class:`~nst_helpers.OptionError` when a control holds no value
        (e.g. letters typed into the stages box) or a mask leaves a style no pixel.
        """
        styles = [self._chosen_image("style"), self._chosen_image("style2")]
        styles = [image for image in styles if image is not None]
        options = dict(content=self._chosen_image("content"), style=styles if len(styles) > 1 else styles[0])
        options.update(self.settings_controls.options())
        options["progress"] = False
        return options

    def command_line(self) -> str:
        """The ``python -m nst_helpers stylize ...`` line that paints what Run would paint, bit for bit.

        A mask is written as a PNG to ``output_dir`` (named by its content, so the same
        mask is one file) and the line names it; the run uses that same 8-bit mask.
        Raises :class:`~nst_helpers.OptionError` (or :class:`~nst_helpers.LayerError`) when
        the settings cannot run, a control holds no value, or an image is an upload (the
        command line needs a file: save it and pass its path).
        """
        options = self.stylize_options()
        content, style = options.pop("content"), options.pop("style")
        StyleSettings.from_options(**{k: v for k, v in options.items() if k != "progress"})  # runnable?
        styles = style if isinstance(style, list) else [style]
        if not all(isinstance(image, str) for image in (content, *styles)):
            raise OptionError("an uploaded image has no file name the command line could use; "
                              "save it to a file and pass its path")
        if options.get("style_masks") is not None:
            path = str(self._mask_file())
            options["style_masks"] = [None if mask is None else path for mask in options["style_masks"]]
        return command_line(content, style, **options)

    def _mask_file(self) -> Path:
        """The mask as a PNG in ``output_dir``, written once per mask (an existing other file is kept)."""
        png = self.mix.mask_png(self._content_image())
        path = self.output_dir / f"studio_mask_{hashlib.sha256(png).hexdigest()[:12]}.png"
        try:
            if path.is_file() and path.read_bytes() == png:
                return path.resolve()
            path = unique_path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(png)
        except OSError as error:
            raise OptionError(f"the mask needs a file for the command line, but {path} cannot be written "
                              f"({error}); choose a writable output_dir") from None
        return path.resolve()

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

        Args:
            blocking: wait for the run to end (False: run in the background, as the button does).
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
        self._worker = threading.Thread(target=self._optimise, args=(options,), name="nst-studio",
                                        daemon=True)
        self._worker.start()
        if blocking:
            self.wait()
            return self.result
        return None

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the background run to end (Ctrl-C here stops the run and keeps the best image).

        Args:
            timeout: seconds to wait at most (None: until the run ends).
        """
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
        styles = [self._source_label(kind) for kind in ("style", "style2")
                  if self._chosen_image(kind) is not None]
        return f"{self._source_label('content')}_{'+'.join(styles)}.png"

    def save(self, folder: str | Path | None = None) -> Path | None:
        """Write the best image as a new PNG in ``folder``; never overwrites.  Returns its path (None: nothing
        saved, ``message`` says why).

        Args:
            folder: where to write (default ``output_dir``).
        """
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


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def studio(*, show: bool = True, **options: object) -> Studio:
    """Build a :class:`Studio` and, in a notebook, display it: ``studio = nh.widgets.studio()``.

    Args:
        show: display it in the running notebook (nothing happens outside one).
        **options: go to :class:`Studio` (``content``, ``style``, ``output_dir``, ``preview_every``).
    """
    new_studio = Studio(**options)
    if show:
        new_studio.show()
    return new_studio
