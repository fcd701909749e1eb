"""The studio's style blend and mask controls (``style_weights`` and ``style_masks`` of ``stylize``).

* **Blend**: with a second style image chosen, the blend slider ``w`` gives
  ``style=[style 1, style 2]`` and ``style_weights=[1 - w, w]``.
* **Mask**: a rectangle (fractions of the content's sides) or the pixels near a colour
  (:func:`~nst_helpers.controls.mask_from_rectangle`, :func:`~nst_helpers.controls.mask_from_color`),
  with soft edges (``feather``) and an "invert" box.  Style 1 goes inside the mask; outside
  it goes style 2 when one is chosen (``style_masks=[mask, None]``, None = "the rest", the
  command line's ``rest``), otherwise nothing: the content is kept there (no style loss).
  With a mask the styles are placed rather than blended, so the blend slider is unused.

The mask a run uses is the 8-bit PNG the command line gets (:meth:`StyleMix.mask_png`,
decoded again by :func:`~nst_helpers.controls.to_mask`), so "Copy as command" reproduces
the studio's picture bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
import numpy as np

from .controls import mask_from_color, mask_from_rectangle, to_mask
from .errors import OptionError
from .images import resize_long_side
from .studio_controls import LABEL_STYLE, WIDE, FieldControl, field_help, png_bytes, set_tooltip

__all__ = ["MASK_MODES", "StyleMix"]

MASK_MODES = (("no mask", "none"), ("rectangle", "rectangle"), ("colour", "color"))
PREVIEW_SIDE = 160  # px, long side of the mask preview


def _slider(description, value, maximum=1.0, step=0.05, readout=".2f"):
    return widgets.FloatSlider(value=value, min=0.0, max=maximum, step=step, readout_format=readout,
                               description=description, style=LABEL_STYLE, layout=widgets.Layout(width=WIDE))


class StyleMix:
    """The blend slider and the mask controls, and the ``style_weights`` / ``style_masks`` they give.

    Widgets: ``blend`` (FloatSlider, the share of style 2), ``mask_mode`` (ToggleButtons:
    "none", "rectangle", "color"), ``top``, ``left``, ``height``, ``width`` (FloatSliders,
    fractions of the content's sides), ``color`` (ColorPicker), ``tolerance``, ``feather``
    (FloatSliders; feather in pixels of the content image), ``invert`` (Checkbox),
    ``mask_preview`` (Image: the content, darkened where style 1 does not go), ``note`` (HTML).

    Args:
        second_style: returns whether a second style image is chosen.
        content: returns the content image, ``(h, w, 3)`` in ``[0, 1]`` (as ``stylize`` loads it).
    """

    def __init__(self, second_style: Callable[[], bool], content: Callable[[], np.ndarray]):
        self._second_style, self._content = second_style, content
        self.blend = _slider("blend (style 2)", 0.5)
        set_tooltip(self.blend, "0: only style 1, 1: only style 2 (" + field_help("style_weights") + ")")
        self.mask_mode = widgets.ToggleButtons(options=list(MASK_MODES), value="none", description="mask",
                                               style=LABEL_STYLE)
        self.top, self.left = _slider("top", 0.25), _slider("left", 0.25)
        self.height, self.width = _slider("height", 0.5), _slider("width", 0.5)
        self.color = widgets.ColorPicker(value="#ffffff", description="colour", style=LABEL_STYLE)
        self.tolerance = _slider("tolerance", 0.3, maximum=1.75)
        set_tooltip(self.tolerance, "how far (RGB distance) a pixel's colour may be from the colour picked")
        self.feather = _slider("soft edges (px)", 0.0, maximum=20.0, step=0.5, readout=".1f")
        self.invert = widgets.Checkbox(value=False, description="invert: style 1 outside", indent=False)
        self.mask_preview = widgets.Image(format="png", layout=widgets.Layout(max_width=f"{PREVIEW_SIDE}px"))
        self.note = widgets.HTML()
        self._rectangle = widgets.VBox([self.top, self.left, self.height, self.width])
        self._by_color = widgets.VBox([self.color, self.tolerance])
        self.mask_box = widgets.VBox([self.mask_mode, self._rectangle, self._by_color, self.feather,
                                      self.invert, widgets.HBox([self.mask_preview, self.note])])
        for widget in (self.mask_mode, self.top, self.left, self.height, self.width, self.color,
                       self.tolerance, self.feather, self.invert):
            widget.observe(lambda change: self.refresh(), names="value")
        self.refresh()

    # ------------------------------------------------------------------ options
    def style_weights(self) -> list[float] | None:
        """``[1 - w, w]`` with a second style and no mask, else None (one style, or placed by a mask)."""
        if not self._second_style() or self.mask_mode.value != "none":
            return None
        share = float(self.blend.value)
        return [1.0 - share, share]

    def _mask(self, image: np.ndarray, scale: float = 1.0) -> np.ndarray:
        mode, feather = self.mask_mode.value, float(self.feather.value) * scale
        if mode == "rectangle":
            mask = mask_from_rectangle(image, float(self.top.value), float(self.left.value),
                                       float(self.height.value), float(self.width.value), feather=feather)
        else:
            mask = mask_from_color(image, _hex_color(self.color.value), float(self.tolerance.value),
                                   feather=feather)
        return 1.0 - mask if self.invert.value else mask

    def mask_png(self, content: np.ndarray | None = None) -> bytes | None:
        """The mask as the 8-bit grey PNG the command line reads (None without a mask).

        Args:
            content: the content image (default: the studio's).
        """
        if self.mask_mode.value == "none":
            return None
        mask = self._mask(self._content() if content is None else content)
        return png_bytes(np.repeat(mask[..., None], 3, axis=-1))

    def style_masks(self) -> list | None:
        """``[mask]`` (one style: the content is kept outside), ``[mask, None]`` (style 2 takes the
        rest), or None without a mask.  The mask is :meth:`mask_png` decoded, exactly what the
        command line loads.  Raises :class:`OptionError` when a style would get no pixel.
        """
        png = self.mask_png()
        if png is None:
            return None
        mask = to_mask(png)
        second = self._second_style()
        if mask.max() <= 0:
            raise OptionError("the mask is empty, so style 1 goes nowhere: "
                              + ("make the rectangle larger" if self.mask_mode.value == "rectangle" else
                                 "raise the tolerance or pick a colour of the content")
                              + ("" if not self.invert.value else ", or untick 'invert'"))
        if second and mask.min() >= 1:
            raise OptionError("the mask covers the whole picture, so style 2 goes nowhere: make the mask "
                              "smaller, or choose 'none' as the second style")
        return [mask, None] if second else [mask]

    def controls(self) -> dict[str, FieldControl]:
        """``{"style_weights": ..., "style_masks": ...}`` for
        :class:`~nst_helpers.studio_controls.SettingsControls`."""
        return {"style_weights": FieldControl("style_weights", self.blend, self.style_weights,
                                              parts=dict(blend=self.blend)),
                "style_masks": FieldControl("style_masks", self.mask_box, self.style_masks,
                                            parts=dict(mask_mode=self.mask_mode))}

    # ------------------------------------------------------------------ display
    def refresh(self) -> None:
        """Show the controls of the mask mode, the preview and what goes where (call after a change)."""
        mode, second = self.mask_mode.value, self._second_style()
        self._rectangle.layout.display = "" if mode == "rectangle" else "none"
        self._by_color.layout.display = "" if mode == "color" else "none"
        self.blend.disabled = not second or mode != "none"
        if mode == "none":
            self.mask_preview.value, self.mask_preview.layout.display = b"", "none"
            self.note.value = ("Blend: the slider mixes style 1 and style 2." if second else
                               "Choose a second style to blend two styles, or a mask to place style 1.")
            return
        self.mask_preview.layout.display = ""
        outside = "style 2" if second else "no style (the content is kept)"
        self.note.value = f"<b>bright</b>: style 1<br><b>dark</b>: {outside}"
        try:
            content = self._content()
            small = resize_long_side(content, min(PREVIEW_SIDE, max(content.shape[:2])))
            mask = self._mask(small, scale=small.shape[1] / content.shape[1])
        except Exception as error:  # e.g. a colour typed by hand that is no colour: say so, never crash
            self.note.value = f"<span style='color:#b00020'>{type(error).__name__}: {error}</span>"
            return
        self.mask_preview.value = png_bytes(small * (0.25 + 0.75 * mask[..., None]))


def _hex_color(value: str) -> str:
    """A ColorPicker's value as ``#rrggbb`` (it may hold a CSS name such as ``"red"`` or ``#abc``)."""
    from matplotlib.colors import to_hex

    try:
        return to_hex(value)
    except ValueError:
        raise OptionError(f"the mask colour {value!r} is not a colour: pick one, or type #rrggbb") from None
