"""Checks on the committed notebooks themselves (nbval checks their outputs).

Fails when a notebook was committed unexecuted, out of order, with an error or
stderr output, with a machine path in its outputs, with an NBVAL marker that nbval
would silently ignore, or without the parts every notebook must have.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _load(path):
    return json.loads(path.read_text())


def _code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def _skipped(cell):
    return "skip-execution" in cell.get("metadata", {}).get("tags", [])


def test_the_series_is_there():
    numbers = {p.name[:2] for p in NOTEBOOKS}
    assert {f"{n:02d}" for n in range(1, 12)} <= numbers


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_top_to_bottom_without_errors(path):
    cells = [c for c in _code_cells(_load(path)) if not _skipped(c)]
    counts = [c.get("execution_count") for c in cells]
    assert None not in counts, f"{path.name}: unexecuted cells; run nbconvert --execute --inplace"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: cells executed out of order: {counts}"
    for cell in cells:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"{path.name}: error output committed"
            assert output.get("name") != "stderr", (f"{path.name}: stderr output: "
                                                    f"{''.join(output['text'])[:200]}")
            text = json.dumps(output.get("text", "")) + json.dumps(output.get("data", {}).get("text/plain",
                                                                                              ""))
            assert not re.search(r"/(root|tmp|home)/", text), f"{path.name}: machine path in an output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nbval_markers_are_alone_on_their_line(path):
    for cell in _code_cells(_load(path)):
        for line in "".join(cell["source"]).splitlines():
            if "NBVAL_" in line and line.lstrip().startswith("#"):
                assert re.fullmatch(r"\s*# NBVAL_(IGNORE_OUTPUT|SKIP|CHECK_OUTPUT|RAISES_EXCEPTION)\s*",
                                    line), (
                    f"{path.name}: nbval ignores a marker with text after it: {line!r}")


def test_setup_cell_is_identical_everywhere():
    setups = {p.name: next("".join(c["source"]) for c in _code_cells(_load(p))
                           if "IN_COLAB" in "".join(c["source"]))
              for p in NOTEBOOKS}
    first = setups[NOTEBOOKS[0].name]
    assert 'IN_COLAB = "google.colab" in sys.modules' in first
    assert all(s == first for s in setups.values()), [n for n, s in setups.items() if s != first]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_has_its_parts(path):
    markdown = "\n".join("".join(c["source"]) for c in _load(path)["cells"] if c["cell_type"] == "markdown")
    assert markdown.lstrip().startswith("# "), f"{path.name}: no title"
    assert "colab.research.google.com" in markdown and "github.com" in markdown, f"{path.name}: badges"
    for part in ("What you will learn", "Recap", "Exercise"):
        assert part.lower() in markdown.lower(), f"{path.name}: no '{part}' section"
    assert "<details>" in markdown, f"{path.name}: exercise solutions should be collapsed"


# Links that point into this project: Colab badges, files on GitHub, raw files, clones.
_OWN_LINK = (r"(?:colab\.research\.google\.com/github|raw\.githubusercontent\.com|github\.com)/"
             r"([\w.-]+/[\w.-]+?)(?:\.git)?(?=/blob/|/tree/|/main/|\s|\"|$)")


def _setup_repo():
    first = next("".join(c["source"]) for c in _code_cells(_load(NOTEBOOKS[0]))
                 if "IN_COLAB" in "".join(c["source"]))
    match = re.search(r'^REPO = "(https://github\.com/([\w.-]+/[\w.-]+))"$', first, re.MULTILINE)
    assert match, "the setup cell should define REPO = \"https://github.com/<owner>/<name>\" once"
    return match.group(1), match.group(2)


def test_the_repository_url_is_written_once_and_used_everywhere():
    """Setup cell, badges, README and pyproject name the same repository; the clone uses REPO itself."""
    repo, slug = _setup_repo()
    root = NOTEBOOKS[0].parent.parent
    for path in NOTEBOOKS:
        nb = _load(path)
        setup = next("".join(c["source"]) for c in _code_cells(nb) if "IN_COLAB" in "".join(c["source"]))
        assert setup.count("https://") == 1 and "git clone" in setup and "{REPO}" in setup, path.name
        header = "".join(nb["cells"][0]["source"])
        colab = f"https://colab.research.google.com/github/{slug}/blob/main/notebooks/{path.name}"
        assert colab in header, path.name
        assert f"{repo}/blob/main/notebooks/{path.name}" in header, path.name
        text = json.dumps([c["source"] for c in nb["cells"]])
        for other in re.findall(_OWN_LINK, text):
            assert other == slug, f"{path.name}: names another repository, {other}"
    for name in ("README.md", "pyproject.toml", "CONTRIBUTING.md"):
        for other in re.findall(_OWN_LINK, (root / name).read_text()):
            assert other.removesuffix(".git") == slug, f"{name}: names another repository, {other}"
    assert f'Repository = "{repo}"' in (root / "pyproject.toml").read_text()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_markdown_pictures_render_in_colab(path):
    """Colab opens a notebook without the repository around it: pictures need absolute URLs."""
    for cell in _load(path)["cells"]:
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"])
            for src in re.findall(r"!\[[^\]]*\]\(([^)\s]+)", source) + re.findall(r'<img[^>]*src="([^"]+)"',
                                                                                  source):
                assert src.startswith("https://"), f"{path.name}: picture {src} does not render in Colab"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_runs_and_nothing_waits_for_a_person(path):
    """No cell is skipped by the tests, and uploads or downloads sit behind a flag that is off."""
    for cell in _code_cells(_load(path)):
        source = "".join(cell["source"])
        assert "NBVAL_SKIP" not in source and not _skipped(cell), f"{path.name}: a cell the tests never run"
        if re.search(r"files\.upload|get_file\(|urlopen|\"upload\"|weights=\"imagenet\"", source):
            flags = re.findall(r"^(MY_PHOTO|MY_PAINTING|DOWNLOAD_\w+) = (.*?)\s*(?:#|$)", source,
                               re.MULTILINE)
            assert flags and all(value in ("None", "False") for _, value in flags), (
                f"{path.name}: a cell that uploads or downloads must be behind a flag that is off: "
                f"{source[:120]}")


def test_every_picture_the_readme_shows_exists():
    root = NOTEBOOKS[0].parent.parent
    readme = (root / "README.md").read_text()
    local = [src for src in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", readme) if not src.startswith("https://")]
    assert local, "the README shows no pictures?"
    missing = [src for src in local if not (root / src).is_file()]
    assert not missing, f"the README shows pictures that do not exist: {missing}"
