"""``python -m nst_helpers``: stylize end to end, output-path safety, samples, prefetch."""

from __future__ import annotations

import os
import dataclasses
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nst_helpers import cli, images, optimise, samples
from nst_helpers.errors import OptionError
from nst_helpers.images import SAMPLES, load_image
from nst_helpers.optimise import StopReason, Stopped, StyleResult
from nst_helpers.settings import StyleSettings

REPO = Path(__file__).resolve().parent.parent
FAST = ["--size", "64", "--iterations", "3", "-q"]


@pytest.fixture
def no_stylize(monkeypatch):
    """Output checks must fail before any optimisation starts."""
    def refuse(*args, **kwargs):
        raise AssertionError("stylize ran although the output path is unusable")

    monkeypatch.setattr(optimise, "stylize", refuse)


class FakeStylize:
    """A stand-in for stylize that returns a small image at once (for CLI plumbing tests)."""

    def __init__(self):
        self.calls, self.stopped = [], None

    def __call__(self, content, style, **kwargs):
        self.calls.append(dict(content=content, style=style, **kwargs))
        return StyleResult(image=np.full((40, 64, 3), 0.5, np.float32), loss=1.25,
                           iterations=kwargs["iterations"],
                           seconds=0.01, weights_source="fake-weights", stopped=self.stopped)


@pytest.fixture
def fake_stylize(monkeypatch):
    fake = FakeStylize()
    monkeypatch.setattr(optimise, "stylize", fake)
    return fake


@pytest.fixture
def photo(tmp_path):
    """A copy of a bundled photo outside the repository, usable as an input path."""
    path = tmp_path / "in.png"
    shutil.copy(images.sample_path("chelsea"), path)
    return path


# --------------------------------------------------------------------------- end to end
def test_stylize_in_process(tmp_path, capsys, needs_weights):
    out = tmp_path / "result.png"
    code = cli.main(["stylize", "chelsea", "hubble", "-o", str(out), *FAST])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    image = load_image(out)
    assert max(image.shape[:2]) == 64 and image.shape[:2] == images.fit_long_side(300, 451, 64)
    assert "weights: " in captured.out  # where the weights came from
    assert re.search(r"after 3 iterations in \d+\.\d s \(final loss [\d.e+-]+\)", captured.out), captured.out
    assert f"saved {out}" in captured.out


def test_stylize_subprocess(tmp_path, needs_weights):
    out = tmp_path / "deep" / "result.png"
    env = dict(os.environ, MPLBACKEND="Agg", NST_OFFLINE="1", PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "nst_helpers", "stylize", "chelsea", "--style", "hubble",
                           "-o", str(out), "--size", "64", "--iterations", "2", "--optimizer", "adam", "-q"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert out.is_file() and max(load_image(out).shape[:2]) == 64
    assert "weights: " in proc.stdout and re.search(r"in \d+\.\d s", proc.stdout)
    assert "Traceback" not in proc.stderr


def test_arguments_reach_stylize(tmp_path, fake_stylize):
    out = tmp_path / "o.png"
    code = cli.main(["stylize", "chelsea", "hubble", "ihc", "-o", str(out), "--size", "96",
                     "--iterations", "7", "--optimizer", "adam", "--style-weights", "1", "3",
                     "--init", "noise", "--pooling", "avg", "--seed", "5", "--style-weight", "20",
                     "--tv-weight", "0.5", "-q"])
    assert code == 0
    (call,) = fake_stylize.calls
    assert call["content"] == "chelsea" and call["style"] == ["hubble", "ihc"]
    assert call["size"] == 96 and call["iterations"] == 7 and call["optimizer"] == "adam"
    assert call["style_weights"] == [1.0, 3.0] and call["init"] == "noise" and call["pooling"] == "avg"
    assert call["seed"] == 5 and call["style_weight"] == 20.0 and call["tv_weight"] == 0.5
    assert call["progress"] is False
    assert out.is_file()


def _stylize_actions():
    parser = cli.build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    return {option: action for action in sub.choices["stylize"]._actions for option in action.option_strings}


def test_every_setting_has_a_same_named_flag():
    actions = _stylize_actions()
    for field in dataclasses.fields(StyleSettings):
        flag = "--" + field.name.replace("_", "-")
        assert flag in actions, f"StyleSettings.{field.name} has no CLI flag {flag}"
        action = actions[flag]
        assert action.dest == field.name
        choices = field.metadata["choices"]
        assert (tuple(action.choices) if action.choices else None) == (tuple(choices) if choices else None)
        if field.default is not None and field.name != "size":
            default = field.default
            shown = " ".join(map(str, default)) if isinstance(default, tuple) else str(default)
            assert f"(default {shown})" in action.help


def test_precision_layer_weights_and_optimizer_options_reach_stylize(tmp_path, fake_stylize):
    assert cli.main(["stylize", "chelsea", "hubble", "-o", str(tmp_path / "o.png"), "--precision", "bfloat16",
                     "--style-layer-weights", "1", "2", "3", "4", "5", "--optimizer-options",
                     "history_size=5", *FAST]) == 0
    (call,) = fake_stylize.calls
    assert call["precision"] == "bfloat16" and call["style_layer_weights"] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert call["optimizer_options"] == {"history_size": 5}
    assert "content_layers" not in call  # left out: stylize applies StyleSettings' default


@pytest.mark.parametrize("size", ["0", "-5", "16"])
def test_bad_size_is_a_clear_error(tmp_path, capsys, no_stylize, size):
    assert cli.main(["stylize", "chelsea", "hubble", "-o", str(tmp_path / "o.png"), "--size", size,
                     "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: size must be an integer >= 32") and f"got {int(size)}" in err


def test_size_defaults_to_the_last_stage(tmp_path, fake_stylize):
    assert cli.main(["stylize", "chelsea", "hubble", "-o", str(tmp_path / "o.png"), "--stages", "48", "96",
                     "--iterations", "2", "1", "-q"]) == 0
    (call,) = fake_stylize.calls
    assert call["size"] == 96 and call["stages"] == [48, 96] and call["iterations"] == [2, 1]


def test_command_line_round_trips_through_the_parser():
    options = dict(size=96, iterations=[3, 2], stages=[48, 96], optimizer="adam", style_weight=20.0,
                   style_layers=["block1_conv1", "block2_conv1"], style_weights=[1.0, 2.0],
                   preserve_color="match",
                   style_masks=["m.png", None], optimizer_options={"learning_rate": 0.05}, seed=3,
                   pooling="avg")
    line = cli.command_line("chelsea", ["swirl", "mosaic"], **options, progress=False)
    assert line.startswith("python -m nst_helpers stylize chelsea swirl mosaic ")
    args = cli.build_parser().parse_args(shlex.split(line)[3:])
    assert args.content == "chelsea" and args.style == ["swirl", "mosaic"]
    assert cli.settings_options(args) == options
    assert cli.command_line("chelsea", "swirl") == "python -m nst_helpers stylize chelsea swirl"
    with pytest.raises(OptionError, match="use style_weights"):
        cli.command_line("chelsea", "swirl", style_blend=[1.0])


# --------------------------------------------------------------------------- output safety
def test_refuses_to_overwrite_an_input(photo, capsys, no_stylize):
    before = photo.read_bytes()
    for args in (["stylize", str(photo), "hubble", "-o", str(photo), "--overwrite"],
                 ["stylize", "chelsea", str(photo), "-o", str(photo), "--overwrite"]):
        assert cli.main(args + FAST) == 2
        assert "refusing to overwrite the input" in capsys.readouterr().err
    assert photo.read_bytes() == before


def test_refuses_existing_output_without_overwrite(tmp_path, capsys, no_stylize, monkeypatch):
    out = tmp_path / "exists.png"
    out.write_bytes(b"precious")
    assert cli.main(["stylize", "chelsea", "hubble", "-o", str(out), *FAST]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "already exists" in err and "--overwrite" in err
    assert out.read_bytes() == b"precious"


def test_overwrite_replaces_existing_output(tmp_path, fake_stylize):
    out = tmp_path / "exists.png"
    out.write_bytes(b"old")
    assert cli.main(["stylize", "chelsea", "hubble", "-o", str(out), "--overwrite", *FAST]) == 0
    assert load_image(out).shape == (40, 64, 3)


def test_creates_missing_output_folders(tmp_path, fake_stylize):
    out = tmp_path / "a" / "b" / "c.png"
    assert cli.main(["stylize", "chelsea", "hubble", "-o", str(out), *FAST]) == 0
    assert out.is_file()


def test_output_directory_is_a_clear_error(tmp_path, capsys, no_stylize):
    assert cli.main(["stylize", "chelsea", "hubble", "-o", str(tmp_path), *FAST]) == 2
    err = capsys.readouterr().err
    assert "is a folder" in err and "result.png" in err and "Traceback" not in err


def test_default_output_name_is_never_overwritten(tmp_path, fake_stylize, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["stylize", "chelsea", "hubble", *FAST]) == 0
    assert cli.main(["stylize", "chelsea", "hubble", *FAST]) == 0
    assert sorted(p.name for p in (tmp_path / "outputs").iterdir()) == ["chelsea_hubble.png",
                                                                        "chelsea_hubble_1.png"]


def test_interrupted_run_saves_and_exits_130(tmp_path, fake_stylize, capsys):
    fake_stylize.stopped = Stopped(StopReason.INTERRUPTED)
    assert fake_stylize.stopped == "interrupted (Ctrl-C); the best image so far is kept"
    out = tmp_path / "partial.png"
    assert cli.main(["stylize", "chelsea", "hubble", "-o", str(out), *FAST]) == 130
    assert out.is_file()
    assert "stopped early: interrupted" in capsys.readouterr().err


def test_library_errors_become_exit_code_2(tmp_path, capsys):
    assert cli.main(["stylize", str(tmp_path / "missing.png"), "hubble", "-o", str(tmp_path / "o.png"),
                     *FAST]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no such file" in err


# --------------------------------------------------------------------------- other commands
def test_samples_command(capsys):
    assert cli.main(["samples"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(SAMPLES)
    for name, sample in SAMPLES.items():
        assert any(line.split()[:2] == [name, sample.kind]
                   and line.split()[-1] == str(images.sample_path(name))
                   for line in lines), name


def test_samples_command_reports_missing_files(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(samples, "SAMPLES_OVERRIDE_DIR", tmp_path)  # an empty samples folder
    assert cli.main(["samples"]) == 2
    captured = capsys.readouterr()
    assert captured.out.count("(missing)") == len(SAMPLES)
    assert f"{len(SAMPLES)} of {len(SAMPLES)} sample images missing" in captured.err
    assert "NST_IMAGES_DIR" in captured.err


def test_prefetch_command(capsys, needs_weights):
    assert cli.main(["prefetch"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("VGG19 weights ready: ")
    for name in SAMPLES:
        assert f"sample {name}" in out
    assert "Everything needed offline is cached." in out


def test_prefetch_reports_a_missing_sample(tmp_path, capsys, monkeypatch, needs_weights):
    monkeypatch.setattr(samples, "SAMPLES_OVERRIDE_DIR", tmp_path)  # an empty samples folder
    assert cli.main(["prefetch"]) == 2
    err = capsys.readouterr().err
    assert "is missing" in err and "Traceback" not in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        cli.main(["stylize", "--optimizer", "sgd"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
