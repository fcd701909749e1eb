"""Checks for notebook 01's exercises (quickstart): a pairing, the total loss, a change map, a JPEG."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from ..images import ImageError, load_image, save_image
from ..samples import list_samples
from .core import NotDone

__all__ = ["check_own_pairing", "check_weighted_total_loss", "check_change_map", "check_save_jpeg"]

QUICKSTART_PAIR = ("chelsea", "swirl")  # section 3's content and style: the pairing must differ


def check_own_pairing(my_content: object, my_style: object) -> str:
    """Exercise 1 (notebook 01): a content sample and a style sample other than chelsea and swirl.

    Args:
        my_content: the learner's content sample name.
        my_style: the learner's style sample name.
    """
    contents = [name for name in list_samples("content") if name != QUICKSTART_PAIR[0]]
    styles = [name for name in list_samples("style") if name != QUICKSTART_PAIR[1]]
    for value, kind, names, taken in ((my_content, "content", contents, QUICKSTART_PAIR[0]),
                                      (my_style, "style", styles, QUICKSTART_PAIR[1])):
        if value == taken:
            raise NotDone(f"{taken!r} is the {kind} of section 3: pick another one of {', '.join(names)}")
        if not isinstance(value, str) or value not in names:
            raise NotDone(f"set my_{kind} to the name of a {kind} sample (a string): "
                          f"one of {', '.join(names)}")
    return f"{my_content} x {my_style}: run the next cell to paint it"


def check_weighted_total_loss(total_loss: Callable) -> str:
    """Exercise 2 (notebook 01): ``total_loss(losses, content_weight, style_weight, tv_weight)``.

    Args:
        total_loss: the learner's function of a dict with the keys ``"content"``, ``"style"`` and
            ``"tv"`` (one entry of ``result.history``, without its ``"total"``) and the three weights.
    """
    rng = np.random.default_rng(1)
    cases = [(dict(content=0.48, style=0.03, tv=0.04), (1.0, 10.0, 1.0))]
    for _ in range(3):
        cases.append((dict(zip(("content", "style", "tv"), rng.uniform(0.1, 2.0, 3))),
                      tuple(rng.uniform(0.5, 20.0, 3))))
    for losses, weights in cases:
        try:
            value = total_loss(dict(losses), *weights)
        except KeyError as missing:
            raise NotDone(f"losses has no key {missing}: build the total from losses['content'], "
                          "losses['style'] and losses['tv']") from None
        if value is None or not np.isfinite(float(value)):
            raise NotDone("total_loss must return a number: the weighted sum of the three terms")
        terms = np.array([losses["content"], losses["style"], losses["tv"]])
        if np.isclose(value, terms.sum(), rtol=1e-6) and not np.allclose(weights, 1.0):
            raise NotDone("that is the plain sum: multiply each term by its weight first")
        if not np.isclose(value, float(np.dot(weights, terms)), rtol=1e-6, atol=1e-9):
            raise NotDone("not content_weight * content + style_weight * style + tv_weight * tv: "
                          "use the weights passed in, each with its own term")
    return "alpha * content + beta * style + tv_weight * tv, for any weights"


def _change_images(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    content = rng.uniform(0.0, 1.0, (12, 17, 3)).astype(np.float32)
    result = np.clip(content + rng.normal(0.0, 0.3, content.shape), 0.0, 1.0).astype(np.float32)
    return result, content


def check_change_map(change_map: Callable) -> str:
    """Exercise 3 (notebook 01): ``change_map(result_image, content_image)``, the mean ``|x - p|`` per pixel.

    Args:
        change_map: the learner's function of two ``(h, w, 3)`` images, returning ``(h, w)``.
    """
    result, content = _change_images()
    given = result.copy(), content.copy()
    change = change_map(*given)
    if change is None:
        raise NotDone("change_map must return an array of shape (height, width)")
    change = np.asarray(change, dtype=np.float64)
    if change.shape != content.shape[:2]:
        raise NotDone("change_map must return one number per pixel, shape (height, width): "
                      "average over the colour channels, the last axis (axis=-1)")
    difference = result.astype(np.float64) - content
    expected = np.abs(difference).mean(axis=-1)
    if not np.all(np.isfinite(change)) or not np.any(change):
        raise NotDone("your map is all zero: compute np.abs(result_image - content_image), then average it "
                      "over the colour channels")
    if np.allclose(change, difference.mean(axis=-1), atol=1e-5):
        raise NotDone("negative and positive differences cancel out: take np.abs of the difference "
                      "before averaging")
    if np.allclose(change, 3 * expected, atol=1e-5):
        raise NotDone("that is the sum over the channels: take the mean (values stay in [0, 1])")
    if not np.allclose(change, expected, atol=1e-5):
        raise NotDone("not the mean over the three channels of |result_image - content_image| for each pixel")
    if not (np.array_equal(given[0], result) and np.array_equal(given[1], content)):
        raise NotDone("change_map changed the images it was given: compute a new array instead")
    return "mean over the channels of |x - p|, one number per pixel"


def _saved_as(path: Path) -> str | None:
    try:
        with Image.open(path) as image:
            return image.format
    except OSError:
        return None


def check_save_jpeg(save_jpeg: Callable) -> str:
    """Exercise 4 (notebook 01): ``save_jpeg(image, folder)`` saves ``folder / "painting.jpg"``, returns it.

    The folder already holds a different ``painting.png``, which must be left as it is; a second call
    must replace the first JPEG.

    Args:
        save_jpeg: the learner's function of a ``[0, 1]`` RGB array and a ``pathlib.Path`` folder.
    """
    rows, cols = np.mgrid[0:48, 0:64] / 64.0
    image = np.stack([rows, cols, 0.5 + 0.4 * np.sin(6 * rows * cols)], axis=-1).astype(np.float32)
    given = image.copy()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        png = save_image(image[::-1], folder / "painting.png")  # another picture, already saved
        png_bytes = png.read_bytes()
        path = save_jpeg(given, folder)
        if path is None or not Path(path).is_file():
            raise NotDone("save_jpeg must return the path of the file it wrote (nh.save_image returns it)")
        path = Path(path)
        if _saved_as(path) != "JPEG":
            raise NotDone("the file written is not a JPEG: end the file name with .jpg, nh.save_image "
                          "picks the format from it")
        if path.suffix.lower() not in (".jpg", ".jpeg") or path.resolve().parent != folder.resolve():
            raise NotDone("save the JPEG as painting.jpg inside the folder you are given: "
                          "folder / \"painting.jpg\"")
        if png.read_bytes() != png_bytes:
            raise NotDone("painting.png was replaced: write a new file, painting.jpg, and leave the PNG "
                          "alone")
        if not np.array_equal(given, image):
            raise NotDone("save_jpeg changed the image it was given: save it as it is")
        if np.abs(load_image(path) - image).mean() > 0.02:
            raise NotDone("the JPEG does not show the image save_jpeg was given: save that image")
        try:
            again = save_jpeg(given, folder)
        except ImageError:
            raise NotDone("a second call fails: nh.save_image only replaces a file with "
                          "overwrite=True") from None
        if again is None or Path(again).resolve() != path.resolve():
            raise NotDone("a second call must write the same file, painting.jpg, again")
    return "a JPEG next to the untouched PNG, replaced on the next call"
