"""nst_helpers.files: atomic writes, unique output names, the same-file check."""

import os

import pytest

from nst_helpers.errors import ImageError, NSTError
from nst_helpers.files import atomic_write, check_output_path, same_file, unique_path


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


# ---------------------------------------------------------------------------- atomic_write
def test_atomic_write_creates_and_replaces(tmp_path):
    path = tmp_path / "sub" / "out.bin"
    with atomic_write(path) as stream:
        stream.write(b"first")
    assert path.read_bytes() == b"first"
    with atomic_write(path) as stream:
        stream.write(b"second")
    assert path.read_bytes() == b"second"
    assert _names(path.parent) == ["out.bin"]


@pytest.mark.parametrize("existing", [True, False])
def test_exception_mid_write_leaves_old_file_and_no_partial_file(tmp_path, existing):
    path = tmp_path / "out.bin"
    if existing:
        path.write_bytes(b"old contents")

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with atomic_write(path) as stream:
            stream.write(b"half of the new")
            stream.flush()
            raise Boom
    if existing:
        assert path.read_bytes() == b"old contents"
    else:
        assert not path.exists()
    assert _names(tmp_path) == (["out.bin"] if existing else [])  # no temporary file left


def test_keyboard_interrupt_mid_write_leaves_old_file(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(path) as stream:
            stream.write(b"new")
            raise KeyboardInterrupt
    assert path.read_bytes() == b"old" and _names(tmp_path) == ["out.bin"]


def test_atomic_write_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        path = tmp_path / "new.bin"
        with atomic_write(path) as stream:
            stream.write(b"x")
        assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
        path.chmod(0o640)
        with atomic_write(path) as stream:
            stream.write(b"y")
        assert path.stat().st_mode & 0o777 == 0o640  # a replaced file keeps its permissions
    finally:
        os.umask(mask)


def test_atomic_write_replaces_a_symlink_not_its_target(tmp_path):
    target = tmp_path / "target.bin"
    target.write_bytes(b"target")
    link = tmp_path / "link.bin"
    link.symlink_to(target)
    with atomic_write(link) as stream:
        stream.write(b"new")
    assert target.read_bytes() == b"target" and not link.is_symlink() and link.read_bytes() == b"new"


# ---------------------------------------------------------------------------- unique_path
def test_unique_path_never_overwrites(tmp_path):
    path = tmp_path / "result.png"
    assert unique_path(path) == path
    seen = []
    for index in range(5):
        free = unique_path(path)
        assert not os.path.lexists(free) and free not in seen
        free.write_bytes(b"%d" % index)
        seen.append(free)
    assert [p.name for p in seen] == ["result.png"] + [f"result_{i}.png" for i in range(1, 5)]
    assert [p.read_bytes() for p in seen] == [b"0", b"1", b"2", b"3", b"4"]  # nothing was replaced


def test_unique_path_counts_dangling_symlinks_and_folders_as_taken(tmp_path):
    (tmp_path / "a.png").symlink_to(tmp_path / "missing")
    (tmp_path / "a_1.png").mkdir()
    assert unique_path(tmp_path / "a.png") == tmp_path / "a_2.png"


def test_unique_path_gives_up(tmp_path):
    for name in ["x.png", "x_1.png", "x_2.png"]:
        (tmp_path / name).write_bytes(b"")
    with pytest.raises(NSTError, match="too many files"):
        unique_path(tmp_path / "x.png", limit=3)


# ---------------------------------------------------------------------------- same_file
def test_same_file_through_spellings_symlinks_and_hard_links(tmp_path, monkeypatch):
    original = tmp_path / "input.png"
    original.write_bytes(b"pixels")
    (tmp_path / "sub").mkdir()
    symlink = tmp_path / "alias.png"
    symlink.symlink_to(original)
    hard = tmp_path / "hard.png"
    os.link(original, hard)
    monkeypatch.chdir(tmp_path)
    for spelling in [original, "input.png", "sub/../input.png", symlink, hard, str(hard)]:
        assert same_file(spelling, original), spelling
    other = tmp_path / "other.png"
    other.write_bytes(b"pixels")  # same bytes, another file
    assert not same_file(other, original)
    assert not same_file(tmp_path / "missing.png", original)
    assert not same_file(None, original)


def test_same_file_survives_symlink_loops(tmp_path):
    loop = tmp_path / "loop.png"
    loop.symlink_to(loop)
    assert not same_file(loop, tmp_path / "other.png")


def test_check_output_path(tmp_path):
    source = tmp_path / "input.png"
    source.write_bytes(b"pixels")
    hard = tmp_path / "hard.png"
    os.link(source, hard)
    with pytest.raises(ImageError, match="refusing to overwrite the input"):
        check_output_path(hard, overwrite=True, protect=(None, str(source)))
    with pytest.raises(ImageError, match="already exists"):
        check_output_path(hard)
    with pytest.raises(ImageError, match="is a folder"):
        check_output_path(tmp_path)
    with pytest.raises(ImageError, match="choose another -o"):
        check_output_path(source, protect=[source], other="another -o")
    assert check_output_path(str(tmp_path / "new.png"), protect=[source]) == tmp_path / "new.png"
    assert check_output_path(hard, overwrite=True) == hard
