"""ruff over the package, with pyproject.toml's [tool.ruff] settings (skipped where ruff is not installed)."""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff() -> list[str] | None:
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    found = shutil.which("ruff")
    return [found] if found else None


def test_ruff_finds_no_problems():
    ruff = _ruff()
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -r requirements-dev.txt)")
    run = subprocess.run([*ruff, "check", "--no-cache", "--output-format", "concise", "nst_helpers"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    problems = [line for line in run.stdout.splitlines() if line.startswith("nst_helpers")]
    assert run.returncode == 0, (f"ruff found {len(problems)} problem(s) (fix them, or run "
                                 "`ruff check --fix nst_helpers`):\n" + (run.stdout + run.stderr).strip())
