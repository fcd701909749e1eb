"""VGG19 as a multi-output feature extractor (Keras Functional API).

:func:`build_vgg19` builds the convolutional part of VGG19 with Keras' layer names
(``block1_conv1`` ... ``block5_pool``) and loads ImageNet weights from
:mod:`nst_helpers.weights`; it stops at the deepest layer asked for, so nothing
unused is computed.  :func:`build_extractor` wraps it into a model that takes
``[0, 1]`` RGB images ``(1, h, w, 3)``, applies VGG's preprocessing itself and
returns ``{layer_name: features}``.
"""

from __future__ import annotations

import functools

import keras
import tensorflow as tf

from .errors import LayerError
from .images import IMAGENET_MEAN_BGR
from .weights import VGG19_CONV_SHAPES, WeightsSource, load_vgg19_weights

# Every layer of VGG19's convolutional part, in order (as in keras.applications.VGG19).
VGG19_LAYERS: list[str] = []
for _name in VGG19_CONV_SHAPES:
    VGG19_LAYERS.append(_name)
    _block = _name.split("_")[0]
    if _name in ("block1_conv2", "block2_conv2", "block3_conv4", "block4_conv4", "block5_conv4"):
        VGG19_LAYERS.append(f"{_block}_pool")

CONTENT_LAYERS = ("block5_conv2",)  # the TensorFlow tutorial's choice; the paper uses block4_conv2
STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
POOLINGS = ("max", "avg")
PRECISIONS = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}


def check_layers(layers) -> list[str]:
    """Return ``layers`` as a list, or raise :class:`LayerError` listing the valid names."""
    if isinstance(layers, str):
        layers = [layers]
    layers = list(layers)
    unknown = [name for name in layers if name not in VGG19_LAYERS]
    if unknown:
        raise LayerError(f"unknown VGG19 layer(s) {unknown}; valid names are: {', '.join(VGG19_LAYERS)}")
    if not layers:
        raise LayerError("no layers requested; pass at least one of: " + ", ".join(VGG19_LAYERS))
    return layers


@functools.lru_cache(maxsize=1)
def _cached_weights():
    return load_vgg19_weights()


def weights_source() -> WeightsSource:
    """Which weights :func:`build_vgg19` uses (loads them on first call)."""
    return _cached_weights()[1]


@functools.lru_cache(maxsize=8)
def build_vgg19(pooling: str = "max", last_layer: str = "block5_pool", precision: str = "float32") -> keras.Model:
    """VGG19's convolutional layers up to ``last_layer``, ImageNet weights, frozen.

    ``pooling="avg"`` replaces max pooling by average pooling (Gatys et al. found it
    gives slightly smoother results).  ``precision="bfloat16"`` (or ``"float16"``)
    computes the convolutions in reduced precision with float32 weights (Keras mixed
    precision): faster where the hardware has it.  Input: caffe-preprocessed images
    of any size.
    """
    if pooling not in POOLINGS:
        raise LayerError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    if precision not in PRECISIONS:
        raise LayerError(f"precision must be one of {sorted(PRECISIONS)}, got {precision!r}")
    check_layers([last_layer])
    policy = PRECISIONS[precision]
    weights, _ = _cached_weights()
    pool = keras.layers.MaxPooling2D if pooling == "max" else keras.layers.AveragePooling2D
    inputs = keras.Input(shape=(None, None, 3), name="input_layer")
    x = inputs
    for name in VGG19_LAYERS[: VGG19_LAYERS.index(last_layer) + 1]:
        if name.endswith("_pool"):
            x = pool(2, strides=2, name=name, dtype=policy)(x)
        else:
            conv = keras.layers.Conv2D(VGG19_CONV_SHAPES[name][-1], 3, padding="same",
                                       activation="relu", name=name, dtype=policy)
            x = conv(x)
            conv.set_weights(list(weights[name]))
    model = keras.Model(inputs, x, name=f"vgg19_{pooling}pool")
    model.trainable = False
    return model


class Preprocess(keras.layers.Layer):
    """[0, 1] RGB -> caffe BGR, inside the model so every caller gets it right."""

    def call(self, images):
        return images[..., ::-1] * 255.0 - tf.constant(IMAGENET_MEAN_BGR)


def build_extractor(layers, pooling: str = "max", precision: str = "float32") -> keras.Model:
    """Model mapping ``[0, 1]`` RGB images to ``{layer: features}`` for ``layers``.

    Features are always returned as float32 (Gram matrices need the range), whatever
    ``precision`` the convolutions run in.
    """
    layers = list(dict.fromkeys(check_layers(layers)))
    deepest = max(layers, key=VGG19_LAYERS.index)
    vgg = build_vgg19(pooling, deepest, precision)
    images = keras.Input(shape=(None, None, 3), name="rgb_01")
    outputs = {name: vgg.get_layer(name).output for name in layers}
    if precision != "float32":
        outputs = {name: keras.layers.Activation("linear", dtype="float32", name=f"{name}_f32")(out)
                   for name, out in outputs.items()}
    features = keras.Model(vgg.inputs, outputs)(Preprocess(name="vgg_preprocess", dtype="float32")(images))
    extractor = keras.Model(images, features, name="feature_extractor")
    extractor.trainable = False
    return extractor
