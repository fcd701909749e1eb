"""nst_helpers.losses against plain NumPy (float64) references."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from nst_helpers.losses import (
    content_loss, gram_matrix, layer_style_loss, relative_error, style_loss, total_variation_loss,
)

RTOL = 1e-5  # float32 TensorFlow vs float64 NumPy
ATOL = 1e-6


def np_gram(features: np.ndarray) -> np.ndarray:
    """Reference Gram matrix: ``F^T F / (h*w)`` per batch item, F reshaped to (h*w, c)."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim == 3:
        flat = features.reshape(-1, features.shape[-1])
        return flat.T @ flat / flat.shape[0]
    flat = features.reshape(features.shape[0], -1, features.shape[-1])
    return np.einsum("bpc,bpd->bcd", flat, flat) / flat.shape[1]


def np_tv(image: np.ndarray) -> float:
    image = np.asarray(image, dtype=np.float64)
    dy = np.diff(image, axis=-3)
    dx = np.diff(image, axis=-2)
    return float(np.mean(dy**2) + np.mean(dx**2))


def features(rng, *shape):
    return rng.normal(0.0, 1.0, shape).astype(np.float32)


# --------------------------------------------------------------------------- gram_matrix
def test_gram_matrix_hand_checked_tiny_example():
    # One row of two positions with two channels: F = [[1, 2], [3, 4]] (positions x channels).
    f = np.array([[[1.0, 2.0], [3.0, 4.0]]], dtype=np.float32)  # (h=1, w=2, c=2)
    # F^T F = [[1+9, 2+12], [2+12, 4+16]] = [[10, 14], [14, 20]]; divided by M = 2 positions.
    expected = np.array([[5.0, 7.0], [7.0, 10.0]])
    np.testing.assert_allclose(gram_matrix(f).numpy(), expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(gram_matrix(f[None]).numpy(), expected[None], rtol=0, atol=1e-6)


@pytest.mark.parametrize("shape", [(5, 7, 3), (1, 1, 4), (8, 6, 16)])
def test_gram_matrix_unbatched_matches_numpy(rng, shape):
    f = features(rng, *shape)
    gram = gram_matrix(f)
    assert gram.shape == (shape[-1], shape[-1])
    np.testing.assert_allclose(gram.numpy(), np_gram(f), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("shape", [(1, 5, 7, 3), (1, 9, 4, 8), (3, 4, 6, 5)])
def test_gram_matrix_batched_matches_numpy(rng, shape):
    f = features(rng, *shape)
    gram = gram_matrix(tf.constant(f))
    assert gram.shape == (shape[0], shape[-1], shape[-1])
    np.testing.assert_allclose(gram.numpy(), np_gram(f), rtol=RTOL, atol=ATOL)
    # Batch items are independent of each other.
    for b in range(shape[0]):
        np.testing.assert_allclose(gram.numpy()[b], np_gram(f[b]), rtol=RTOL, atol=ATOL)


def test_gram_matrix_is_symmetric_psd_and_size_independent(rng):
    f = np.abs(features(rng, 6, 5, 4))
    gram = gram_matrix(f).numpy().astype(np.float64)
    np.testing.assert_allclose(gram, gram.T, rtol=0, atol=1e-6)
    assert np.linalg.eigvalsh(gram).min() > -1e-5
    # Averaging over positions: tiling the feature map leaves the Gram matrix unchanged.
    tiled = np.tile(f, (2, 3, 1))
    np.testing.assert_allclose(gram_matrix(tiled).numpy(), gram, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- content / style
def test_content_loss_matches_numpy(rng):
    a, b = features(rng, 1, 6, 5, 8), features(rng, 1, 6, 5, 8)
    expected = np.mean((a.astype(np.float64) - b) ** 2)
    assert float(content_loss(a, b)) == pytest.approx(expected, rel=RTOL)
    assert float(content_loss(a, a)) == 0.0


@pytest.mark.parametrize("batched_target", [False, True])
def test_layer_style_loss_matches_numpy(rng, batched_target):
    f = features(rng, 1, 7, 6, 5)
    target = np_gram(features(rng, 1, 4, 4, 5))  # (1, c, c)
    target_arg = target if batched_target else target[0]
    expected = np.mean((np_gram(f) - target) ** 2)
    value = layer_style_loss(f, tf.constant(target_arg, dtype=tf.float32))
    assert float(value) == pytest.approx(expected, rel=1e-4)
    # Zero exactly when the Gram matrices agree.
    assert float(layer_style_loss(f, gram_matrix(f))) == pytest.approx(0.0, abs=1e-10)


def test_style_loss_weighted_sum_over_target_layers(rng):
    names = ["a", "b", "c"]
    feats = {n: features(rng, 1, 5, 4, 3 + i) for i, n in enumerate(names)}
    feats["unused"] = features(rng, 1, 2, 2, 2)  # not in the targets: must be ignored
    targets = {n: np_gram(features(rng, 1, 3, 3, 3 + i)).astype(np.float32) for i, n in enumerate(names)}
    per_layer = {n: np.mean((np_gram(feats[n]) - targets[n]) ** 2) for n in names}

    weights = {"a": 0.5, "b": 2.0, "c": 0.0}
    expected = sum(weights[n] * per_layer[n] for n in names)
    assert float(style_loss(feats, targets, weights)) == pytest.approx(expected, rel=1e-4)

    # Default: equal weights summing to one, i.e. the mean of the layer losses.
    assert float(style_loss(feats, targets)) == pytest.approx(np.mean(list(per_layer.values())), rel=1e-4)

    # The weights really matter: only layer "b" counts here.
    only_b = float(style_loss(feats, targets, {"a": 0.0, "b": 1.0, "c": 0.0}))
    assert only_b == pytest.approx(per_layer["b"], rel=1e-4)


# --------------------------------------------------------------------------- total variation
@pytest.mark.parametrize("shape", [(6, 9, 3), (1, 6, 9, 3), (2, 5, 4, 3)])
def test_total_variation_loss_matches_numpy(rng, shape):
    image = rng.uniform(0, 1, shape).astype(np.float32)
    assert float(total_variation_loss(image)) == pytest.approx(np_tv(image), rel=RTOL)


def test_total_variation_loss_hand_checked():
    assert float(total_variation_loss(np.full((5, 4, 3), 0.3, np.float32))) == pytest.approx(0.0, abs=1e-12)
    # 0/1 checkerboard: every neighbour differs by exactly 1 -> mean 1 vertically + 1 horizontally.
    checker = (np.indices((4, 6)).sum(axis=0) % 2).astype(np.float32)
    image = np.repeat(checker[..., None], 3, axis=-1)
    assert float(total_variation_loss(image[None])) == pytest.approx(2.0, abs=1e-6)
    # Horizontal stripes: only vertical neighbours differ.
    stripes = np.repeat((np.arange(4) % 2).astype(np.float32)[:, None, None], 6, axis=1).repeat(3, axis=2)
    assert float(total_variation_loss(stripes)) == pytest.approx(1.0, abs=1e-6)


def test_total_variation_loss_does_not_grow_with_image_size():
    ramp_small = np.tile(np.linspace(0, 1, 8, dtype=np.float32)[None, :, None], (8, 1, 3))
    ramp_big = np.tile(ramp_small, (4, 1, 1))  # taller, same horizontal gradient
    assert float(total_variation_loss(ramp_big)) == pytest.approx(float(total_variation_loss(ramp_small)),
                                                                  rel=1e-5)


# --------------------------------------------------------------------------- relative_error
def test_relative_error_matches_numpy(rng):
    value, target = features(rng, 3, 4, 5), features(rng, 3, 4, 5)
    expected = np.sum((value.astype(np.float64) - target) ** 2) / np.sum(target.astype(np.float64) ** 2)
    assert float(relative_error(value, target)) == pytest.approx(expected, rel=RTOL)
    assert float(relative_error(target, target)) == 0.0
    assert float(relative_error(np.zeros_like(target), target)) == pytest.approx(1.0, rel=1e-6)
    # Scale invariant: scaling both arguments leaves it unchanged.
    assert float(relative_error(7.0 * value, 7.0 * target)) == pytest.approx(expected, rel=1e-5)
