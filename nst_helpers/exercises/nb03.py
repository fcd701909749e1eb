"""Checks for notebook 03's exercises (the model: VGG19's shapes, weights, layers and receptive fields).

Each check works out the right answer itself, from the layer table of
:mod:`nst_helpers.model` and :mod:`nst_helpers.weights` (the same one ``nh.build_vgg19``
builds from), and names the mistake a learner most likely made.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..model import VGG19_LAYERS, feature_shapes, receptive_field
from ..weights import VGG19_CONV_SHAPES
from .core import NotDone

__all__ = ["check_block4_shape", "check_block3_conv1_params", "check_paper_layers",
           "check_block3_conv4_field"]

SHAPE_INPUT = (300, 451)  # exercise 1's input: height, width
PARAMS_LAYER = "block3_conv1"  # exercise 2's layer
FIELD_LAYER = "block3_conv4"  # exercise 4's layer


def _whole(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_block4_shape(my_shape: Sequence[int]) -> str:
    """Exercise 1 (notebook 03): the shape of ``block4_conv1``'s output for a 300 x 451 input.

    Args:
        my_shape: the learner's ``(batch, height, width, channels)``.
    """
    height, width = SHAPE_INPUT
    expected = (1, *feature_shapes(height, width, "block4_conv1")["block4_conv1"])
    if not isinstance(my_shape, (tuple, list)) or not all(_whole(n) for n in my_shape):
        raise NotDone("my_shape must be a tuple of whole numbers: (batch, height, width, channels)")
    shape = tuple(int(n) for n in my_shape)
    if len(shape) == 3:
        raise NotDone("keep the batch dimension first: (1, height, width, channels)")
    if len(shape) != 4 or shape[0] != 1:
        raise NotDone("my_shape has four numbers: (1, height, width, channels) for one image")
    if shape[3] != expected[3]:
        raise NotDone("block4_conv1 has 512 channels (64, 128, 256, 512 and 512 in blocks 1 to 5)")
    if shape[1:3] == expected[2:0:-1]:
        raise NotDone("height first, then width: 300 rows become fewer rows, 451 columns fewer columns")
    if shape[1:3] == (height // 8, width // 8):
        raise NotDone("that is rounding down; nh.build_vgg19's pooling rounds up (pool_padding='same'), "
                      "so an odd side keeps its last row: 75 -> 38")
    if shape[1:3] == (-(-height // 16), -(-width // 16)):
        raise NotDone("block4_conv1 comes after three poolings (block1_pool to block3_pool), not four")
    if shape == (1, 48, 64, 512):
        raise NotDone("(1, 48, 64, 512) is for a 384 x 512 input: halve 300 and 451 instead")
    if shape != expected:
        raise NotDone("halve 300 and 451 three times, rounding up each time")
    return f"300 x 451 -> 150 x 226 -> 75 x 113 -> 38 x 57, with 512 channels: {expected}"


def check_block3_conv1_params(my_params: int) -> str:
    """Exercise 2 (notebook 03): the number of weights of ``block3_conv1`` (128 -> 256 channels).

    Args:
        my_params: the learner's count, weights and biases together.
    """
    k_h, k_w, c_in, c_out = VGG19_CONV_SHAPES[PARAMS_LAYER]
    expected = k_h * k_w * c_in * c_out + c_out
    if not _whole(my_params):
        raise NotDone("my_params must be a whole number (an int): 3 * 3 * C_in * C_out + C_out")
    if my_params == expected:
        return f"{PARAMS_LAYER} has 3 * 3 * 128 * 256 + 256 = {expected:,} weights"
    wrong = {
        3 * 3 * 3 * 64 + 64: "that is block1_conv1's count (3 -> 64 channels); block3_conv1 goes from "
                             "128 to 256 channels",
        k_h * k_w * c_in * c_out: "add the biases: one per output channel",
        k_h * k_w * c_out * c_out + c_out: "that is a 256 -> 256 convolution (block3_conv2 to block3_conv4); "
                                           "block3_conv1's input is block 2's 128 channels",
        c_in * c_out + c_out: "each output channel has a 3 x 3 x C_in kernel, not one weight per input "
                              "channel",
    }
    raise NotDone(wrong.get(int(my_params), "use section 7's formula with C_in = 128 and C_out = 256"))


def _keras_name(caffe_name: str) -> str:
    """The paper's (Caffe's) ``conv4_2`` as Keras' ``block4_conv2``."""
    block, conv = caffe_name.removeprefix("conv").split("_")
    return f"block{block}_conv{conv}"


def check_paper_layers(content_layers: Sequence[str], style_layers: Sequence[str]) -> str:
    """Exercise 3 (notebook 03): Gatys et al.'s content and style layers, in Keras' names.

    The paper names VGG's layers as Caffe does: ``conv4_2`` for the content, ``conv1_1``,
    ``conv2_1``, ... ``conv5_1`` for the style.

    Args:
        content_layers: the learner's list of content layers.
        style_layers: the learner's list of style layers.
    """
    content = [_keras_name("conv4_2")]
    style = [_keras_name(f"conv{block}_1") for block in range(1, 6)]
    for name, layers in (("content_layers", content_layers), ("style_layers", style_layers)):
        if not isinstance(layers, (list, tuple)) or not all(isinstance(n, str) for n in layers):
            raise NotDone(f'{name} must be a list of layer names, e.g. ["block5_conv2"]')
        unknown = [n for n in layers if n not in VGG19_LAYERS]
        if any(n.startswith("conv") for n in unknown):
            raise NotDone("write Keras' names: the paper's conv4_2 is Keras' block4_conv2")
        if unknown:
            raise NotDone(f"{name} holds a name that is not a VGG19 layer: nh.VGG19_LAYERS lists them")
    if list(style_layers) != style:
        raise NotDone("keep the paper's style layers: the first convolution of each block, block1_conv1 "
                      "to block5_conv1")
    if list(content_layers) == content:
        return "block4_conv2 for the content, block1_conv1 ... block5_conv1 for the style, as in the paper"
    if len(content_layers) != 1:
        raise NotDone("the paper uses one content layer")
    hints = {"block5_conv2": "block5_conv2 is the TensorFlow tutorial's choice (and nh's default); "
                             "the paper's conv4_2 is one block shallower",
             "block4_conv1": "conv4_2 is the second convolution of block 4, not the first",
             "block2_conv2": "conv4_2 means block 4, convolution 2 (block first, then the convolution)"}
    raise NotDone(hints.get(content_layers[0], "the paper's content layer is conv4_2: block 4, "
                                               "convolution 2, in Keras' names"))


def check_block3_conv4_field(my_field: int) -> str:
    """Exercise 4 (notebook 03): the receptive field of ``block3_conv4``, worked out by hand.

    Args:
        my_field: the learner's width in pixels of the patch one ``block3_conv4`` feature sees.
    """
    expected = receptive_field(FIELD_LAYER)
    start = receptive_field("block3_conv1")
    if not _whole(my_field):
        raise NotDone("my_field must be a whole number of pixels (an int)")
    if my_field == expected:
        return (f"24 + 3 x (3 - 1) x 4 = {expected}: one block3_conv4 feature sees {expected} x {expected} "
                "pixels")
    wrong = {
        start: "24 is block3_conv1's field: the next three 3 x 3 convolutions widen it",
        start + 3 * 2: "after two poolings neighbouring features are j = 4 pixels apart, not 1: each 3 x 3 "
                       "convolution adds (3 - 1) x 4 pixels",
        start + 3 * 2 * 2: "j doubles at every pooling: after two poolings it is 4, not 2",
        start + 2 * 2 * 4: "block3_conv4 is the fourth convolution of block 3: three after block3_conv1",
        expected + 4: "that is block3_pool's field; stop at block3_conv4",
    }
    raise NotDone(wrong.get(int(my_field), "apply r <- r + (k - 1) j three times from block3_conv1's "
                                           "r = 24, with j = 4"))
