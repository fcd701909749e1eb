"""Determinism on CPU: the same inputs and seed give a bit-identical image.

Twice in one process (L-BFGS and Adam, content and noise initialisation), and once more
in a fresh Python process (what a re-executed notebook sees).

Finding (see docs/reliability.md): stylize is already bit-reproducible on CPU for a fixed
number of TensorFlow threads, without ``tf.config.experimental.enable_op_determinism()``
(which changes neither the result nor anything else here).  Results do differ between
machines with a different number of cores: oneDNN splits its reductions by thread count.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nst_helpers import images
from nst_helpers.optimise import stylize

SIZE = 96
ITERATIONS = 4
REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.usefixtures("needs_weights")


def run(optimizer: str, init: str, seed: int = 0):
    return stylize("chelsea", "hubble", size=SIZE, iterations=ITERATIONS, optimizer=optimizer, init=init,
                   seed=seed, progress=False)


def digest(image: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(image, np.float32).tobytes()).hexdigest()


@pytest.mark.parametrize("optimizer, init", [("lbfgs", "content"), ("adam", "content"), ("lbfgs", "noise"),
                                             ("adam", "noise")])
def test_same_seed_same_bits(optimizer, init):
    first, second = run(optimizer, init), run(optimizer, init)
    assert first.image.shape == second.image.shape and max(first.image.shape[:2]) == SIZE
    assert digest(first.image) == digest(second.image), np.abs(first.image - second.image).max()
    assert first.loss == second.loss
    assert [row["total"] for row in first.history] == [row["total"] for row in second.history]


def test_the_seed_matters_for_noise_init():
    assert digest(run("adam", "noise", seed=0).image) != digest(run("adam", "noise", seed=1).image)


SCRIPT = """
import hashlib, numpy as np
from nst_helpers.optimise import stylize
r = stylize("chelsea", "hubble", size={size}, iterations={iterations}, optimizer="adam", init="noise",
            seed=0, progress=False)
print("DIGEST", hashlib.sha256(np.ascontiguousarray(r.image, np.float32).tobytes()).hexdigest())
"""


def test_same_bits_in_a_fresh_process():
    here = digest(run("adam", "noise").image)
    env = dict(os.environ, NST_OFFLINE="1", PYTHONPATH=str(REPO), PYTHONHASHSEED="0")
    proc = subprocess.run([sys.executable, "-c", SCRIPT.format(size=SIZE, iterations=ITERATIONS)], env=env,
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (line,) = [line for line in proc.stdout.splitlines() if line.startswith("DIGEST ")]
    assert line.split()[1] == here
