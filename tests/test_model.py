"""nst_helpers.model: layer names, the VGG19 builder and the feature extractor."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from nst_helpers import images, model
from nst_helpers.errors import LayerError
from nst_helpers.model import (
    CONTENT_LAYERS, STYLE_LAYERS, VGG19_LAYERS, Preprocess, build_extractor, build_vgg19, check_layers,
)
from nst_helpers.weights import VGG19_CONV_SHAPES

EXPECTED_LAYERS = [
    "block1_conv1", "block1_conv2", "block1_pool",
    "block2_conv1", "block2_conv2", "block2_pool",
    "block3_conv1", "block3_conv2", "block3_conv3", "block3_conv4", "block3_pool",
    "block4_conv1", "block4_conv2", "block4_conv3", "block4_conv4", "block4_pool",
    "block5_conv1", "block5_conv2", "block5_conv3", "block5_conv4", "block5_pool",
]


def test_layer_list_matches_keras_vgg19():
    assert VGG19_LAYERS == EXPECTED_LAYERS
    assert set(CONTENT_LAYERS) <= set(VGG19_LAYERS) and set(STYLE_LAYERS) <= set(VGG19_LAYERS)
    assert list(VGG19_CONV_SHAPES) == [n for n in EXPECTED_LAYERS if "conv" in n]


def test_check_layers_accepts_names_and_lists():
    assert check_layers("block4_conv2") == ["block4_conv2"]
    assert check_layers(("block1_conv1", "block5_pool")) == ["block1_conv1", "block5_pool"]


def test_check_layers_error_lists_valid_names():
    with pytest.raises(LayerError) as info:
        check_layers(["block1_conv1", "block6_conv1", "conv1"])
    message = str(info.value)
    assert "block6_conv1" in message and "conv1" in message
    assert all(name in message for name in VGG19_LAYERS)
    assert isinstance(info.value, ValueError)
    with pytest.raises(LayerError, match="no layers requested"):
        check_layers([])


@pytest.mark.parametrize("pooling, layer_type", [("max", keras.layers.MaxPooling2D),
                                                 ("avg", keras.layers.AveragePooling2D)])
def test_build_vgg19_pooling_layer_types(needs_weights, pooling, layer_type):
    vgg = build_vgg19(pooling, "block3_conv1")
    pools = [layer for layer in vgg.layers if layer.name.endswith("_pool")]
    assert [p.name for p in pools] == ["block1_pool", "block2_pool"]
    assert all(type(p) is layer_type for p in pools)


def test_build_vgg19_rejects_bad_pooling_and_layer(needs_weights):
    with pytest.raises(LayerError, match="pooling"):
        build_vgg19("min", "block1_conv1")
    with pytest.raises(LayerError, match="valid names"):
        build_vgg19("max", "block9_conv9")


def test_build_vgg19_stops_at_last_layer_and_loads_weights(needs_weights):
    vgg = build_vgg19("max", "block2_conv2")
    names = [layer.name for layer in vgg.layers]
    assert names == ["input_layer", "block1_conv1", "block1_conv2", "block1_pool", "block2_conv1",
                     "block2_conv2"]
    assert vgg.output.shape[-1] == 128
    weights, _ = model._cached_weights()
    for name in ("block1_conv1", "block2_conv2"):
        kernel, bias = vgg.get_layer(name).get_weights()
        np.testing.assert_array_equal(kernel, weights[name][0])
        np.testing.assert_array_equal(bias, weights[name][1])


def test_extractor_truncates_at_deepest_requested_layer(needs_weights):
    extractor = build_extractor(["block1_conv2", "block3_conv1", "block2_conv1"])
    all_names = _all_layer_names(extractor)
    assert "block3_conv1" in all_names
    deeper = VGG19_LAYERS[VGG19_LAYERS.index("block3_conv1") + 1:]
    assert not set(deeper) & all_names, "layers beyond the deepest requested one are built"
    assert set(extractor.output) == {"block1_conv2", "block3_conv1", "block2_conv1"}


def _all_layer_names(m) -> set:
    names = set()
    for layer in m.layers:
        names.add(layer.name)
        if isinstance(layer, keras.Model):
            names |= _all_layer_names(layer)
    return names


@pytest.fixture(scope="module")
def extractor_64x48():
    from nst_helpers.errors import WeightsError

    try:
        return build_extractor(list(STYLE_LAYERS) + ["block5_conv2", "block5_pool"])
    except WeightsError as exc:  # pragma: no cover - only without any weights
        pytest.skip(str(exc))


def test_extractor_output_shapes(extractor_64x48, small_image):
    assert small_image.shape == (48, 64, 3)  # height 48, width 64
    features = extractor_64x48(small_image[None])
    expected = {
        "block1_conv1": (1, 48, 64, 64), "block2_conv1": (1, 24, 32, 128), "block3_conv1": (1, 12, 16, 256),
        "block4_conv1": (1, 6, 8, 512), "block5_conv1": (1, 3, 4, 512), "block5_conv2": (1, 3, 4, 512),
        "block5_pool": (1, 2, 2, 512),  # 3 rows pooled keep the last one: pool_padding="same"
    }
    assert {name: tuple(value.shape) for name, value in features.items()} == expected
    assert all(value.dtype == "float32" for value in features.values())


def test_extractor_is_frozen(extractor_64x48):
    assert extractor_64x48.trainable_weights == []
    assert not extractor_64x48.trainable
    # All 16 conv layers (kernel + bias) are there, none trainable.
    assert len(extractor_64x48.non_trainable_weights) == 2 * 16


def test_preprocess_layer_equals_images_preprocess(small_image, small_portrait):
    for image in (small_image, small_portrait):
        batch = image[None]
        np.testing.assert_allclose(np.asarray(Preprocess()(batch)), images.preprocess(image).numpy(),
                                   rtol=0, atol=1e-4)
    # Caffe convention: BGR order, 0-255, ImageNet means removed.
    pixel = np.array([[[[0.2, 0.5, 1.0]]]], np.float32)
    expected = np.array([1.0 * 255 - 103.939, 0.5 * 255 - 116.779, 0.2 * 255 - 123.68])
    np.testing.assert_allclose(np.asarray(Preprocess()(pixel))[0, 0, 0], expected, rtol=0, atol=1e-4)


def test_extractor_applies_preprocessing_itself(needs_weights, small_image):
    extractor = build_extractor(["block1_conv2"])
    vgg = build_vgg19("max", "block1_conv2")
    direct = vgg(images.preprocess(small_image))
    np.testing.assert_allclose(np.asarray(extractor(small_image[None])["block1_conv2"]), np.asarray(direct),
                               rtol=1e-5, atol=1e-4)


def test_vgg_features_are_sane_on_real_weights(extractor_64x48):
    """ImageNet weights give finite, non-negative (ReLU), sparse-but-alive, image-dependent features."""
    photo = images.load_sample("chelsea", 64)
    other = images.resize(images.load_sample("hubble"), *photo.shape[:2])
    a, b = extractor_64x48(photo[None]), extractor_64x48(other[None])
    for name in ("block1_conv1", "block3_conv1", "block5_conv2"):
        fa, fb = np.asarray(a[name]), np.asarray(b[name])
        assert np.all(np.isfinite(fa)) and fa.min() >= 0.0
        active = float(np.mean(fa > 0))
        assert 0.02 < active < 0.98, f"{name}: {active:.3f} of units active"
        assert fa.std() > 1e-2
        # Different channels respond differently, and different images give different features.
        assert np.std(fa.mean(axis=(0, 1, 2))) > 1e-3
        assert np.sum((fa - fb) ** 2) / np.sum(fa**2) > 0.05
    # The extractor carries Keras' ImageNet VGG19 weights (same value in the .h5 and the bundle).
    conv = _find_layer(extractor_64x48, "block1_conv1")
    assert float(np.asarray(conv.bias)[0]) == pytest.approx(0.7301776, abs=1e-6)


def _find_layer(m, name):
    for layer in m.layers:
        if layer.name == name:
            return layer
        if isinstance(layer, keras.Model):
            found = _find_layer(layer, name)
            if found is not None:
                return found
    return None


def test_layer_geometry_helpers():
    assert model.deepest_layer(["block3_conv1", "block1_conv2", "block2_pool"]) == "block3_conv1"
    assert model.layers_up_to("block1_pool") == ["block1_conv1", "block1_conv2", "block1_pool"]
    assert model.layers_up_to(["block2_conv1", "block1_conv1"]) == EXPECTED_LAYERS[:4]
    shapes = model.feature_shapes(67, 100, "block5_pool")
    assert list(shapes) == EXPECTED_LAYERS
    assert shapes["block1_conv1"] == (67, 100, 64) and shapes["block1_pool"] == (34, 50, 64)
    assert shapes["block3_conv4"] == (17, 25, 256) and shapes["block5_pool"] == (3, 4, 512)
    keras_shapes = model.feature_shapes(67, 100, "block5_pool", pool_padding="valid")  # Keras' VGG19
    assert keras_shapes["block1_pool"] == (33, 50, 64)
    assert keras_shapes["block3_conv4"] == (16, 25, 256) and keras_shapes["block5_pool"] == (2, 3, 512)
    with pytest.raises(LayerError, match="pool_padding"):
        model.feature_shapes(64, 64, "block1_pool", pool_padding="ceil")
    with pytest.raises(LayerError):
        model.feature_shapes(64, 64, "block6_conv1")


@pytest.mark.parametrize("pool_padding", model.POOL_PADDINGS)
def test_feature_shapes_match_the_model(pool_padding):
    extractor = build_extractor(["block1_pool", "block3_conv2", "block4_pool"], pool_padding=pool_padding)
    out = extractor(np.zeros((1, 45, 77, 3), np.float32))
    shapes = model.feature_shapes(45, 77, list(out), pool_padding)
    for name, features in out.items():
        assert tuple(features.shape[1:]) == shapes[name], name
