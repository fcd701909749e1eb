"""Tests of ``nst_helpers.NST``: the exercise-compatible class (names, messages, check order, shapes).

The class always works at 512 px, so the inputs are small (64x48 and 48x64 uint8
images, upsampled to 512 by ``scale_image``) and the class is built once per module.
Runs of ``generate_image`` are 1-2 iterations.
"""

from __future__ import annotations

import math
import os
import re

os.environ.setdefault("NST_OFFLINE", "1")  # never probe the network

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

import nst_helpers as nh  # noqa: E402
from nst_helpers import NST  # noqa: E402

STYLE_LAYERS = ['block1_conv1', 'block2_conv1', 'block3_conv1', 'block4_conv1', 'block5_conv1']
CHANNELS = [64, 128, 256, 512, 512]
LINE = re.compile(r"^Cost at iteration (\d+): (\S+), content (\S+), style (\S+), var (\S+)$")


def uint8_image(height, width, seed):
    """A deterministic uint8 ``(height, width, 3)`` image: colour ramps plus seeded noise."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, height)[:, None, None]
    x = np.linspace(0, 1, width)[None, :, None]
    ramps = 0.5 + 0.4 * np.sin(2 * np.pi * (x * [2, 3, 5] + y * [4, 1, 2]) + rng.uniform(0, 6, 3))
    image = ramps + rng.normal(0, 0.08, (height, width, 3))
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8)


STYLE = uint8_image(64, 48, seed=1)  # portrait -> scaled to (512, 384)
CONTENT = uint8_image(48, 64, seed=2)  # landscape -> scaled to (384, 512)


@pytest.fixture(scope="module")
def nst():
    return NST(STYLE, CONTENT)


@pytest.fixture(scope="module")
def style_outputs(nst):
    """Model outputs for the scaled style image (computed once: each pass is at 512 px)."""
    return nst.model(nh.preprocess(nst.style_image))


@pytest.fixture(scope="module")
def content_outputs(nst):
    return nst.model(nh.preprocess(nst.content_image))


# ------------------------------------------------------------------------------ class attributes
def test_class_attributes_and_export():
    assert NST.style_layers == STYLE_LAYERS
    assert NST.content_layer == 'block5_conv2'
    assert nh.NST is NST


def test_instance_attributes(nst):
    assert nst.style_image.shape == (1, 512, 384, 3)
    assert nst.content_image.shape == (1, 384, 512, 3)
    assert (nst.alpha, nst.beta, nst.var) == (1e4, 1, 10)
    assert isinstance(nst.model, tf.keras.Model)
    assert isinstance(nst.gram_style_features, list)
    assert [tuple(g.shape) for g in nst.gram_style_features] == [(1, c, c) for c in CHANNELS]
    assert tuple(nst.content_feature.shape) == (1, 24, 32, 512)  # 384x512 / 16 (four pools)


def test_inputs_are_not_modified():
    style, content = STYLE.copy(), CONTENT.copy()
    NST.scale_image(style)
    assert np.array_equal(style, STYLE) and np.array_equal(content, CONTENT)


# ------------------------------------------------------------------------------ __init__ messages
NOT_IMAGES = [[[[0, 0, 0]]], np.zeros((4, 5)), np.zeros((4, 5, 4)), np.zeros((1, 4, 5, 3)),
              tf.zeros((4, 5, 3)), None]


@pytest.mark.parametrize("bad", NOT_IMAGES, ids=["list", "2d", "rgba", "batched", "tensor", "none"])
@pytest.mark.parametrize("which", ["style_image", "content_image"])
def test_init_rejects_images(which, bad):
    kwargs = dict(style_image=STYLE, content_image=CONTENT)
    kwargs[which] = bad
    with pytest.raises(TypeError) as info:
        NST(**kwargs)
    assert str(info.value) == f"{which} must be a numpy.ndarray with shape (h, w, 3)"
    assert isinstance(info.value, nh.NSTError)


def test_init_checks_style_before_content():
    with pytest.raises(TypeError, match="^style_image must"):
        NST(None, None)


@pytest.mark.parametrize("bad", [-1, -0.5, "1", None, True, False, np.True_, math.nan, math.inf, [1]])
@pytest.mark.parametrize("which", ["alpha", "beta", "var"])
def test_init_rejects_weights(which, bad):
    with pytest.raises(TypeError) as info:
        NST(STYLE, CONTENT, **{which: bad})
    assert str(info.value) == f"{which} must be a non-negative number"


def test_init_checks_alpha_beta_var_in_order():
    with pytest.raises(TypeError, match="^alpha"):
        NST(STYLE, CONTENT, alpha=-1, beta=-1, var=-1)
    with pytest.raises(TypeError, match="^beta"):
        NST(STYLE, CONTENT, beta=-1, var=-1)


# ------------------------------------------------------------------------------ scale_image
@pytest.mark.parametrize("bad", NOT_IMAGES, ids=["list", "2d", "rgba", "batched", "tensor", "none"])
def test_scale_image_message(bad):
    with pytest.raises(TypeError) as info:
        NST.scale_image(bad)
    assert str(info.value) == "image must be a numpy.ndarray with shape (h, w, 3)"


@pytest.mark.parametrize("shape, expected", [((48, 64, 3), (1, 384, 512, 3)), ((64, 48, 3), (1, 512, 384, 3)),
                                             ((300, 451, 3), (1, 341, 512, 3)),
                                             ((700, 700, 3), (1, 512, 512, 3)),
                                             ((1024, 600, 3), (1, 512, 300, 3))])
def test_scale_image_shape_and_range(shape, expected):
    image = np.random.default_rng(0).integers(0, 256, shape).astype(np.uint8)
    scaled = NST.scale_image(image)
    assert isinstance(scaled, tf.Tensor)
    assert tuple(scaled.shape) == expected and scaled.dtype == tf.float32
    assert float(tf.reduce_min(scaled)) >= 0.0 and float(tf.reduce_max(scaled)) <= 1.0


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64, np.int64])
def test_scale_image_rescales_0_255_to_0_1(dtype):
    image = np.full((30, 40, 3), [0, 51, 255], dtype=dtype)
    scaled = NST.scale_image(image).numpy()
    np.testing.assert_allclose(scaled[0, 0, 0], [0.0, 0.2, 1.0], atol=1e-6)


# ------------------------------------------------------------------------------ load_model
def test_model_outputs(nst, content_outputs):
    assert nst.model.inputs[0].shape[1:] == (None, None, 3)
    assert len(nst.model.outputs) == 6
    assert [o.shape[-1] for o in nst.model.outputs] == CHANNELS + [512]
    names = [layer.name for layer in nst.model.layers]
    assert names[-1] == 'block5_conv2' and 'block5_conv3' not in names
    assert all(isinstance(nst.model.get_layer(f"block{b}_pool"), tf.keras.layers.AveragePooling2D)
               for b in range(1, 5))
    assert isinstance(content_outputs, list) and len(content_outputs) == 6
    assert [tuple(o.shape) for o in content_outputs] == [(1, 384, 512, 64), (1, 192, 256, 128),
                                                         (1, 96, 128, 256),
                                                         (1, 48, 64, 512), (1, 24, 32, 512), (1, 24, 32, 512)]


def test_model_summary(nst, capsys):
    nst.model.summary(line_length=100)
    text = capsys.readouterr().out
    assert "block5_conv2" in text and "block5_conv3" not in text
    assert "Total params: 15,304,768" in text
    assert "Trainable params: 0 " in text
    assert nst.model.count_params() == 15_304_768 and not nst.model.trainable_weights


def test_model_matches_keras_preprocess_contract(nst):
    """The model input is caffe-preprocessed, as ``vgg19.preprocess_input(image * 255)``."""
    expected = tf.keras.applications.vgg19.preprocess_input(nst.content_image.numpy() * 255)
    np.testing.assert_allclose(nh.preprocess(nst.content_image).numpy(), expected, atol=1e-4)


# ------------------------------------------------------------------------------ gram_matrix
@pytest.mark.parametrize("bad",
                         [np.zeros((1, 4, 4, 3), np.float32), tf.zeros((4, 4, 3)), tf.zeros((1, 2, 4, 4, 3)),
                                 None, [[1.0]]], ids=["ndarray", "rank3", "rank5", "none", "list"])
def test_gram_matrix_message(bad):
    with pytest.raises(TypeError) as info:
        NST.gram_matrix(bad)
    assert str(info.value) == "input_layer must be a tensor of rank 4"


@pytest.mark.parametrize("kind", [tf.constant, tf.Variable])
def test_gram_matrix_shape_and_normalisation(kind):
    features = np.random.default_rng(0).normal(size=(1, 5, 7, 3)).astype(np.float32)
    gram = NST.gram_matrix(kind(features))
    assert tuple(gram.shape) == (1, 3, 3)
    flat = features.reshape(35, 3)
    np.testing.assert_allclose(gram.numpy()[0], flat.T @ flat / 35, rtol=1e-5)
    np.testing.assert_array_equal(gram.numpy(), nh.gram_matrix(features).numpy())


def test_gram_style_features_are_grams_of_the_style_image(nst, style_outputs, content_outputs):
    for gram, output in zip(nst.gram_style_features, style_outputs[:-1]):
        np.testing.assert_allclose(gram.numpy(), nh.gram_matrix(output).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(nst.content_feature.numpy(), content_outputs[-1].numpy())


# ------------------------------------------------------------------------------ layer_style_cost
@pytest.mark.parametrize("bad", [np.zeros((1, 4, 4, 64), np.float32), tf.zeros((4, 4, 64)), None])
def test_layer_style_cost_style_output_message(nst, bad):
    with pytest.raises(TypeError) as info:
        nst.layer_style_cost(bad, nst.gram_style_features[0])
    assert str(info.value) == "style_output must be a tensor of rank 4"


@pytest.mark.parametrize("bad", [tf.zeros((1, 64, 32)), tf.zeros((64, 64)), tf.zeros((2, 64, 64)),
                                 np.zeros((1, 64, 64), np.float32), None])
def test_layer_style_cost_gram_target_message(nst, bad):
    with pytest.raises(TypeError) as info:
        nst.layer_style_cost(tf.zeros((1, 8, 8, 64)), bad)
    assert str(info.value) == "gram_target must be a tensor of shape [1, 64, 64]"


def test_layer_style_cost_checks_style_output_first(nst):
    with pytest.raises(TypeError, match="^style_output"):
        nst.layer_style_cost(None, None)


def test_layer_style_cost_value(nst):
    features = tf.random.stateless_normal((1, 6, 5, 64), seed=(1, 2))
    target = tf.Variable(tf.random.stateless_normal((1, 64, 64), seed=(3, 4)))
    cost = nst.layer_style_cost(features, target)
    assert cost.shape == ()
    expected = np.mean((nh.gram_matrix(features).numpy() - target.numpy()) ** 2)
    np.testing.assert_allclose(float(cost), expected, rtol=1e-5)
    assert float(nst.layer_style_cost(features, nh.gram_matrix(features))) == 0.0


# ------------------------------------------------------------------------------ style_cost
@pytest.mark.parametrize("bad", [None, (), [], [tf.zeros((1, 2, 2, 64))] * 4, [tf.zeros((1, 2, 2, 64))] * 6,
                                 "abcde"])
def test_style_cost_message(nst, bad):
    with pytest.raises(TypeError) as info:
        nst.style_cost(bad)
    assert str(info.value) == "style_outputs must be a list with a length of 5"


def test_style_cost_rejects_a_tuple_of_the_right_length(nst, style_outputs):
    with pytest.raises(TypeError, match="^style_outputs must be a list with a length of 5$"):
        nst.style_cost(tuple(style_outputs[:-1]))


def test_style_cost_is_the_even_average_of_layer_costs(nst, style_outputs, content_outputs):
    outputs = content_outputs[:-1]
    cost = nst.style_cost(outputs)
    assert cost.shape == ()
    layers = [float(nst.layer_style_cost(o, g)) for o, g in zip(outputs, nst.gram_style_features)]
    np.testing.assert_allclose(float(cost), sum(layers) / 5, rtol=1e-6)
    packaged = nh.style_loss(dict(zip(STYLE_LAYERS, outputs)),
                             dict(zip(STYLE_LAYERS, nst.gram_style_features)))
    np.testing.assert_allclose(float(cost), float(packaged), rtol=1e-6)
    assert float(nst.style_cost(style_outputs[:-1])) == 0.0


# ------------------------------------------------------------------------------ content_cost
@pytest.mark.parametrize("bad", ["numpy", "shape", None])
def test_content_cost_message(nst, bad):
    value = {"numpy": nst.content_feature.numpy(), "shape": tf.zeros((1, 24, 31, 512)), None: None}[bad]
    with pytest.raises(TypeError) as info:
        nst.content_cost(value)
    assert str(info.value) == "content_output must be a tensor of shape (1, 24, 32, 512)"


def test_content_cost_value(nst):
    assert float(nst.content_cost(nst.content_feature)) == 0.0
    other = tf.Variable(nst.content_feature + 2.0)
    cost = nst.content_cost(other)
    assert cost.shape == ()
    np.testing.assert_allclose(float(cost), 4.0, rtol=1e-6)


# ------------------------------------------------------------------------------ variational_cost
def test_variational_cost():
    flat = tf.fill((1, 10, 12, 3), 0.5)
    assert float(NST.variational_cost(flat)) == 0.0
    stripes = np.zeros((1, 10, 12, 3), np.float32)
    stripes[:, :, ::2] = 1.0  # 11 jumps of 1 per row, 10 rows, 3 channels
    cost = NST.variational_cost(tf.constant(stripes))
    assert cost.shape == ()
    np.testing.assert_allclose(float(cost), 11 * 10 * 3)
    np.testing.assert_allclose(float(cost), float(tf.image.total_variation(tf.constant(stripes[0]))))
    assert float(NST.variational_cost(stripes)) == float(cost)  # a NumPy array works too


# ------------------------------------------------------------------------------ total_cost, compute_grads
@pytest.mark.parametrize("method", ["total_cost", "compute_grads"])
@pytest.mark.parametrize("bad", ["numpy", "no_batch", "other_size", "none"])
def test_generated_image_message(nst, method, bad):
    image = nst.content_image
    value = {"numpy": image.numpy(), "no_batch": image[0], "other_size": tf.zeros((1, 384, 511, 3)),
             "none": None}[bad]
    with pytest.raises(TypeError) as info:
        getattr(nst, method)(value)
    assert str(info.value) == "generated_image must be a tensor of shape (1, 384, 512, 3)"


def test_content_cost_is_zero_for_the_content_image(nst):
    J, J_content, J_style, J_var = nst.total_cost(nst.content_image)
    assert float(J_content) == 0.0
    assert float(J_style) > 0 and float(J_var) > 0


def test_total_cost_formula(nst):
    noise = tf.random.stateless_uniform(nst.content_image.shape, seed=(0, 1), minval=-0.1, maxval=0.1)
    image = tf.Variable(tf.clip_by_value(nst.content_image + noise, 0.0, 1.0))
    costs = nst.total_cost(image)
    assert len(costs) == 4 and all(c.shape == () for c in costs)
    J, J_content, J_style, J_var = (float(c) for c in costs)
    assert J_content > 0 and J_style > 0 and J_var > 0
    np.testing.assert_allclose(J, 1e4 * J_content + 1 * J_style + 10 * J_var, rtol=1e-6)
    outputs = nst.model(nh.preprocess(image))
    np.testing.assert_allclose(J_content, float(nh.content_loss(outputs[-1], nst.content_feature)), rtol=1e-6)
    np.testing.assert_allclose(J_var, float(tf.image.total_variation(image[0])), rtol=1e-6)


def test_total_cost_uses_the_weights(nst, monkeypatch):
    for name, value in dict(alpha=2, beta=0.5, var=0).items():
        monkeypatch.setattr(nst, name, value)
    image = tf.clip_by_value(nst.content_image + 0.05, 0.0, 1.0)
    J, J_content, J_style, J_var = (float(c) for c in nst.total_cost(image))
    assert J_var > 0
    np.testing.assert_allclose(J, 2 * J_content + 0.5 * J_style, rtol=1e-6)


def test_compute_grads(nst):
    image = tf.Variable(nst.content_image)
    result = nst.compute_grads(image)
    assert len(result) == 5
    grads, J_total, J_content, J_style, J_var = result
    assert tuple(grads.shape) == (1, 384, 512, 3)
    assert float(tf.reduce_max(tf.abs(grads))) > 0
    expected = nst.total_cost(image)
    for got, want in zip((J_total, J_content, J_style, J_var), expected):
        assert got.shape == () and float(got) == pytest.approx(float(want), rel=1e-6)


# ------------------------------------------------------------------------------ generate_image checks
GENERATE_ERRORS = [
    (dict(iterations=2.0), TypeError, "iterations must be an integer"),
    (dict(iterations="2"), TypeError, "iterations must be an integer"),
    (dict(iterations=True), TypeError, "iterations must be an integer"),
    (dict(iterations=None), TypeError, "iterations must be an integer"),
    (dict(iterations=0), ValueError, "iterations must be positive"),
    (dict(iterations=-3), ValueError, "iterations must be positive"),
    (dict(step=1.0), TypeError, "step must be an integer"),
    (dict(step="1"), TypeError, "step must be an integer"),
    (dict(step=True), TypeError, "step must be an integer"),
    (dict(step=0), ValueError, "step must be positive and less than iterations"),
    (dict(step=-1), ValueError, "step must be positive and less than iterations"),
    (dict(step=5), ValueError, "step must be positive and less than iterations"),
    (dict(step=6), ValueError, "step must be positive and less than iterations"),
    (dict(lr="0.01"), TypeError, "lr must be a number"),
    (dict(lr=None), TypeError, "lr must be a number"),
    (dict(lr=True), TypeError, "lr must be a number"),
    (dict(lr=0), ValueError, "lr must be positive"),
    (dict(lr=-0.01), ValueError, "lr must be positive"),
    (dict(lr=math.nan), ValueError, "lr must be positive"),
    (dict(beta1=1), TypeError, "beta1 must be a float"),
    (dict(beta1="0.9"), TypeError, "beta1 must be a float"),
    (dict(beta1=True), TypeError, "beta1 must be a float"),
    (dict(beta1=None), TypeError, "beta1 must be a float"),
    (dict(beta1=-0.1), ValueError, "beta1 must be in the range [0, 1]"),
    (dict(beta1=1.5), ValueError, "beta1 must be in the range [0, 1]"),
    (dict(beta1=math.nan), ValueError, "beta1 must be in the range [0, 1]"),
    (dict(beta2=0), TypeError, "beta2 must be a float"),
    (dict(beta2="0.99"), TypeError, "beta2 must be a float"),
    (dict(beta2=False), TypeError, "beta2 must be a float"),
    (dict(beta2=-0.5), ValueError, "beta2 must be in the range [0, 1]"),
    (dict(beta2=1.01), ValueError, "beta2 must be in the range [0, 1]"),
]


@pytest.mark.parametrize("kwargs, error, message", GENERATE_ERRORS,
                         ids=[f"{k}={v!r}" for kw, _, _ in GENERATE_ERRORS for k, v in kw.items()])
def test_generate_image_messages(nst, kwargs, error, message):
    arguments = dict(iterations=5, step=None, lr=0.01, beta1=0.9, beta2=0.99)
    arguments.update(kwargs)
    with pytest.raises(error) as info:
        nst.generate_image(**arguments)
    assert str(info.value) == message
    assert isinstance(info.value, nh.NSTError)


# Each call breaks every later check too: the first one listed in the issue must win.
ORDER = [
    (dict(iterations="x", step="x", lr="x", beta1="x", beta2="x"), "iterations must be an integer"),
    (dict(iterations=0, step="x", lr="x", beta1="x", beta2="x"), "iterations must be positive"),
    (dict(iterations=5, step="x", lr=0, beta1="x", beta2="x"), "step must be an integer"),
    (dict(iterations=5, step=9, lr="x", beta1="x", beta2="x"),
     "step must be positive and less than iterations"),
    (dict(iterations=5, step=1, lr="x", beta1=2.0, beta2="x"), "lr must be a number"),
    (dict(iterations=5, step=1, lr=-1, beta1="x", beta2="x"), "lr must be positive"),
    (dict(iterations=5, step=1, lr=0.1, beta1=1, beta2="x"), "beta1 must be a float"),
    (dict(iterations=5, step=1, lr=0.1, beta1=2.0, beta2="x"), "beta1 must be in the range [0, 1]"),
    (dict(iterations=5, step=1, lr=0.1, beta1=0.9, beta2=1), "beta2 must be a float"),
    (dict(iterations=5, step=1, lr=0.1, beta1=0.9, beta2=-1.0), "beta2 must be in the range [0, 1]"),
]


@pytest.mark.parametrize("kwargs, message", ORDER, ids=[m for _, m in ORDER])
def test_generate_image_check_order(nst, kwargs, message):
    with pytest.raises((TypeError, ValueError)) as info:
        nst.generate_image(**kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize("kwargs", [dict(iterations=np.int64(3), step=np.int32(1), lr=np.float32(0.1),
                                         beta1=np.float64(0.9), beta2=np.float32(0.999)),
                                    dict(iterations=2, step=None, lr=1, beta1=0.0, beta2=1.0)])
def test_generate_image_accepts_numpy_numbers_and_limits(nst, kwargs, monkeypatch):
    """Valid arguments pass every check (the run itself is stubbed out here)."""

    class Reached(Exception):
        pass

    def stop(*args, **kwargs):
        raise Reached

    monkeypatch.setattr(tf, "Variable", stop)
    with pytest.raises(Reached):
        nst.generate_image(**kwargs)


# ------------------------------------------------------------------------------ generate_image runs
def test_generate_image_prints_and_returns_the_best(nst, capsys):
    before = nst.content_image.numpy().copy()
    image, cost = nst.generate_image(iterations=2, step=1, lr=0.01)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [int(m.group(1)) for m in parsed] == [0, 1, 2]
    assert parsed[0].group(3) == "0.0"  # iteration 0 is the content image: content cost 0
    totals = [float(m.group(2)) for m in parsed]
    for m in parsed:  # each printed J is alpha * content + beta * style + var * var
        J, Jc, Js, Jv = (float(m.group(k)) for k in range(2, 6))
        assert J == pytest.approx(1e4 * Jc + Js + 10 * Jv, rel=1e-6)
    assert totals[2] < totals[0]
    assert isinstance(cost, float) and cost == pytest.approx(min(totals), rel=1e-7)
    assert isinstance(image, np.ndarray) and image.shape == (384, 512, 3) and image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() <= 1.0
    assert float(nst.total_cost(tf.constant(image[None]))[0]) == pytest.approx(cost, rel=1e-5)
    np.testing.assert_array_equal(nst.content_image.numpy(), before)  # the input is not overwritten


def test_generate_image_uses_current_weights_and_step_none_prints_nothing(nst, capsys, monkeypatch):
    """Weights changed after an earlier run take effect (nothing stale is compiled in)."""
    for name, value in dict(alpha=0, beta=0, var=1).items():  # J is the variation alone
        monkeypatch.setattr(nst, name, value)
    start = float(NST.variational_cost(nst.content_image))
    image, cost = nst.generate_image(iterations=1, lr=1e-4)  # a step smaller than most pixel differences
    assert capsys.readouterr().out == ""
    assert image.shape == (384, 512, 3)
    assert cost < start  # one small step against the variation gradient smooths the image
    assert cost == pytest.approx(float(NST.variational_cost(image[None])), rel=1e-5)


def test_generate_image_interrupted_returns_the_best_so_far(nst, monkeypatch):
    """Ctrl-C during a run still returns the best image so far (here the content image) and its cost."""
    import nst_helpers.nst as nst_module

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(nst_module.tf, "clip_by_value", interrupt)  # called right after the first Adam step
    with pytest.warns(RuntimeWarning, match="interrupted at iteration 0"):
        image, cost = nst.generate_image(iterations=3)
    monkeypatch.undo()
    np.testing.assert_array_equal(image, nst.content_image[0].numpy())
    assert cost == pytest.approx(float(nst.total_cost(nst.content_image)[0]), rel=1e-6)
