"""load_own: the learner's own picture by path, URL or Colab upload, falling back to a sample."""

from __future__ import annotations

import http.server
import io
import sys
import threading
import types

import numpy as np
import pytest
from PIL import Image

import nst_helpers as nh
from nst_helpers import own_images


def _png_bytes(h=40, w=60):
    buffer = io.BytesIO()
    Image.fromarray(np.full((h, w, 3), 200, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def server(tmp_path):
    (tmp_path / "pic.png").write_bytes(_png_bytes())
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path),
                                                                   **k)  # noqa: E731
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NST_DOWNLOAD_DIR", str(tmp_path / "cache"))


def test_none_is_the_fallback_sample():
    assert np.array_equal(nh.load_own(None, "chelsea", 64), nh.load_sample("chelsea", 64))


def test_a_path_and_an_array(tmp_path):
    path = tmp_path / "mine.png"
    path.write_bytes(_png_bytes())
    assert nh.load_own(str(path), "chelsea").shape == (40, 60, 3)
    assert nh.load_own(np.zeros((40, 50, 3), np.float32), "chelsea").shape == (40, 50, 3)


def test_a_url_is_downloaded_once_and_cached(server, tmp_path):
    image = nh.load_own(f"{server}/pic.png", "chelsea", 48)
    assert image.shape == (32, 48, 3)
    cached = list((tmp_path / "cache").iterdir())
    assert len(cached) == 1 and cached[0].name.endswith("_pic.png")
    again = nh.load_own(f"{server}/pic.png", "chelsea", 48)  # from the cache
    assert np.array_equal(image, again)


@pytest.mark.parametrize("path", ["/missing.png"])
def test_a_failed_download_falls_back_with_a_clear_message(server, tmp_path, path, capsys):
    image = nh.load_own(server + path, "chelsea", 64)
    assert np.array_equal(image, nh.load_sample("chelsea", 64))
    out = capsys.readouterr().out
    assert "Could not download" in out and "'chelsea'" in out and "give its path" in out
    # nothing half-written
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())


def test_an_unreachable_host_falls_back(capsys):
    image = nh.load_own("http://127.0.0.1:9/nothing.jpg", "swirl", 64)
    assert np.array_equal(image, nh.load_sample("swirl", 64))
    assert "Could not download" in capsys.readouterr().out


def test_upload_outside_colab_says_what_to_do(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    with pytest.raises(nh.ImageError, match="not Colab: give the path"):
        nh.load_own("upload", "chelsea")


def test_upload_in_colab_reads_the_chosen_file(monkeypatch):
    colab = types.ModuleType("google.colab")
    colab.files = types.SimpleNamespace(upload=lambda: {"cat.png": _png_bytes(50, 80)})
    google = types.ModuleType("google")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    assert nh.load_own("upload", "chelsea", 64).shape == (40, 64, 3)
    colab.files = types.SimpleNamespace(upload=lambda: {})
    with pytest.raises(nh.ImageError, match="no file was uploaded"):
        nh.load_own("upload", "chelsea")


def test_a_bad_file_of_ones_own_is_an_error_not_a_fallback(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a picture")
    with pytest.raises(nh.ImageError, match="broken.jpg"):
        own_images.load_own(str(bad), "chelsea")
