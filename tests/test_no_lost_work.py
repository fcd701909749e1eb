"""Runs never lose work.

* A loss that turns NaN/inf stops the run with a RuntimeWarning that says so, and the
  best image seen before it is returned (checked by re-evaluating its loss).
* Ctrl-C (KeyboardInterrupt) in Python returns the best image, also in a coarse stage.
* The CLI on Ctrl-C saves the best image and exits 130; it never overwrites an input
  (however the path is spelled), creates missing folders, refuses a folder as output
  and writes atomically (an existing file survives a failed save; no temp files).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from nst_helpers import cli, images, optimise
from nst_helpers.images import load_image, resize_long_side, save_image, to_uint8
from nst_helpers.optimise import StyleObjective, StyleResult, stylize

SIZE = 64
pytestmark = pytest.mark.usefixtures("needs_weights")


@pytest.fixture(scope="module")
def content():
    return images.load_sample("chelsea", SIZE)


@pytest.fixture(scope="module")
def style():
    return images.load_sample("hubble", SIZE)


def loss_of(image, content, style) -> float:
    """The un-poisoned objective's total loss at ``image`` (same defaults as stylize)."""
    objective = StyleObjective(resize_long_side(content, SIZE), [resize_long_side(style, SIZE)])
    terms, _ = objective.value_and_grad(tf.constant(image[None], tf.float32))
    return float(terms["total"])


# --------------------------------------------------------------------------------------
# Non-finite loss
# --------------------------------------------------------------------------------------
@pytest.fixture
def nan_after(monkeypatch):
    """``nan_after(k, value)``: every StyleObjective returns ``value`` as its loss from the
    (k+1)-th evaluation on (a graph-side counter, so it works inside compiled Adam steps)."""
    def install(k: int, value: float = float("nan")):
        original_init = StyleObjective.__init__

        def init(self, *args, **kwargs):
            original_init(self, *args, **kwargs)
            inner, count = self.value_and_grad, tf.Variable(0, dtype=tf.int64, trainable=False)

            @tf.function
            def poisoned(image):
                terms, grads = inner(image)
                count.assign_add(1)
                bad = count > k
                return {n: tf.where(bad, tf.constant(value, t.dtype), t) for n, t in terms.items()}, grads

            self.value_and_grad, self.evaluations = poisoned, count

        monkeypatch.setattr(StyleObjective, "__init__", init)
    return install


@pytest.mark.parametrize("optimizer, value", [("lbfgs", float("nan")), ("adam", float("inf"))])
def test_non_finite_loss_stops_and_returns_the_best_image(nan_after, content, style, optimizer, value):
    nan_after(4, value)
    with pytest.warns(RuntimeWarning, match="non-finite") as caught:
        result = stylize(content, style, size=SIZE, iterations=30, optimizer=optimizer, progress=False)
    message = str(caught[0].message)
    assert "best image so far is kept" in message and ("learning rate" in message
                                                       or "style weight" in message)
    assert result.stopped and "non-finite" in result.stopped
    assert 1 <= result.iterations < 30  # it stopped early, after real progress
    assert result.image.shape == content.shape and np.all(np.isfinite(result.image))
    assert math.isfinite(result.loss)
    assert result.loss <= min(row["total"] for row in result.history) + 1e-6
    # The image returned is the one whose loss was reported as the best.
    assert loss_of(result.image, content, style) == pytest.approx(result.loss, rel=1e-4)
    assert not np.array_equal(result.image, content)  # progress was kept, not thrown away


def test_non_finite_from_the_first_evaluation_returns_the_start_image(nan_after, content, style):
    nan_after(0)
    with pytest.warns(RuntimeWarning, match="non-finite"):
        result = stylize(content, style, size=SIZE, iterations=5, progress=False, init="content")
    assert result.iterations == 0 and "non-finite" in result.stopped
    np.testing.assert_array_equal(result.image, content)  # nothing better existed: the start image


# --------------------------------------------------------------------------------------
# Ctrl-C in Python
# --------------------------------------------------------------------------------------
def interrupt_at(iteration):
    def callback(info):
        if info.iteration == iteration:
            raise KeyboardInterrupt
    return callback


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_keyboard_interrupt_returns_the_best_image(content, style, optimizer):
    result = stylize(content, style, size=SIZE, iterations=50, optimizer=optimizer, progress=False,
                     callback=interrupt_at(3))
    assert result.interrupted and "interrupted" in result.stopped
    assert result.iterations == 3 and len(result.history) == 3
    assert result.image.shape == content.shape and np.all(np.isfinite(result.image))
    assert loss_of(result.image, content, style) == pytest.approx(result.loss, rel=1e-4)
    assert result.loss < result.history[0]["total"]  # better than where it started


def test_keyboard_interrupt_in_a_coarse_stage_returns_a_full_size_image(content, style):
    big = images.load_sample("chelsea", 96)
    result = stylize(big, style, size=96, stages=[48, 96], iterations=[20, 20], progress=False,
                     callback=interrupt_at(2))
    assert result.interrupted and result.iterations == 2
    assert result.image.shape == big.shape  # upsampled from the 48 px stage, not lost
    assert {row["stage"] for row in result.history} == {0}


# --------------------------------------------------------------------------------------
# The CLI
# --------------------------------------------------------------------------------------
@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "x.png"
    Image.fromarray(to_uint8(images.load_sample("chelsea", 80))).save(path)
    return path


@pytest.fixture
def ctrl_c_after_two_iterations(monkeypatch):
    """The real L-BFGS, except that the third iteration is a Ctrl-C; records the result."""
    real_lbfgs, real_stylize, seen = optimise.run_lbfgs, optimise.stylize, {}

    def lbfgs(objective, init, iterations, tracker, **options):
        real_iterated = tracker.iterated

        def iterated(image, losses):
            if tracker.iteration == 2:
                raise KeyboardInterrupt
            real_iterated(image, losses)

        tracker.iterated = iterated
        return real_lbfgs(objective, init, iterations, tracker, **options)

    def recording_stylize(*args, **kwargs):
        seen["result"] = real_stylize(*args, **kwargs)
        return seen["result"]

    monkeypatch.setitem(optimise.OPTIMIZERS, "lbfgs", lbfgs)
    monkeypatch.setattr(optimise, "stylize", recording_stylize)
    return seen


def test_cli_ctrl_c_saves_the_best_image_and_exits_130(tmp_path, photo, capsys, ctrl_c_after_two_iterations):
    out = tmp_path / "out" / "result.png"
    code = cli.main(["stylize", str(photo), "hubble", "-o", str(out), "--size", str(SIZE),
                     "--iterations", "50", "--optimizer", "lbfgs", "-q"])
    captured = capsys.readouterr()
    assert code == 130, captured.err
    assert "stopped early: interrupted" in captured.err
    result = ctrl_c_after_two_iterations["result"]
    assert result.iterations == 2 and result.interrupted
    saved = load_image(out)
    np.testing.assert_array_equal(saved, to_uint8(result.image) / np.float32(255.0))  # exactly the best image
    assert f"saved {out}" in captured.out
    assert [p.name for p in out.parent.iterdir()] == ["result.png"]


@pytest.fixture
def quick_stylize(monkeypatch):
    """A stand-in for stylize (these tests are about the output path, not the painting)."""
    calls = []

    def fake(content, style, **kwargs):
        calls.append(content)
        return StyleResult(image=np.full((40, 64, 3), 0.25, np.float32), loss=1.0, iterations=1, seconds=0.0)

    monkeypatch.setattr(optimise, "stylize", fake)
    return calls


@pytest.mark.parametrize("spelling",
                         ["x.png", "./x.png", "sub/../x.png", "{abs}", "link.png", "hardlink.png"])
@pytest.mark.parametrize("role", ["content", "style"])
def test_cli_never_overwrites_an_input(spelling, role, photo, tmp_path, monkeypatch, capsys, quick_stylize):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    os.symlink(photo, tmp_path / "link.png")
    os.link(photo, tmp_path / "hardlink.png")
    before = photo.read_bytes()
    output = spelling.replace("{abs}", str(photo))
    inputs = ["./x.png", "hubble"] if role == "content" else ["chelsea", "./x.png"]
    code = cli.main(["stylize", *inputs, "-o", output, "--overwrite", "--size", str(SIZE), "-q"])
    assert code == 2
    assert "refusing to overwrite the input" in capsys.readouterr().err
    assert photo.read_bytes() == before


def test_cli_creates_missing_output_folders(tmp_path, quick_stylize):
    out = tmp_path / "a" / "b" / "c" / "painting.jpg"
    assert cli.main(["stylize", "chelsea", "hubble", "-o", str(out), "-q"]) == 0
    assert load_image(out).shape == (40, 64, 3)


def test_cli_refuses_a_folder_as_output_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(optimise, "stylize", lambda *a, **k: pytest.fail("stylize ran"))
    (tmp_path / "folder.png").mkdir()
    for target in (tmp_path, tmp_path / "folder.png"):
        assert cli.main(["stylize", "chelsea", "hubble", "-o", str(target), "-q"]) == 2
        assert "is a folder" in capsys.readouterr().err


@pytest.mark.parametrize("existing", [True, False])
def test_cli_save_is_atomic(existing, tmp_path, capsys, quick_stylize, monkeypatch):
    out = tmp_path / "result.png"
    if existing:
        save_image(np.zeros((40, 64, 3), np.float32), out)
    before = out.read_bytes() if existing else None
    real_save = Image.Image.save

    def save_half_then_fail(self, fp, *args, **kwargs):
        real_save(self, fp, *args, **kwargs)  # the bytes are written ...
        fp.truncate(fp.tell() // 2)  # ... then the disk fills up half way
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", save_half_then_fail)
    args = ["stylize", "chelsea", "hubble", "-o", str(out), "-q"] + (["--overwrite"] if existing else [])
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "could not save" in err and "No space left on device" in err and str(out) in err
    assert "Traceback" not in err
    if existing:
        assert out.read_bytes() == before  # the previous picture is intact
    else:
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["result.png"] if existing else [])  # no temp files


def test_saved_files_get_normal_permissions(tmp_path, small_image):
    """mkstemp makes 0600 files; a saved picture must be readable like any other file."""
    mask = os.umask(0o022)
    try:
        path = save_image(small_image, tmp_path / "shared.png")
    finally:
        os.umask(mask)
    assert (path.stat().st_mode & 0o777) == 0o644
    path.chmod(0o640)
    save_image(small_image, path, overwrite=True)
    assert (path.stat().st_mode & 0o777) == 0o640  # an overwritten file keeps its permissions


def test_python_save_refuses_to_overwrite_a_protected_input_by_hard_link(tmp_path, small_image, photo):
    hard = tmp_path / "other_name.png"
    os.link(photo, hard)
    before = photo.read_bytes()
    with pytest.raises(images.ImageError, match="refusing to overwrite the input"):
        save_image(small_image, hard, overwrite=True, protect=[photo])
    assert photo.read_bytes() == before
