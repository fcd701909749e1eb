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

from .errors import LayerError
from .images import rgb_to_caffe
from .weights import VGG19_CONV_SHAPES, WeightsSource, load_vgg19_weights

__all__ = [
    "VGG19_LAYERS", "CONTENT_LAYERS", "STYLE_LAYERS", "POOLINGS", "PRECISIONS", "check_layers",
    "deepest_layer", "layers_up_to", "feature_shapes", "weights_source", "build_vgg19", "Preprocess",
    "build_extractor",
]

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


def deepest_layer(layers) -> str:
    """The deepest of ``layers`` (validated): VGG computes every layer up to it."""
    return max(check_layers(layers), key=VGG19_LAYERS.index)


def layers_up_to(layers) -> list[str]:
    """VGG19's layers in order, from the first to the deepest of ``layers`` (one name or several)."""
    return VGG19_LAYERS[: VGG19_LAYERS.index(deepest_layer(layers)) + 1]


def feature_shapes(height: int, width: int, up_to) -> dict[str, tuple[int, int, int]]:
    """``{layer: (h_l, w_l, c_l)}``: each layer's output size for a ``height x width`` input,
    for every layer up to the deepest of ``up_to``.

    VGG's 3x3 ``same`` convolutions keep the size and set the channels; each 2x2 pooling
    halves the size, rounding down (``block1_pool`` of a 33 px side is 16 px).
    """
    h, w, channels = int(height), int(width), 3
    shapes = {}
    for name in layers_up_to(up_to):
        if name.endswith("_pool"):
            h, w = h // 2, w // 2
        else:
            channels = VGG19_CONV_SHAPES[name][-1]
        shapes[name] = (h, w, channels)
    return shapes


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
    for name in layers_up_to(last_layer):
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
    """[0, 1] RGB -> caffe BGR (:func:`nst_helpers.images.rgb_to_caffe`), inside the model so every
    caller gets it right."""

    def call(self, images):
        return rgb_to_caffe(images)


def build_extractor(layers, pooling: str = "max", precision: str = "float32") -> keras.Model:
    """Model mapping ``[0, 1]`` RGB images to ``{layer: features}`` for ``layers``.

    Features are always returned as float32 (Gram matrices need the range), whatever
    ``precision`` the convolutions run in.
    """
    layers = list(dict.fromkeys(check_layers(layers)))
    vgg = build_vgg19(pooling, deepest_layer(layers), precision)
    images = keras.Input(shape=(None, None, 3), name="rgb_01")
    outputs = {name: vgg.get_layer(name).output for name in layers}
    if precision != "float32":
        outputs = {name: keras.layers.Activation("linear", dtype="float32", name=f"{name}_f32")(out)
                   for name, out in outputs.items()}
    features = keras.Model(vgg.inputs, outputs)(Preprocess(name="vgg_preprocess", dtype="float32")(images))
    extractor = keras.Model(images, features, name="feature_extractor")
    extractor.trainable = False
    return extractor
