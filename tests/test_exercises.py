"""Every exercise checked both ways: untouched it says "not done yet", solved it passes.

An exercise cell ends with ``nh.exercises.report(check, answer)``.  For each one, the
cell is run as committed (its check must fail with a message), then the solution from
the next markdown cell's ``<details>`` block is run and the cell's ``report`` line again
(its check must pass).  The exercise cells are self-contained (``np``, ``tf``, ``plt`` and
``nh`` only): each check builds its own seeded inputs, so no earlier cell is needed.

Every exercise a notebook announces ("**Exercise N · ..." or "### Exercise N · ...") must
have such a cell: an exercise without a check would let a learner who skipped it see green.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

import nst_helpers as nh  # noqa: E402

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOLUTION = re.compile(r"<summary>Solution</summary>\s*```python\n(.*?)```", re.DOTALL)
ANNOUNCED = re.compile(r"^(?:### |\*\*)Exercise (\d+) ·", re.MULTILINE)


def _exercises():
    found = []
    for path in NOTEBOOKS:
        cells = nbformat.read(path, as_version=4).cells
        for i, cell in enumerate(cells):
            if cell.cell_type == "code" and "nh.exercises.report(" in cell.source:
                solution = SOLUTION.search(cells[i + 1].source) if i + 1 < len(cells) else None
                found.append(pytest.param(cell.source, solution.group(1) if solution else None,
                                          id=f"{path.stem[:2]}-cell{i}"))
    return found


EXERCISES = _exercises()


def _run(source: str, namespace: dict) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<exercise>", "exec"), namespace)  # noqa: S102 (the notebooks' own cells)
    return out.getvalue()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem[:2])
def test_every_announced_exercise_has_a_checked_cell(path):
    """The notebook's "Exercise N" headings (N = 1, 2, ...) match its ``report`` cells, one each."""
    cells = nbformat.read(path, as_version=4).cells
    announced = [int(n) for cell in cells if cell.cell_type == "markdown"
                 for n in ANNOUNCED.findall(cell.source)]
    checked = sum(cell.cell_type == "code" and "nh.exercises.report(" in cell.source for cell in cells)
    assert announced, f"{path.name} announces no exercise"
    assert announced == list(range(1, len(announced) + 1)), f"{path.name}: exercises numbered {announced}"
    assert checked == len(announced), f"{path.name}: {len(announced)} exercises, {checked} checked cells"


@pytest.mark.parametrize("cell, solution", EXERCISES)
def test_check_fails_untouched_and_passes_solved(cell, solution):
    assert solution is not None, "the exercise has no collapsed solution in the next markdown cell"
    namespace = dict(np=np, tf=tf, plt=plt, nh=nh)
    untouched = _run(cell, namespace)
    assert untouched.startswith("not done yet: "), untouched
    report_lines = "\n".join(line for line in cell.splitlines() if "nh.exercises.report(" in line)
    solved = _run(solution + "\n" + report_lines, namespace)
    assert solved.startswith("check passed: "), solved
    plt.close("all")


def test_report_prints_one_line_either_way(capsys):
    def check(value):
        if value != 1:
            raise nh.exercises.NotDone("value should be 1")
        return "one"

    assert nh.exercises.report(check, 1) is True
    assert nh.exercises.report(check, 2) is False
    assert capsys.readouterr().out == "check passed: one\nnot done yet: value should be 1\n"
