"""What this machine's hardware does well: the precision advice follows it.

bfloat16 halves the memory of the activations, but it is only *faster* where the
arithmetic is native: AVX512_BF16 or AMX on a CPU, or a GPU.  Elsewhere TensorFlow
emulates it.  Measured on a 2-core AVX2-only AMD EPYC: 7.36 s per iteration for the
bfloat16 step against 0.73 s for float32 at 256 px (10x slower, ``benchmarks/bench.py
--sizes 256 --quick``); on the AVX-512 EPYC with AVX512_BF16 it is 1.76-1.86x faster
(``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import functools
import warnings

__all__ = ["BF16_SLOWDOWN_WITHOUT_NATIVE", "cpu_flags", "has_gpu", "native_bfloat16", "fast_precisions",
           "warn_slow_precision"]

BF16_SLOWDOWN_WITHOUT_NATIVE = 10  # measured factor, AVX2-only EPYC, 256 px (see the module docstring)
_NATIVE_BF16_FLAGS = {"avx512_bf16", "amx_bf16"}


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset:
    """The CPU's feature flags from ``/proc/cpuinfo`` (empty where there is none, e.g. macOS)."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


@functools.lru_cache(maxsize=1)
def has_gpu() -> bool:
    """Whether TensorFlow sees a GPU (checked once per process)."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def native_bfloat16() -> bool:
    """Whether bfloat16 arithmetic is native here (a GPU, or a CPU with AVX512_BF16 or AMX)."""
    return has_gpu() or bool(cpu_flags() & _NATIVE_BF16_FLAGS)


def fast_precisions() -> list[str]:
    """The precisions that are faster than float32 here (``[]`` on a CPU without native bf16)."""
    if has_gpu():
        return ["bfloat16", "float16"]
    return ["bfloat16"] if native_bfloat16() else []


_warned: set = set()


def warn_slow_precision(precision: str) -> None:
    """Warn once per process that ``precision`` will be slower than float32 on this machine.

    Args:
        precision: the ``precision`` option of :func:`nst_helpers.stylize`.
    """
    if precision == "float32" or precision in fast_precisions() or precision in _warned:
        return
    _warned.add(precision)
    warnings.warn(f"precision={precision!r} is emulated on this CPU (no AVX512_BF16 or AMX, no GPU): expect "
                  f"it to run about {BF16_SLOWDOWN_WITHOUT_NATIVE}x slower than float32 (measured on an "
                  "AVX2-only EPYC). It still halves the activations' memory; use float32 for speed.",
                  RuntimeWarning, stacklevel=3)
