"""Every exercise checked both ways: untouched it says "not done yet", solved it passes.

An exercise cell ends with ``nh.exercises.report(check, answer)``.  For each one, the
cell is run as committed (its check must fail with a message), then the solution from
the next markdown cell's ``<details>`` block is run and the cell's ``report`` line again
(its check must pass).  The exercise cells of these notebooks are self-contained
(NumPy and ``nh`` only), so no earlier cell is needed.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import tensorflow as tf

import nst_helpers as nh

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOLUTION = re.compile(r"<summary>Solution</summary>\s*```python\n(.*?)```", re.DOTALL)


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


def test_the_exercises_are_found():
    assert len(EXERCISES) >= 4


@pytest.mark.parametrize("cell, solution", EXERCISES)
def test_check_fails_untouched_and_passes_solved(cell, solution):
    assert solution is not None, "the exercise has no collapsed solution in the next markdown cell"
    namespace = dict(np=np, tf=tf, nh=nh)
    untouched = _run(cell, namespace)
    assert untouched.startswith("not done yet: "), untouched
    report_lines = "\n".join(line for line in cell.splitlines() if "nh.exercises.report(" in line)
    solved = _run(solution + "\n" + report_lines, namespace)
    assert solved.startswith("check passed: "), solved


def test_report_prints_one_line_either_way(capsys):
    def check(value):
        if value != 1:
            raise nh.exercises.NotDone("value should be 1")
        return "one"

    assert nh.exercises.report(check, 1) is True
    assert nh.exercises.report(check, 2) is False
    assert capsys.readouterr().out == "check passed: one\nnot done yet: value should be 1\n"
