"""Style as a distribution (nst_helpers.distributions, style_loss=...): the maths against NumPy,
normalisation, blends, masks, seeded directions, and stylize / CLI wiring.

Runs at 64 px with a handful of iterations; the maths tests need no weights.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import nst_helpers as nh
from nst_helpers import distributions as D
from nst_helpers import images
from nst_helpers.errors import OptionError
from nst_helpers.optimise import StyleObjective

SIZE = 64


def _w2_numpy(m1, c1, m2, c2):
    def sqrtm(a):
        v, q = np.linalg.eigh(a)
        return (q * np.sqrt(np.clip(v, 0, None))) @ q.T
    r = sqrtm(c2)
    return float(np.sum((m1 - m2) ** 2) + np.trace(c1) + np.trace(c2) - 2 * np.trace(sqrtm(r @ c1 @ r)))


def test_moments_are_mean_and_covariance(rng):
    x = rng.normal(size=(1, 5, 7, 4)).astype(np.float32) * [1, 2, 3, 4] + [0, 1, 2, 3]
    mean, cov = D.moments(tf.constant(x))
    flat = x.reshape(-1, 4).astype(np.float64)
    np.testing.assert_allclose(mean.numpy(), flat.mean(0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(cov.numpy(), np.cov(flat.T, bias=True), rtol=1e-4, atol=1e-4)


def test_masked_moments_are_those_of_the_region(rng):
    x = rng.normal(size=(1, 6, 6, 3)).astype(np.float32)
    mask = np.zeros((6, 6), np.float32)
    mask[:, :3] = 1
    mean, cov = D.moments(tf.constant(x), tf.constant(np.sqrt(mask)[None, ..., None]), mask.size / mask.sum())
    region = x[0, :, :3].reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(mean.numpy(), region.mean(0), atol=1e-5)
    np.testing.assert_allclose(cov.numpy(), np.cov(region.T, bias=True), atol=1e-4)


def test_bures_error_matches_the_closed_form_and_its_gradient_is_finite(rng):
    a = rng.normal(size=(200, 6)) @ rng.normal(size=(6, 6))
    b = rng.normal(size=(300, 6)) * 2 + 1
    m1, c1 = a.mean(0), np.cov(a.T, bias=True)
    m2, c2 = b.mean(0), np.cov(b.T, bias=True)
    target = D.gaussian_target(m2, c2)
    expected = _w2_numpy(m1, c1, m2, c2) / (m2 @ m2 + np.trace(c2))
    cov = tf.Variable(c1.astype(np.float32))
    with tf.GradientTape() as tape:
        value = D.bures_error((tf.constant(m1, tf.float32), cov), target)
    assert float(value) == pytest.approx(expected, rel=1e-3)
    grad = tape.gradient(value, cov).numpy()
    assert np.all(np.isfinite(grad)) and np.abs(grad).sum() > 0
    same = D.bures_error((tf.constant(m2, tf.float32), tf.constant(c2, tf.float32)), target)
    assert abs(float(same)) < 1e-3  # a Gaussian is at distance 0 from itself


def test_trace_sqrt_gradient_matches_finite_differences(rng):
    a = rng.normal(size=(5, 5))
    m = a @ a.T + np.eye(5)
    x = tf.Variable(m.astype(np.float64))
    with tf.GradientTape() as tape:
        value = D.trace_sqrt(x)
    grad = tape.gradient(value, x).numpy()
    h, e = 1e-6, np.zeros((5, 5))
    e[1, 2] = e[2, 1] = 1
    numeric = (float(D.trace_sqrt(tf.constant(m + h * e))) - float(D.trace_sqrt(tf.constant(m - h * e)))) / (2 * h)
    assert grad[1, 2] + grad[2, 1] == pytest.approx(numeric, rel=1e-3)


def test_ranks_and_quantiles():
    np.testing.assert_array_equal(D.ranks(np.array([[3.0, 1.0, 2.0], [0.0, 5.0, -1.0]])), [[2, 0, 1], [1, 2, 0]])
    values = np.arange(10, dtype=np.float64)[None]
    np.testing.assert_allclose(D.quantiles(values, 10), values)
    np.testing.assert_allclose(D.quantiles(values, 5), [[0.5, 2.5, 4.5, 6.5, 8.5]])


def test_sliced_error_is_zero_for_a_permutation_and_seeded(rng):
    features = rng.normal(size=(1, 4, 5, 8)).astype(np.float32)
    shuffled = rng.permutation(features.reshape(-1, 8)).reshape(1, 4, 5, 8)
    target = D.SlicedTarget([shuffled], positions=20, directions=16)
    target.redraw(np.random.default_rng(3))
    assert float(D.sliced_error(tf.constant(features), target)) < 1e-10  # same distribution
    first = target.directions.numpy().copy()
    target.redraw(np.random.default_rng(3))
    np.testing.assert_array_equal(first, target.directions.numpy())
    target.redraw(np.random.default_rng(4))
    assert not np.array_equal(first, target.directions.numpy())
    assert float(D.sliced_error(tf.constant(features * 2), target)) > 0.1


def test_sliced_gradient_moves_towards_the_target(rng):
    target_features = rng.normal(size=(1, 8, 8, 4)).astype(np.float32) * 3 + 1
    target = D.SlicedTarget([target_features], positions=64, directions=8)
    target.redraw(np.random.default_rng(0))
    x = tf.Variable(rng.normal(size=(1, 8, 8, 4)).astype(np.float32))
    before = float(D.sliced_error(x, target))
    for _ in range(50):
        with tf.GradientTape() as tape:
            loss = D.sliced_error(x, target)
        x.assign_sub(20.0 * tape.gradient(loss, x))
    assert float(D.sliced_error(x, target)) < 0.2 * before


@pytest.fixture(scope="module")
def pair():
    return images.load_sample("chelsea", SIZE), images.load_sample("hubble", SIZE), images.load_sample("ihc", SIZE)


@pytest.mark.parametrize("loss", nh.settings.STYLE_LOSSES)
def test_each_style_loss_starts_near_one_and_falls(needs_weights, pair, loss):
    content, style, _ = pair
    result = nh.stylize(content, style, size=SIZE, iterations=8, style_loss=loss, init="noise", progress=False)
    first, last = result.history[0]["style"], result.history[-1]["style"]
    assert 0.1 < first < 3.0, first
    assert last < 0.7 * first


@pytest.mark.parametrize("loss", ["gaussian", "sw"])
def test_blend_of_one_style_with_itself_is_that_style(needs_weights, pair, loss):
    content, style, _ = pair
    one = StyleObjective(content, [style], style_loss=loss, seed=1)
    two = StyleObjective(content, [style, style], style_weights=[1, 1], style_loss=loss, seed=1)
    image = tf.constant(content[None])
    # sw: the blend takes half its quantiles from each copy, the same distribution sampled twice as coarsely
    tolerance = 2e-3 if loss == "gaussian" else 0.1
    assert float(one.terms(image)["style"]) == pytest.approx(float(two.terms(image)["style"]), rel=tolerance)


def test_gaussian_blend_is_the_mixture(needs_weights, pair):
    content, style, style2 = pair
    blend = StyleObjective(content, [style, style2], style_weights=[1, 3], style_loss="gaussian")
    mean, cov, _, _ = blend.style_targets["block1_conv1"]
    f1 = blend.extractor(style[None])["block1_conv1"].numpy().reshape(-1, 64).astype(np.float64)
    f2 = blend.extractor(style2[None])["block1_conv1"].numpy().reshape(-1, 64).astype(np.float64)
    m = 0.25 * f1.mean(0) + 0.75 * f2.mean(0)
    second = 0.25 * f1.T @ f1 / len(f1) + 0.75 * f2.T @ f2 / len(f2)
    np.testing.assert_allclose(mean.numpy(), m, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(cov.numpy(), second - np.outer(m, m), rtol=1e-3, atol=1e-1)


def test_gaussian_works_with_masks_and_sw_refuses_them_clearly(needs_weights, pair):
    content, style, style2 = pair
    mask = np.zeros(content.shape[:2], np.float32)
    mask[:, : content.shape[1] // 2] = 1
    result = nh.stylize(content, [style, style2], size=SIZE, iterations=3, style_loss="gaussian",
                        style_masks=[mask, None], progress=False)
    assert np.all(np.isfinite(result.image)) and result.history[-1]["style"] < result.history[0]["style"]
    with pytest.raises(OptionError, match="sw.*style_masks|style_masks.*sw"):
        nh.stylize(content, [style, style2], size=SIZE, iterations=1, style_loss="sw", style_masks=[mask, None],
                   progress=False)


def test_sw_runs_are_identical_with_the_same_seed_and_differ_with_another(needs_weights, pair):
    content, style, _ = pair
    run = lambda seed: nh.stylize(content, style, size=SIZE, iterations=30, style_loss="sw", seed=seed,  # noqa: E731
                                  sw_directions=8, progress=False).image
    a, b, c = run(0), run(0), run(1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_sw_redraws_its_directions_every_round(needs_weights, pair, monkeypatch):
    content, style, _ = pair
    drawn = []
    original = D.SlicedTarget.redraw
    monkeypatch.setattr(D.SlicedTarget, "redraw", lambda self, rng: (drawn.append(1), original(self, rng)))
    monkeypatch.setattr(nh.optimise, "SW_REDRAW_EVERY", 4)
    result = nh.stylize(content, style, size=SIZE, iterations=10, style_loss="sw", progress=False)
    layers = len(result.settings.style_layers)
    assert len(drawn) == 3 * layers  # rounds of 4, 4 and 2 iterations
    assert result.iterations == 10


def test_bad_style_loss_options_are_clear():
    with pytest.raises(OptionError, match="style_loss must be one of"):
        nh.StyleSettings(style_loss="wasserstein")
    with pytest.raises(OptionError, match="sw_directions"):
        nh.StyleSettings(sw_directions=0)


def test_cli_has_the_style_loss_flag():
    from nst_helpers import cli

    args = cli.build_parser().parse_args(["stylize", "--style-loss", "sw", "--sw-directions", "16"])
    assert cli.settings_options(args) == {"style_loss": "sw", "sw_directions": 16}
