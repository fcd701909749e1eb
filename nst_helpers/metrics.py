"""Measurements of a result that do not depend on the method's own loss.

:func:`edge_ratios`: how much each side of the picture was painted, relative to the
interior.  A ratio well below 1 on one side is an unpainted strip (Keras' VGG19
pooling drops the last row of an odd side, so the deep layers never see the bottom
rows: :data:`nst_helpers.model.POOL_PADDINGS`).
Derived in notebook 09, §6 ("The picture's own edges").
"""

from __future__ import annotations

import numpy as np

__all__ = ["EDGE_STRIP", "edge_ratios"]

EDGE_STRIP = 6  # pixels: the outer strip of each side


def edge_ratios(output: np.ndarray, photo: np.ndarray, strip: int = EDGE_STRIP) -> dict[str, float]:
    """Mean ``|output - photo|`` over the outer ``strip`` pixels of each side, divided by the interior's.

    Args:
        output: the stylised ``(h, w, 3)`` image in ``[0, 1]``.
        photo: the content image at the same size.
        strip: the width of each side's strip in pixels.

    Returns:
        ``{"top": ..., "bottom": ..., "left": ..., "right": ...}``; 1 means the side
        changed as much as the interior.

    Example:
        >>> ratios = edge_ratios(result.image, nh.images.resize_long_side(photo, 384))  # doctest: +SKIP
    """
    output, photo = np.asarray(output, np.float32), np.asarray(photo, np.float32)
    if output.shape != photo.shape or min(output.shape[:2]) <= 2 * strip:
        raise ValueError(f"edge_ratios needs two images of one shape, larger than 2 x {strip} px; "
                         f"got {output.shape} and {photo.shape}")
    change = np.abs(output - photo).mean(axis=-1)
    inner = float(change[strip:-strip, strip:-strip].mean())
    sides = dict(top=change[:strip], bottom=change[-strip:], left=change[:, :strip], right=change[:, -strip:])
    return {side: float(values.mean()) / max(inner, 1e-12) for side, values in sides.items()}
