"""What every exercise check shares: the failure type and the one-line report.

An exercise cell ends with ``nh.exercises.report(check, answer)``: it runs ``check``,
which raises :class:`NotDone` with what is wrong (or returns a short confirmation),
and prints ``check passed: ...`` or ``not done yet: ...``.
"""

from __future__ import annotations

from typing import Callable

__all__ = ["NotDone", "report"]


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
