"""Checks for the notebooks' exercises: each fails, with a message, until the exercise is done.

An exercise cell ends with ``nh.exercises.report(nh.exercises.check_..., answer)``; the
check raises :class:`NotDone` saying what is wrong, or returns a short confirmation, and
``report`` prints ``not done yet: ...`` or ``check passed: ...``.  The committed notebooks
keep the placeholders, so they print "not done yet" (a fixed text: nbval compares it);
``tests/test_exercises.py`` runs every check on the placeholder (it must fail) and on the
solution folded under the exercise (it must pass).

The checks live in one module per notebook (``nb01`` ... ``nb12``); every name is re-exported
here, so a notebook writes ``nh.exercises.check_<name>``.  A check builds its own seeded
inputs and compares the learner's answer with a reference, so an exercise cell needs nothing
from the cells above it.
"""

from __future__ import annotations

import importlib as _importlib
import pkgutil as _pkgutil

from .core import NotDone, report

__all__ = ["NotDone", "report"]


def _collect() -> None:
    """Re-export every ``nbNN`` module's ``__all__``; two notebooks may not use one name."""
    owner: dict[str, str] = {}
    for info in sorted(_pkgutil.iter_modules(__path__), key=lambda info: info.name):
        if not info.name.startswith("nb"):
            continue
        module = _importlib.import_module(f"{__name__}.{info.name}")
        for name in module.__all__:
            if name in owner or name in __all__[:2]:
                raise ImportError(f"nst_helpers.exercises.{info.name} and {owner.get(name, 'core')} "
                                  f"both define {name!r}: rename one")
            owner[name] = info.name
            globals()[name] = getattr(module, name)
            __all__.append(name)


_collect()
