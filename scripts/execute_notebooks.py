"""Execute notebooks top to bottom in a clean kernel, in place, and write their measured run time.

    .venv/bin/python scripts/execute_notebooks.py                 # every notebook
    .venv/bin/python scripts/execute_notebooks.py 04 06           # some, by number

For each notebook: a fresh kernel runs every cell from notebooks/ (as nbval and a learner
do), the outputs are written back, and the header's "**Run time**:" line is rewritten from
the wall time just measured, naming this machine's CPU.  The figures also go into
``nst_helpers/run_times.json``, with the seconds per iteration of doctor's smoke run on
the same machine, so that ``python -m nst_helpers doctor`` scales the very same table to
the machine it runs on.  Run it on a quiet machine: the times are published.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(ROOT))

from nst_helpers import doctor  # noqa: E402

RUN_TIME = re.compile(r"^\*\*Run time\*\*:.*$", re.MULTILINE)


def minutes_phrase(seconds: float) -> str:
    """'about half a minute', 'about 3 minutes': what a reader needs, not false precision."""
    if seconds < 45:
        return "under a minute"
    minutes = seconds / 60
    if minutes < 1.25:
        return "about a minute"
    if minutes < 10:
        halves = round(minutes * 2) / 2
        text = f"{halves:g}".replace(".5", "½")
        return f"about {text} minutes"
    return f"about {round(minutes)} minutes"


def run_time_line(seconds: float, cpu: str, date: str) -> str:
    return (f"**Run time**: {minutes_phrase(seconds)} on a {cpu} ({seconds:.0f} s for every cell, "
            f"measured {date} by `scripts/execute_notebooks.py`; `python -m nst_helpers doctor` "
            "estimates it for your machine).")


def cell_seconds(cell) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    try:
        start = datetime.datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
        end = datetime.datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
    except KeyError:
        return 0.0
    return (end - start).total_seconds()


def execute(path: Path, cpu: str, date: str) -> float:
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}},
                   record_timing=True).execute()
    seconds = time.perf_counter() - started
    slowest = sorted(((cell_seconds(cell), index) for index, cell in enumerate(nb.cells)), reverse=True)[:4]
    print(f"{path.name}: slowest cells " + ", ".join(f"[{i}] {t:.0f} s" for t, i in slowest), flush=True)
    for cell in nb.cells:  # timestamps would change at every execution: keep them out of git
        cell.get("metadata", {}).pop("execution", None)
    header = nb.cells[0]
    if not RUN_TIME.search(header.source):
        raise SystemExit(f"{path.name}: its first cell has no '**Run time**:' line to rewrite")
    header.source = RUN_TIME.sub(run_time_line(seconds, cpu, date), header.source, count=1)
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str]) -> int:
    wanted = argv or [""]
    paths = sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")
                   if any(p.name.startswith(w) for w in wanted))
    if not paths:
        raise SystemExit(f"no notebook matches {argv}")
    os.environ.pop("MPLBACKEND", None)  # the inline backend, as in nbval
    os.environ.setdefault("PYTHONHASHSEED", "0")
    cpu, date = doctor.cpu_description(), datetime.date.today().isoformat()
    table_path = doctor.RUN_TIMES_PATH
    table = json.loads(table_path.read_text()) if table_path.is_file() else {"machines": {}, "notebooks": {}}
    for path in paths:
        seconds = execute(path, cpu, date)
        print(f"{path.name:40s} {seconds:7.1f} s", flush=True)
        table["notebooks"][path.stem] = dict(seconds=round(seconds, 1), cpu=cpu, date=date)
        table_path.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")  # kept if a later one fails
    smoke = round(doctor.smoke_seconds_per_iteration(), 4)
    table["machines"][cpu] = dict(smoke_seconds_per_iteration_256=smoke, date=date)
    for path in paths:  # each time keeps the unit it was measured in (a shared machine's speed drifts)
        table["notebooks"][path.stem]["smoke_seconds_per_iteration_256"] = smoke
    print(f"smoke run: {smoke:.3f} s per iteration at 256 px on {cpu}")
    table_path.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
