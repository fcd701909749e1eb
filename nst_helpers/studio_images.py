"""The studio's image pickers: content, style and second style, each a sample Dropdown, an upload
button and a thumbnail (:class:`ImagePickers`, a part of :class:`nst_helpers.widgets.Studio`)."""

from __future__ import annotations

import ipywidgets as widgets

from .errors import ImageError
from .images import SAMPLES, list_samples, load_image, resize_long_side
from .studio_controls import file_label, png_bytes, uploaded_files

__all__ = ["KINDS", "NO_STYLE", "ImagePickers"]

THUMBNAIL_SIDE = 160  # px, long side of the content/style thumbnails
MAX_UPLOAD_SIDE = 1024  # px: uploads are shrunk to the largest size the slider offers
KINDS = {"content": "content", "style": "style", "style2": "second style"}  # picker -> what the user reads
NO_STYLE = ""  # the second style picker's "none"


class ImagePickers:
    """The pickers' widgets and the images they choose; :class:`~nst_helpers.widgets.Studio` is one.

    Attributes: ``content_choice``, ``style_choice``, ``style2_choice`` (Dropdowns),
    ``content_upload``, ``style_upload``, ``style2_upload`` (FileUpload) and the
    ``*_thumbnail`` Images.  The class using it provides ``_show_error``, ``_show_note``
    and ``mix`` (the mask preview to refresh).
    """

    def _build_image_pickers(self, content, style):
        self._uploads = {kind: {} for kind in KINDS}  # {dropdown value: image array}
        self._content_cache = (None, None)  # ((choice, id of the source), loaded content)
        thumbnail = widgets.Layout(max_width=f"{THUMBNAIL_SIDE}px")
        self.content_choice = widgets.Dropdown(options=list_samples("content"), value=content,
                                               description="content")
        self.style_choice = widgets.Dropdown(options=list_samples("style"), value=style, description="style")
        self.style2_choice = widgets.Dropdown(options=[("none", NO_STYLE), *_as_pairs(list_samples("style"))],
                                              value=NO_STYLE, description="style 2")
        self._pickers = {}
        for kind, choice in (("content", self.content_choice), ("style", self.style_choice),
                             ("style2", self.style2_choice)):
            upload = widgets.FileUpload(accept="image/*", multiple=False, description=f"upload {KINDS[kind]}",
                                        layout=widgets.Layout(width="auto"))
            setattr(self, f"{kind}_upload", upload)
            setattr(self, f"{kind}_thumbnail", widgets.Image(format="png", layout=thumbnail))
            self._pickers[kind] = (choice, upload, getattr(self, f"{kind}_thumbnail"))
            choice.observe(lambda change, kind=kind: self._chose(kind), names="value")
            upload.observe(lambda change, kind=kind: self._uploaded(kind, change["new"]), names="value")

    def _choice(self, kind) -> widgets.Dropdown:
        return self._pickers[kind][0]

    def _upload(self, kind) -> widgets.FileUpload:
        return self._pickers[kind][1]

    # ---------------------------------------------------------------- images and uploads
    def _chosen_image(self, kind, max_side=None):
        """The chosen sample's name, or the uploaded array (None: no second style); with
        ``max_side`` a small array to show."""
        choice = self._choice(kind).value
        if choice == NO_STYLE:
            return None
        image = self._uploads[kind].get(choice, choice)
        if max_side is None:
            return image
        return resize_long_side(load_image(image), max_side)

    def _content_image(self):
        """The content image as stylize loads it (kept while the choice stays the same)."""
        source = self._chosen_image("content")
        key = (self.content_choice.value, id(source))
        if self._content_cache[0] != key:
            self._content_cache = (key, load_image(source))
        return self._content_cache[1]

    def _chose(self, kind):
        self._show_thumbnail(kind)
        if kind != "style":
            self.mix.refresh()  # the mask preview shows the content; the notes say where style 2 goes

    def _show_thumbnail(self, kind):
        image = self._chosen_image(kind, THUMBNAIL_SIDE)
        self._pickers[kind][2].value = b"" if image is None else png_bytes(image)

    def _uploaded(self, kind, value):
        for filename, data in uploaded_files(value):
            self.use_upload(kind, filename, data)

    def use_upload(self, kind: str, filename: str, data: bytes) -> bool:
        """Decode an uploaded file and select it as the ``kind`` image.

        A file that is not a usable image leaves the selection as it was and explains
        why in ``message``; returns whether the upload was accepted.

        Args:
            kind: "content", "style" or "style2" (the second style).
            filename: the file's name (shown in the picker).
            data: the file's bytes.
        """
        what = KINDS[kind]
        try:
            image = load_image(data)
        except ImageError as error:
            reason = str(error).replace("<bytes>", repr(filename))
            self._show_error(f"Cannot use {filename!r} as the {what} image: {reason}")
            return False
        except Exception as error:  # e.g. MemoryError: still a message, never a crash
            self._show_error(f"Cannot use {filename!r} as the {what} image "
                             f"({type(error).__name__}: {error}).")
            return False
        if max(image.shape[:2]) > MAX_UPLOAD_SIDE:
            image = resize_long_side(image, MAX_UPLOAD_SIDE)
        key = f"upload:{filename}"
        self._uploads[kind][key] = image
        choice = self._choice(kind)
        entry = (f"my upload: {filename}", key)
        choice.options = [*(option for option in _as_pairs(choice.options) if option != entry), entry]
        if choice.value == key:  # the same name uploaded again: the observer does not fire
            self._chose(kind)
        choice.value = key
        self._show_note(f"Using your {what} image {filename!r} ({image.shape[1]}x{image.shape[0]}).")
        return True

    def _source_label(self, kind) -> str:
        choice = self._choice(kind).value
        return choice if choice in SAMPLES else file_label(choice.split(":", 1)[1])


def _as_pairs(options) -> list:
    """Dropdown options as ``(label, value)`` pairs, whatever form they were given in."""
    return [option if isinstance(option, tuple) else (option, option) for option in options]
