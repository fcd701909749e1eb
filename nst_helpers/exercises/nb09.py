"""Checks for notebook 09's exercises (high resolution: layer sizes, memory, coarse-to-fine stages).

Each check runs the learner's function on a few sizes and compares it with this package's own
version (:func:`nst_helpers.model.feature_shapes`, :mod:`nst_helpers.memory`,
:func:`nst_helpers.settings.auto_stages`).
"""

from __future__ import annotations

from typing import Callable

from ..images import fit_long_side
from ..memory import GIB, estimate_peak_bytes, optimizer_bytes
from ..model import CONTENT_LAYERS, STYLE_LAYERS, feature_shapes
from ..settings import auto_stages
from .core import NotDone, as_number

__all__ = ["check_layer_value_count", "check_optimizer_state_bytes", "check_largest_fitting_size",
           "check_stage_plan"]

# the first convolution after 0, 1, 2, 3 and 4 poolings
_AFTER_POOLINGS = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"]


def check_layer_value_count(layer_values: Callable) -> str:
    """Exercise 1 (notebook 09): how many values one VGG19 layer output holds.

    ``layer_values(height, width, poolings, channels)``: each of the ``poolings`` poolings halves
    both sides, rounding up; compared with :func:`nst_helpers.model.feature_shapes`.

    Args:
        layer_values: the learner's function of four integers.
    """
    for height, width in ((1362, 2048), (1024, 1024), (255, 384), (171, 256), (1, 1)):
        shapes = feature_shapes(height, width, _AFTER_POOLINGS[-1])
        for poolings, name in enumerate(_AFTER_POOLINGS):
            h, w, c = shapes[name]
            value = as_number(layer_values(height, width, poolings, c), "layer_values")
            if value == h * w * c:
                continue
            floor = (height >> poolings) * (width >> poolings) * c
            if value == floor:
                raise NotDone(f"{width} x {height} px after {poolings} poolings: round up at each pooling, "
                              "(side + 1) // 2, since VGG here keeps an odd side's last row")
            if value == height * width * c:
                plural = "s" * (poolings > 1)
                raise NotDone(f"after {poolings} pooling{plural}: each pooling halves the height and "
                              "the width")
            raise NotDone(f"{name} of a {width} x {height} px picture holds {h} x {w} x {c} values: halve "
                          f"both sides {poolings} times (rounding up), then multiply by the channels")
    return "halve both sides per pooling, rounding up, times the channels: as nh.model.feature_shapes"


def check_optimizer_state_bytes(optimizer_state_bytes: Callable) -> str:
    """Exercise 2 (notebook 09): the optimiser's memory for an RGB image.

    ``optimizer_state_bytes(height, width, optimizer)``: L-BFGS keeps 2 m + 9 float64 vectors
    (m = 10), Adam 6 float32 vectors, each of 3 * height * width values; compared with
    :func:`nst_helpers.memory.optimizer_bytes`.

    Args:
        optimizer_state_bytes: the learner's function of two integers and ``"lbfgs"`` or ``"adam"``.
    """
    for height, width in ((1362, 2048), (255, 384)):
        n = 3 * height * width
        for optimizer in ("lbfgs", "adam"):
            value = as_number(optimizer_state_bytes(height, width, optimizer), "optimizer_state_bytes")
            expected = optimizer_bytes(height, width, optimizer)
            if value == expected:
                continue
            if value == expected / 3:
                raise NotDone("each vector holds one value per pixel and colour channel: "
                              "n = 3 * height * width")
            if optimizer == "lbfgs" and value == 29 * n * 4:
                raise NotDone("L-BFGS (SciPy) keeps its vectors in float64: 8 bytes per value")
            if optimizer == "lbfgs" and value == 19 * n * 8:
                raise NotDone("L-BFGS keeps 2 m history vectors (m = 10 pairs), plus 9 work vectors")
            if optimizer == "adam" and value == 6 * n * 8:
                raise NotDone("Adam's vectors are float32: 4 bytes per value")
            raise NotDone(f"{optimizer}: L-BFGS keeps 2 * 10 + 9 float64 vectors, Adam 6 float32 vectors, "
                          "each of 3 * height * width values")
    return "L-BFGS's float64 history is several times Adam's float32 moments, as nh.memory.optimizer_bytes"


def _largest_multiple_of_32(budget: int) -> int:
    layers = list(CONTENT_LAYERS) + list(STYLE_LAYERS)
    size = 32
    while estimate_peak_bytes(*fit_long_side(300, 451, size + 32), layers) <= budget:
        size += 32
    return size


def check_largest_fitting_size(largest_fitting_size: Callable) -> str:
    """Exercise 3 (notebook 09): the largest long side, in steps of 32 px, that fits a memory budget.

    For Chelsea's 451 x 300 px aspect ratio, ``nh.stylize``'s default layers and L-BFGS, by
    :func:`nst_helpers.estimate_peak_bytes`.

    Args:
        largest_fitting_size: the learner's function of a budget in bytes; returns a long side in pixels.
    """
    for gib in (4, 2, 6):
        value = as_number(largest_fitting_size(gib * GIB), "largest_fitting_size")
        expected = _largest_multiple_of_32(gib * GIB)
        if value == expected:
            continue
        if value % 32:
            raise NotDone(f"with {gib} GiB: answer with a multiple of 32 px (step the size 32 px at a time)")
        if value > expected:
            raise NotDone(f"with {gib} GiB: {int(value)} px does not fit; return the last size that fits, "
                          "not the first one that does not")
        raise NotDone(f"with {gib} GiB: {int(value) + 32} px fits as well; keep going while the estimate "
                      "is <= budget")
    return "the last size whose estimate fits; nh.memory.largest_size_that_fits bisects to the pixel"


def check_stage_plan(plan_stages: Callable) -> str:
    """Exercise 4 (notebook 09): ``nh.stylize``'s default coarse-to-fine stages for a size.

    ``plan_stages(size)`` must return the list of :func:`nst_helpers.settings.auto_stages`:
    halve (rounding down) while the smallest stage is above 512, smallest first.

    Args:
        plan_stages: the learner's function of a long side in pixels; returns a list of sizes.
    """
    for size in (384, 512, 513, 1000, 2048, 3000, 5000):
        value = plan_stages(size)
        if value is None:
            raise NotDone("plan_stages returns None: return the list of sizes")
        value = [int(s) for s in value]
        expected = auto_stages(size)
        if value == expected:
            continue
        if value == expected[::-1]:
            raise NotDone("smallest stage first: the run starts small and ends at size")
        if not value or value[-1] != size:
            raise NotDone(f"size={size}: the last stage is the size itself")
        if value[0] <= 256 and value[1:] == expected:
            raise NotDone(f"size={size}: stop halving once the smallest stage is 512 or below")
        raise NotDone(f"size={size}: should give {expected}: halve (rounding down) while the smallest stage "
                      "is above 512")
    return "halving while above 512, smallest first: as nh.settings.auto_stages"
