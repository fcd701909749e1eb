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
            assert output.get("name") != "stderr", f"{path.name}: stderr output: {''.join(output['text'])[:200]}"
            text = json.dumps(output.get("text", "")) + json.dumps(output.get("data", {}).get("text/plain", ""))
            assert not re.search(r"/(root|tmp|home)/", text), f"{path.name}: machine path in an output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nbval_markers_are_alone_on_their_line(path):
    for cell in _code_cells(_load(path)):
        for line in "".join(cell["source"]).splitlines():
            if "NBVAL_" in line and line.lstrip().startswith("#"):
                assert re.fullmatch(r"\s*# NBVAL_(IGNORE_OUTPUT|SKIP|CHECK_OUTPUT|RAISES_EXCEPTION)\s*", line), (
                    f"{path.name}: nbval ignores a marker with text after it: {line!r}")


def test_setup_cell_is_identical_everywhere():
    setups = {p.name: next("".join(c["source"]) for c in _code_cells(_load(p)) if "IN_COLAB" in "".join(c["source"]))
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
