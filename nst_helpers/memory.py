r"""How much memory a run needs, checked before it starts.

Peak memory of one optimisation stage is dominated by VGG19's activations: the
forward pass keeps every layer's output up to the deepest layer used (content or
style), and the backward pass adds gradients of the same size.  So the estimate is

.. math::

    \text{peak} \approx B + k \cdot b \sum_{l \le l_{\max}} h_l w_l c_l + \text{optimiser state}

* :math:`h_l w_l c_l`: the size of layer ``l``'s output (VGG's ``same`` convolutions keep
  the size, each pooling halves it, rounding up with the default ``pool_padding="same"``),
  summed over every layer from the input to the deepest one used; :math:`b` bytes per value
  (4 for float32, 2 when the convolutions run in bfloat16/float16);
* :math:`k` (:data:`ACTIVATION_FACTOR`): how many activation-sized buffers the forward
  and backward passes hold at their peak (outputs, ReLU masks, gradients, the
  convolution library's work space);
* :math:`B` (:data:`BASE_BYTES`): Python, TensorFlow and the VGG19 weights;
* optimiser state for an image of :math:`n = 3hw` values: L-BFGS (SciPy's L-BFGS-B)
  keeps :math:`2m` float64 correction vectors (``history_size`` :math:`m = 10`) plus
  about :data:`LBFGS_EXTRA_VECTORS` more float64 work vectors (point, gradient, bounds,
  work space); Adam keeps 3 float32 copies (image, first and second moments) plus
  a few temporaries (:data:`ADAM_VECTORS` in all).

Calibration (``python benchmarks/memory_calibration.py``): :math:`k` and :math:`B`
are a least-squares fit of the measured peak RSS (``ru_maxrss`` of a fresh process
running :func:`nst_helpers.stylize` for 3 iterations, one stage, content layer
``block5_conv2``) at several sizes, with the optimiser state subtracted; the figures
and residuals are in ``benchmarks/RESULTS_highres.md``.  :data:`SAFETY` adds a margin
on top so that the check errs on the side of stopping early.

:func:`check_memory` compares the estimate with the memory this process can use
(``psutil.virtual_memory().available`` plus what the process already holds, read from
``/proc`` without psutil, or the
``NST_MEMORY_LIMIT`` environment variable, in bytes, e.g. for tests; ``NST_MEMORY_LIMIT=off``
disables the check) and raises :class:`~nst_helpers.MemoryBudgetError` with what to
do when it does not fit.  :func:`nst_helpers.stylize` calls it before every stage.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from .errors import MemoryBudgetError, OptionError
from .images import fit_long_side
from .model import VGG19_LAYERS, check_layers, deepest_layer, feature_shapes

__all__ = [
    "GIB", "ACTIVATION_FACTOR", "BASE_BYTES", "SAFETY", "LBFGS_EXTRA_VECTORS", "ADAM_VECTORS",
    "PRECISION_BYTES", "activation_values", "optimizer_bytes", "estimate_peak_bytes", "available_bytes",
    "largest_size_that_fits", "check_memory",
]

GIB = 1024 ** 3
# Calibrated on the 2-core AMD EPYC, TF 2.20 CPU, float32 (see the module docstring): the fit over
# L-BFGS and Adam at 256-1024 px gave k = 2.73, B = 0.80 GiB (L-BFGS alone 2.91, Adam alone 2.55);
# we take the larger k, and B = 0.9 GiB because a coarse-to-fine run holds ~0.1 GiB more than a fresh
# one-stage process (its 1024 px stage peaked at 4.28 GiB in benchmarks/highres.py).  SAFETY covers the
# rest (residuals were under 6%; the 2048 px stage peaked 10% under the estimate).
ACTIVATION_FACTOR = 2.9
BASE_BYTES = int(0.9 * GIB)
SAFETY = 1.15
LBFGS_EXTRA_VECTORS = 9
ADAM_VECTORS = 6
PRECISION_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}


def activation_values(height: int, width: int, layers: Sequence[str]) -> int:
    """Number of values in VGG19's input and every layer output up to the deepest of ``layers``.

    Example: ``activation_values(512, 512, ["block5_conv2"])``.
    Derived in notebook 09, §1 ("What grows with the size").

    Args:
        height: the image height in pixels.
        width: the image width in pixels.
        layers: the VGG19 layers a run uses; only the deepest matters.

    Returns:
        The number of activation values (floats), the sum of :math:`h_l w_l c_l`.
    """
    shapes = feature_shapes(height, width, layers)
    return int(height) * int(width) * 3 + sum(h * w * c for h, w, c in shapes.values())


def optimizer_bytes(height: int, width: int, optimizer: str = "lbfgs", *, history_size: int = 10) -> int:
    """Bytes of optimiser state for a ``height x width`` RGB image.

    Derived in notebook 09, §2 ("Estimating the peak memory").

    Args:
        height: the image height in pixels.
        width: the image width in pixels.
        optimizer: ``"lbfgs"`` (float64 history vectors) or ``"adam"`` (float32 moments).
        history_size: L-BFGS's number of correction pairs :math:`m`.

    Returns:
        The bytes.
    """
    n = 3 * int(height) * int(width)
    if optimizer == "lbfgs":
        return (2 * int(history_size) + LBFGS_EXTRA_VECTORS) * n * 8
    if optimizer == "adam":
        return ADAM_VECTORS * n * 4
    raise OptionError(f"optimizer must be 'lbfgs' or 'adam', got {optimizer!r}")


def estimate_peak_bytes(height: int, width: int, layers: Sequence[str], optimizer: str = "lbfgs", *,
                        precision: str = "float32", history_size: int = 10) -> int:
    """Estimated peak memory (this process's RSS) of one stage at ``height x width``.

    Example: ``estimate_peak_bytes(1024, 768, nh.STYLE_LAYERS + nh.CONTENT_LAYERS)``.
    The formula is the module docstring's; it is monotone in the size.

    Derived in notebook 09, §2 ("Estimating the peak memory").

    Args:
        height: the image height in pixels.
        width: the image width in pixels.
        layers: every VGG layer the run uses (content and style); only the deepest
            matters, since everything before it is computed.
        optimizer: ``"lbfgs"`` or ``"adam"``.
        precision: ``"float32"``, ``"bfloat16"`` or ``"float16"`` (bytes per activation).
        history_size: L-BFGS's number of correction pairs.

    Returns:
        The estimate in bytes, :data:`SAFETY` margin included.
    """
    if precision not in PRECISION_BYTES:
        raise OptionError(f"precision must be one of {sorted(PRECISION_BYTES)}, got {precision!r}")
    activations = activation_values(height, width, layers) * PRECISION_BYTES[precision]
    peak = BASE_BYTES + ACTIVATION_FACTOR * activations + optimizer_bytes(
        height, width, optimizer, history_size=history_size)
    return int(SAFETY * peak)


def available_bytes() -> int | None:
    """Memory this process may use.

    Derived in notebook 09, §3 ("When it does not fit").

    Returns:
        ``NST_MEMORY_LIMIT`` if set (``None`` if it is ``off``), else the system's available
        memory plus this process's current RSS (``None`` when neither psutil nor ``/proc``
        can tell).
    """
    limit = os.environ.get("NST_MEMORY_LIMIT", "").strip()
    if limit:
        if limit.lower() in ("off", "none", "0"):
            return None
        try:
            return int(float(limit))
        except ValueError:
            raise OptionError(f"NST_MEMORY_LIMIT must be a number of bytes (e.g. 8e9) or 'off', "
                              f"got {limit!r}") from None
    try:
        import psutil
    except ImportError:  # psutil is optional: read Linux's /proc instead, or skip the check
        return _proc_available()
    return int(psutil.virtual_memory().available + psutil.Process().memory_info().rss)


def _proc_available() -> int | None:
    try:
        meminfo = dict(line.split(":", 1) for line in open("/proc/meminfo"))
        status = dict(line.split(":", 1) for line in open("/proc/self/status"))
        kib = int(meminfo["MemAvailable"].split()[0]) + int(status["VmRSS"].split()[0])
    except (OSError, KeyError, ValueError):
        return None
    return kib * 1024


def largest_size_that_fits(height: int, width: int, layers: Sequence[str], optimizer: str, budget: int,
                           **options: object) -> int:
    """The largest long side whose estimate fits in ``budget`` bytes.

    Derived in notebook 09, §3 ("When it does not fit").

    Args:
        height: the image height in pixels (for the aspect ratio).
        width: the image width in pixels.
        layers: every VGG layer the run uses.
        optimizer: ``"lbfgs"`` or ``"adam"``.
        budget: the bytes available.
        **options: ``precision`` and ``history_size``, as :func:`estimate_peak_bytes`.

    Returns:
        The long side in pixels (at least 32, possibly larger than the image), or 0 if
        not even 32 px fits.
    """

    def fits(size):
        shape = fit_long_side(height, width, size)
        return estimate_peak_bytes(*shape, layers, optimizer, **options) <= budget

    low, high = 32, max(height, width, 32)
    if not fits(low):
        return 0
    while fits(high) and high < 1 << 17:  # the answer may be larger than the picture: look higher
        low, high = high, 2 * high
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(middle) else (low, middle - 1)
    return low


def _gib(value: float) -> str:
    return f"{value / GIB:.1f} GiB"


def check_memory(height: int, width: int, layers: Sequence[str], optimizer: str = "lbfgs", *,
                 precision: str = "float32", history_size: int = 10, available: int | None = None) -> int:
    """Check that a ``height x width`` stage fits in memory before it starts.

    :func:`nst_helpers.stylize` calls it before every stage.  Derived in notebook 09, §3
    ("When it does not fit").

    Args:
        height: the stage's height in pixels.
        width: the stage's width in pixels.
        layers: every VGG layer the run uses.
        optimizer: ``"lbfgs"`` or ``"adam"``.
        precision: as :func:`estimate_peak_bytes`.
        history_size: as :func:`estimate_peak_bytes`.
        available: the bytes available (default: :func:`available_bytes`).

    Returns:
        The estimate in bytes.

    Raises:
        MemoryBudgetError: when it does not fit; the message says how much is needed, how
            much is available, and what to change.
    """
    options = dict(precision=precision, history_size=history_size)
    needed = estimate_peak_bytes(height, width, layers, optimizer, **options)
    source = "given"
    if available is None:
        available = available_bytes()
        if available is None:  # NST_MEMORY_LIMIT=off
            return needed
        source = "NST_MEMORY_LIMIT" if os.environ.get("NST_MEMORY_LIMIT", "").strip() else "free memory"
    if needed <= available:
        return needed
    names = check_layers(layers)
    deepest = deepest_layer(names)
    hints = []
    size = largest_size_that_fits(height, width, names, optimizer, available, **options)
    if size:
        hints.append(f"a smaller size: at most --size {size} (size={size}) fits, or end the coarse-to-fine "
                     "stages there")
    else:
        hints.append("even a 32 px image needs more than that: free memory (close other programs)")
    shallow = [n for n in names if VGG19_LAYERS.index(n) < VGG19_LAYERS.index("block4_pool")]
    if shallow and len(shallow) < len(names):
        shallower = estimate_peak_bytes(height, width, shallow, optimizer, **options)
        hints.append(f"fewer or shallower layers (every layer up to the deepest one, here {deepest}, is "
                     f"computed; content and style layers up to block4 only: {_gib(shallower)})")
    if optimizer == "lbfgs":
        adam = estimate_peak_bytes(height, width, names, "adam", **options)
        hints.append(f"--optimizer adam (no L-BFGS history: {_gib(adam)})")
    if precision == "float32":
        half = estimate_peak_bytes(height, width, names, optimizer, precision="bfloat16",
                                   history_size=history_size)
        from .hardware import BF16_SLOWDOWN_WITHOUT_NATIVE, native_bfloat16

        slower = "" if native_bfloat16() else f"; about {BF16_SLOWDOWN_WITHOUT_NATIVE}x slower on this CPU"
        hints.append(f"precision='bfloat16' ({_gib(half)}{slower})")
    hints.append("or stylise overlapping tiles of the picture separately and blend them (not built in)")
    raise MemoryBudgetError(
        f"a {width}x{height} px stage ({optimizer}, layers up to {deepest}) needs about {_gib(needed)} of "
        f"memory, but only {_gib(available)} is available ({source}). To fit: " + "; ".join(hints) + ".")
