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
from collections.abc import Iterable

import keras

from .errors import LayerError
from .images import rgb_to_caffe
from .weights import VGG19_CONV_SHAPES, WeightsSource, load_vgg19_weights

__all__ = [
    "VGG19_LAYERS", "CONTENT_LAYERS", "STYLE_LAYERS", "POOLINGS", "POOL_PADDINGS", "PRECISIONS",
    "check_layers", "check_pool_padding", "deepest_layer", "layers_up_to", "feature_shapes",
    "receptive_field",
    "weights_source", "build_vgg19", "Preprocess", "build_extractor",
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
# Departure from Keras' (and Caffe's) VGG19: 2x2 pooling of an odd side keeps its last row or column
# ("same", Keras' padding name) instead of dropping it ("valid").  With "valid" the deep layers never
# see the bottom/right rows of a side that is not a multiple of 32, so those rows stay unpainted
# (notebook 09 shows the strip; benchmarks/edges.py measures it).
POOL_PADDINGS = ("same", "valid")
PRECISIONS = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}


def deepest_layer(layers: str | Iterable[str]) -> str:
    """The deepest of ``layers`` (validated): VGG computes every layer up to it.

    Args:
        layers: one VGG19 layer name or several.
    """
    return max(check_layers(layers), key=VGG19_LAYERS.index)


def layers_up_to(layers: str | Iterable[str]) -> list[str]:
    """VGG19's layers in order, from the first to the deepest of ``layers``.

    Args:
        layers: one VGG19 layer name or several.
    """
    return VGG19_LAYERS[: VGG19_LAYERS.index(deepest_layer(layers)) + 1]


def receptive_field(layer: str) -> int:
    """The width in pixels of the input patch one position of ``layer`` sees: starting from 1, each
    3 x 3 convolution adds 2 steps and each 2 x 2 pooling adds 1 step and doubles the step.

    Derived in notebook 03, §2 ("Why intermediate layers describe content and style").

    Args:
        layer: a name from :data:`VGG19_LAYERS`.
    """
    size, step = 1, 1
    for name in VGG19_LAYERS[: VGG19_LAYERS.index(check_layers([layer])[0]) + 1]:
        if name.endswith("_pool"):
            size, step = size + step, step * 2
        else:
            size += 2 * step
    return size


def feature_shapes(height: int, width: int, up_to: str | Iterable[str],
                   pool_padding: str = "same") -> dict[str, tuple[int, int, int]]:
    """``{layer: (h_l, w_l, c_l)}``: each layer's output size for a ``height x width`` input,
    for every layer up to the deepest of ``up_to``.

    VGG's 3x3 ``same`` convolutions keep the size and set the channels; each 2x2 pooling
    halves the size, rounding up with ``pool_padding="same"`` (``block1_pool`` of a 33 px
    side is 17 px) and down with ``"valid"`` (16 px, Keras' VGG19).  Derived in notebook 03,
    §4 ("A multi-output extractor with the Functional API").

    Args:
        height: rows of the input image.
        width: columns of the input image.
        up_to: one layer name or several; shapes are given up to the deepest.
        pool_padding: ``"same"`` (round up, this package's default) or ``"valid"`` (round down).

    Returns:
        ``{layer: (h_l, w_l, c_l)}`` in VGG19's order.
    """
    check_pool_padding(pool_padding)
    h, w, channels = int(height), int(width), 3
    shapes = {}
    for name in layers_up_to(up_to):
        if name.endswith("_pool"):
            h, w = ((h + 1) // 2, (w + 1) // 2) if pool_padding == "same" else (h // 2, w // 2)
        else:
            channels = VGG19_CONV_SHAPES[name][-1]
        shapes[name] = (h, w, channels)
    return shapes


def check_pool_padding(pool_padding: str) -> str:
    """``pool_padding`` if it is one of :data:`POOL_PADDINGS`, else a :class:`LayerError`.

    Args:
        pool_padding: the padding name to check.
    """
    if pool_padding not in POOL_PADDINGS:
        raise LayerError(f"pool_padding must be one of {POOL_PADDINGS}, got {pool_padding!r}")
    return pool_padding


def check_layers(layers: str | Iterable[str]) -> list[str]:
    """Return ``layers`` as a list, or raise :class:`LayerError` listing the valid names.

    Args:
        layers: one VGG19 layer name or several (at least one).
    """
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
def build_vgg19(pooling: str = "max", last_layer: str = "block5_pool", precision: str = "float32",
                pool_padding: str = "same") -> keras.Model:
    """VGG19's convolutional layers up to ``last_layer``, ImageNet weights, frozen.

    Departure from Gatys et al.: max pooling is the default; ``pooling="avg"`` replaces it
    by average pooling, as in the paper (Gatys et al. found it gives slightly smoother
    results).  Derived in notebook 03, §3 ("Building VGG19") and §6 ("Max pooling or average
    pooling?").  ``precision="bfloat16"`` (or ``"float16"``)
    computes the convolutions in reduced precision with float32 weights (Keras mixed
    precision): faster where the hardware has it.  Input: caffe-preprocessed images
    of any size.  ``pool_padding="same"`` keeps the last row and column of an odd side
    at each pooling (a departure from Keras' VGG19, ``"valid"``; see :data:`POOL_PADDINGS`).

    Args:
        pooling: ``"max"`` or ``"avg"``.
        last_layer: the deepest layer to build.
        precision: a key of :data:`PRECISIONS`.
        pool_padding: ``"same"`` or ``"valid"``.
    """
    if pooling not in POOLINGS:
        raise LayerError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    if precision not in PRECISIONS:
        raise LayerError(f"precision must be one of {sorted(PRECISIONS)}, got {precision!r}")
    check_layers([last_layer])
    check_pool_padding(pool_padding)
    policy = PRECISIONS[precision]
    weights, _ = _cached_weights()
    pool = keras.layers.MaxPooling2D if pooling == "max" else keras.layers.AveragePooling2D
    inputs = keras.Input(shape=(None, None, 3), name="input_layer")
    x = inputs
    for name in layers_up_to(last_layer):
        if name.endswith("_pool"):
            x = pool(2, strides=2, padding=pool_padding, name=name, dtype=policy)(x)
        else:
            conv = keras.layers.Conv2D(VGG19_CONV_SHAPES[name][-1], 3, padding="same",
                                       activation="relu", name=name, dtype=policy)
            x = conv(x)
            conv.set_weights(list(weights[name]))
    suffix = "" if pool_padding == "same" else "_valid"
    model = keras.Model(inputs, x, name=f"vgg19_{pooling}pool{suffix}")
    model.trainable = False
    return model


class Preprocess(keras.layers.Layer):
    """[0, 1] RGB -> caffe BGR (:func:`nst_helpers.images.rgb_to_caffe`), inside the model so every
    caller gets it right."""

    def call(self, images):
        return rgb_to_caffe(images)


def build_extractor(layers: str | Iterable[str], pooling: str = "max", precision: str = "float32",
                    pool_padding: str = "same") -> keras.Model:
    """Model mapping ``[0, 1]`` RGB images to ``{layer: features}`` for ``layers``.

    Features are always returned as float32 (Gram matrices need the range), whatever
    ``precision`` the convolutions run in.  Derived in notebook 03, §4 ("A multi-output
    extractor with the Functional API").

    Args:
        layers: the layers whose features the model returns (duplicates are dropped).
        pooling: ``"max"`` or ``"avg"`` (see :func:`build_vgg19`).
        precision: a key of :data:`PRECISIONS`.
        pool_padding: ``"same"`` or ``"valid"``.

    Returns:
        A frozen ``keras.Model``: ``(1, h, w, 3)`` in ``[0, 1]`` -> ``{layer: (1, h_l, w_l, c_l)}``.
    """
    layers = list(dict.fromkeys(check_layers(layers)))
    vgg = build_vgg19(pooling, deepest_layer(layers), precision, pool_padding)
    images = keras.Input(shape=(None, None, 3), name="rgb_01")
    outputs = {name: vgg.get_layer(name).output for name in layers}
    if precision != "float32":
        outputs = {name: keras.layers.Activation("linear", dtype="float32", name=f"{name}_f32")(out)
                   for name, out in outputs.items()}
    features = keras.Model(vgg.inputs, outputs)(Preprocess(name="vgg_preprocess", dtype="float32")(images))
    extractor = keras.Model(images, features, name="feature_extractor")
    extractor.trainable = False
    return extractor
