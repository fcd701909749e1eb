"""What every exercise check shares: the failure type and the one-line report.

An exercise cell ends with ``nh.exercises.report(check, answer)``: it runs ``check``,
which raises :class:`NotDone` with what is wrong (or returns a short confirmation),
and prints ``check passed: ...`` or ``not done yet: ...``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["NotDone", "report", "as_number", "as_array"]


class NotDone(AssertionError):
    """An exercise's answer is missing or wrong; the message says what to change."""


def report(check: Callable, *answer: object) -> bool:
    """Run ``check(*answer)`` and print whether the exercise is done.

    A learner's code that raises (a placeholder returning ``None`` used in arithmetic, say) counts
    as not done, with the error's type and message, so a "Run all" goes on to the next cell.

    Args:
        check: one of this package's ``check_*`` functions.
        answer: the learner's answer (a function or a value), passed to ``check``.

    Returns:
        True when the check passed.
    """
    try:
        message = check(*answer)
    except NotDone as problem:
        print(f"not done yet: {problem}")
        return False
    except Exception as error:  # noqa: BLE001 (the learner's code failed: say so, do not stop "Run all")
        print(f"not done yet: your code raised {type(error).__name__}: {error}")
        return False
    print(f"check passed: {message}")
    return True


def as_number(value: object, what: str) -> float:
    """A learner's answer as one float, or :class:`NotDone` saying what ``what`` returned instead.

    Args:
        value: what the learner's function returned (a number, a 0-d array or tensor).
        what: the function's name, for the message.

    Returns:
        The value as a float (not checked for being finite: the caller says what that means).
    """
    if value is None:
        raise NotDone(f"{what} returned None: return a number")
    try:
        return float(np.asarray(value))
    except (TypeError, ValueError):
        raise NotDone(f"{what} must return one number, not {type(value).__name__}") from None


def as_array(value: object, what: str, hint: str = "return the array you computed") -> np.ndarray:
    """A learner's answer as a float64 array, or :class:`NotDone` saying what ``what`` returned instead.

    Args:
        value: what the learner's function returned (an array, a tensor or nested lists).
        what: the function's name, for the message.
        hint: what to return, said when the answer is None.

    Returns:
        The value as a ``float64`` NumPy array.
    """
    if value is None:
        raise NotDone(f"{what} returned None: {hint}")
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise NotDone(f"{what} must return a NumPy array, not {type(value).__name__}") from None
