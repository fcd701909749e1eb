"""Checks for notebook 10's exercises (the studio: its controls, Save, and Copy as command).

Each check builds a studio of its own (no run: building one takes a fraction of a second),
so the exercise cells need nothing from the notebook.  ipywidgets is imported only when a
check runs.
"""

from __future__ import annotations

import contextlib
import io
import math
import shlex
import tempfile
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import NSTError
from ..model import STYLE_LAYERS
from ..settings import StyleSettings
from .core import NotDone

__all__ = ["check_fine_texture_layers", "check_saved_names", "check_command_for_picture"]

# Exercise 2's studio and exercise 3's picture: (content, style, second style) and the controls.
SAVE_IMAGES = ("astronaut", "mosaic", "swirl")
PICTURE_IMAGES = ("rocket", "composition")
PICTURE_CONTROLS = dict(size=512, iterations=150, style_weight=1000.0, tv_weight=0.1)
PICTURE_LAYERS = 3  # the shallowest style layers ticked
PREFIX = ["python", "-m", "nst_helpers", "stylize"]


def _studio(content: str = "chelsea", style: str = "swirl"):
    """A studio for a check, never shown: its widgets talk to no front end (see :func:`_no_front_end`)."""
    from ..widgets import Studio

    with _no_front_end():
        return Studio(content=content, style=style)


@contextlib.contextmanager
def _no_front_end():
    """Widgets made inside get a comm that sends nothing (ipywidgets 8, through the ``comm`` package).

    A check's studio is never displayed; without this, every one of its widgets, pictures included,
    would be sent to the notebook's front end, and a notebook saved after the checks (nbclient keeps
    every widget it was told about) would carry them all.  Where widgets do not use the ``comm``
    package (ipywidgets 7), nothing changes.
    """
    try:
        import comm
        from comm.base_comm import BaseComm
    except ImportError:  # ipywidgets 7 opens its comms through ipykernel
        yield
        return

    class SilentComm(BaseComm):
        def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys) -> None:
            pass

    create = comm.create_comm
    comm.create_comm = SilentComm
    try:
        yield
    finally:
        comm.create_comm = create


def check_fine_texture_layers(fine_texture: Callable) -> str:
    """Exercise 1 (notebook 10): ``fine_texture(studio)`` ticks the two shallowest style layers only.

    It is tried on a fresh studio (all five ticked) and on one where only ``block5_conv1``
    is ticked: the function must set every box, whatever was ticked before.

    Args:
        fine_texture: the learner's function; it changes the studio's ``layer_boxes``.
    """
    expected = list(STYLE_LAYERS[:2])
    for ticked_before in (STYLE_LAYERS, STYLE_LAYERS[-1:]):
        studio = _studio()
        for layer, box in studio.layer_boxes.items():
            box.value = layer in ticked_before
        fine_texture(studio)
        ticked = studio.selected_layers()
        if ticked == expected and studio.stylize_options()["style_layers"] == expected:
            continue
        if len(ticked_before) == 1:  # the fresh studio passed
            raise NotDone("it works from all five, but not on a studio where only block5_conv1 is "
                          "ticked: set every box (True or False), not only the deep ones")
        if not ticked:
            raise NotDone("no style layer is ticked, so the studio would refuse to run: tick block1_conv1 "
                          "and block2_conv1")
        if ticked == list(ticked_before):
            raise NotDone("the studio's boxes did not change: set box.value for each of "
                          "studio.layer_boxes (True for the two shallowest, False for the others)")
        if len(ticked) != 2:
            raise NotDone(f"{len(ticked)} layers are ticked: keep exactly two, the shallowest")
        raise NotDone("those are not the two shallowest: nh.STYLE_LAYERS lists the layers shallow first, "
                      "so keep nh.STYLE_LAYERS[:2]")
    return "only block1_conv1 and block2_conv1 are ticked: grain and small strokes, no large shapes"


def check_saved_names(my_names: Sequence[str]) -> str:
    """Exercise 2 (notebook 10): the names of three saves of one studio into an empty folder.

    The studio has content ``astronaut``, style ``mosaic`` and second style ``swirl``; the
    check saves three times itself and compares the names.

    Args:
        my_names: the learner's three predicted file names.
    """
    if (not isinstance(my_names, (list, tuple)) or len(my_names) != 3
            or not all(isinstance(name, str) for name in my_names)):
        raise NotDone('my_names must be a list of three file names, e.g. ["a.png", "b.png", "c.png"]')
    studio = _studio(*SAVE_IMAGES[:2])
    studio.style2_choice.value = SAVE_IMAGES[2]
    studio.image = np.full((8, 8, 3), 0.5, np.float32)  # what a run leaves; any picture will do
    with tempfile.TemporaryDirectory() as folder:
        expected = [studio.save(folder).name for _ in range(3)]
    names = [str(name) for name in my_names]
    if names == expected:
        return f"{', '.join(expected)}: CONTENT_STYLE+STYLE2.png, then _1 and _2 for the names taken"
    if len(set(names)) < 3:
        raise NotDone("Save never replaces a file, so the three names all differ")
    if not all(name.endswith(".png") for name in names):
        raise NotDone("the studio saves PNG files: every name ends with .png")
    if names[0] != expected[0]:
        raise NotDone("the first save gets the plain name: the content, an underscore, then the style "
                      "names joined by + (CONTENT_STYLE+STYLE2.png)")
    raise NotDone("a name that is taken gets the first free number before .png: _1, then _2")


def _parse(command: str):
    """``(content, styles, StyleSettings)`` of a ``python -m nst_helpers stylize`` line, or NotDone."""
    from ..cli import build_parser, settings_options

    if not isinstance(command, str):
        raise NotDone("my_command must be a string: the whole line, from python -m nst_helpers stylize on")
    try:
        words = shlex.split(command)
    except ValueError:
        raise NotDone("my_command has an unclosed quote") from None
    if [word.replace("python3", "python") for word in words[:4]] != PREFIX:
        raise NotDone("the line starts with python -m nst_helpers stylize, then the content and the style")
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
            args = build_parser().parse_args(words[3:])
    except SystemExit:
        problem = (errors.getvalue().strip().splitlines() or ["error: it does not parse"])[-1]
        raise NotDone(f"the command line does not parse ({problem.split('error: ', 1)[-1]}); "
                      "python -m nst_helpers stylize --help lists the flags") from None
    styles = (args.style or []) + (args.style_option or [])
    try:
        settings = StyleSettings.from_options(**settings_options(args))
    except NSTError as error:
        raise NotDone(f"these settings cannot run: {error}") from None
    return args.content, styles, settings


def _same(a: object, b: object) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        numbers = isinstance(a, (int, float)) and isinstance(b, (int, float))
        return numbers and math.isclose(a, b, rel_tol=1e-6)
    return a == b


def _picture_command() -> str:
    """The line the studio's Copy as command writes for exercise 3's picture."""
    studio = _studio(*PICTURE_IMAGES)
    for name, value in PICTURE_CONTROLS.items():
        getattr(studio, name).value = value
    for layer, box in studio.layer_boxes.items():
        box.value = layer in STYLE_LAYERS[:PICTURE_LAYERS]
    studio.preserve_color.value = True
    return studio.command_line()


def check_command_for_picture(my_command: str) -> str:
    """Exercise 3 (notebook 10): the command line that paints a picture described by its studio controls.

    The reference is what the studio's **Copy as command** writes for those controls; the
    learner's line is parsed by the command line's own parser, so any order and spelling of
    the flags that gives the same settings passes.

    Args:
        my_command: the learner's ``python -m nst_helpers stylize ...`` line.
    """
    from ..cli import flag

    content, styles, settings = _parse(my_command)
    _, want_styles, want = _parse(_picture_command())
    if content != PICTURE_IMAGES[0]:
        raise NotDone("the content image is the rocket photo: its sample name comes right after stylize")
    if styles != want_styles:
        raise NotDone("one style image, the composition sample, after the content")
    default = StyleSettings()
    for name in want:  # the fields, in StyleSettings' order
        if not _same(settings[name], want[name]):
            if _same(want[name], default[name]):
                raise NotDone(f"{flag(name)} is set, but the picture left that control at its default: "
                              "leave the flag out")
            raise NotDone(f"{flag(name)} is missing or does not match the picture described")
    return "the same settings as the line the studio's Copy as command writes for this picture"
