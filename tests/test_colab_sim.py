"""The pieces of the Colab simulation (scripts/colab_sim.sh) that run without building it:
the google.colab stand-in and the Keras-layout weights file.  The simulation itself takes
minutes, so it is run by hand (see CONTRIBUTING.md), not here."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nst_helpers import weights as nw

ROOT = Path(__file__).resolve().parent.parent
STUB = ROOT / "tests" / "colab_stub"


def _run_with_stub(code: str) -> subprocess.CompletedProcess:
    # In a child process: importing google.colab here would make this test run look like Colab.
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(STUB), "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("call", ["files.upload()", "files.download('result.png')"])
def test_stub_refuses_what_waits_for_a_person(call):
    done = _run_with_stub("import sys\nfrom google.colab import files\nassert 'google.colab' in "
                          f"sys.modules\n{call}")
    assert done.returncode == 1 and "WaitsForAPerson" in done.stderr
    assert "reached during Run all" in done.stderr and "waits for a person" in done.stderr


def test_stub_keeps_google_a_namespace_package():
    assert not (STUB / "google" / "__init__.py").exists()  # else google.protobuf (TensorFlow) is hidden
    assert _run_with_stub("import google.colab, google; print(list(google.__path__))").returncode == 0


def test_weights_file_is_read_back_by_the_keras_cache_path(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("colab_sim", ROOT / "scripts" / "colab_sim.py")
    colab_sim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(colab_sim)
    rng = np.random.default_rng(0)
    weights = {layer: (rng.standard_normal(shape, dtype=np.float32),
                       rng.standard_normal(shape[-1], dtype=np.float32))
               for layer, shape in nw.VGG19_CONV_SHAPES.items()}
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("NST_VGG19_WEIGHTS", raising=False)
    path = nw.keras_cache_path()
    path.parent.mkdir(parents=True)
    colab_sim.write_keras_h5(weights, path)
    loaded, source = nw.load_vgg19_weights(download=False)
    assert source.kind == "keras-cache" and source.path == str(path) and not source.quantised
    for layer, (kernel, bias) in weights.items():
        np.testing.assert_array_equal(loaded[layer][0], kernel)
        np.testing.assert_array_equal(loaded[layer][1], bias)


def test_sim_script_parses():
    assert subprocess.run(["bash", "-n", str(ROOT / "scripts" / "colab_sim.sh")]).returncode == 0
