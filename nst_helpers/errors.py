"""Exceptions raised by nst_helpers.

Every error the package raises on bad input derives from :class:`NSTError`, and
its message says what went wrong *and* what to do about it.  The subclasses also
derive from the matching built-in exception, so ``except ValueError`` keeps
working for callers that do not know this package.
"""

__all__ = ["NSTError", "ImageError", "WeightsError", "LayerError", "OptionError", "MemoryBudgetError"]


class NSTError(Exception):
    """Base class of every error raised by nst_helpers."""


class ImageError(NSTError, ValueError):
    """An image (file, bytes or array) cannot be used; the message names the fix."""


class WeightsError(NSTError, RuntimeError):
    """VGG19 weights are missing, corrupt, tampered with or unsafe."""


class LayerError(NSTError, ValueError):
    """An unknown VGG layer name was requested."""


class OptionError(NSTError, ValueError):
    """An option of stylize() or the CLI is out of range or of the wrong type."""


class MemoryBudgetError(NSTError, MemoryError):
    """A run would need more memory than this machine has."""
