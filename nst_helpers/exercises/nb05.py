"""Checks for notebook 05's exercises (style representation: Gram matrices and texture synthesis)."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .core import NotDone, as_array

__all__ = ["check_gram_with_loops", "check_could_be_gram", "check_shuffle_tiles",
           "check_relative_style_error"]

# Section 2's tiny feature map: 2 x 2 positions (A, B, C, D), 3 channels.
_TINY = np.array([[[1, 0, 2], [0, 1, 1]], [[3, 0, 0], [1, 2, 0]]], dtype=np.float64)


def _features(seed: int, shape: tuple) -> np.ndarray:
    """Seeded ReLU-like features: non-negative, with a positive mean (as VGG's are)."""
    return np.maximum(np.random.default_rng(seed).normal(0.3, 1.0, size=shape), 0.0)


def _reference_gram(features: np.ndarray) -> np.ndarray:
    flat = np.asarray(features, dtype=np.float64).reshape(-1, features.shape[-1])
    return flat.T @ flat / flat.shape[0]


def check_gram_with_loops(my_gram: Callable) -> str:
    """Exercise 1 (notebook 05): ``my_gram(features)``, the Gram matrix of ``(h, w, c)`` features.

    Entry ``(i, j)`` must be the mean over the ``h * w`` positions of channel ``i`` times channel ``j``.

    Args:
        my_gram: the learner's function of one ``(h, w, c)`` array, returning a ``(c, c)`` array.
    """
    tiny = as_array(my_gram(_TINY.copy()), "my_gram")
    if tiny.shape != (3, 3):
        raise NotDone("my_gram(tiny) must be a (channels, channels) = (3, 3) array")
    if not np.any(tiny):
        raise NotDone("my_gram returns only zeros: fill G[i, j] with the mean of channel i times channel j")
    if np.allclose(tiny, _reference_gram(_TINY) * 4):
        raise NotDone("that is the sum over positions: divide by the number of positions h * w (use a mean)")
    if not np.allclose(tiny, _reference_gram(_TINY)):
        raise NotDone("my_gram(tiny) should be section 2's matrix (G[0, 0] = 2.75, G[0, 2] = 0.5, "
                      "G[1, 2] = 0.25): the mean over positions of features[:, :, i] * features[:, :, j]")
    for seed, shape in ((1, (5, 4, 6)), (2, (3, 7, 2))):  # not square, more or fewer channels
        features = _features(seed, shape)
        value = as_array(my_gram(features.copy()), "my_gram")
        if value.shape != (shape[2], shape[2]) or not np.allclose(value, _reference_gram(features),
                                                                  rtol=1e-5, atol=1e-8):
            raise NotDone("right on the tiny example but not on (h, w, c) random features with h != w: "
                          "loop over the c channels, and average over all h * w positions")
    return "G[i, j] = mean over positions of channel i times channel j, as nh.gram_matrix computes it"


def check_could_be_gram(could_be_gram: Callable) -> str:
    """Exercise 2 (notebook 05): ``could_be_gram(G)``, whether a square matrix can be a Gram matrix.

    True exactly when ``G`` is symmetric and has no negative eigenvalue, up to rounding.

    Args:
        could_be_gram: the learner's function of one ``(n, n)`` array, returning True or False.
    """
    rank_deficient = _reference_gram(_features(3, (2, 2, 6)))  # 4 positions, 6 channels: rank <= 4
    rank_deficient = rank_deficient / np.abs(rank_deficient).max() - 1e-12 * np.eye(6)  # rounding: -1e-12
    negative_off = np.array([[1.0, -0.5], [-0.5, 1.0]])  # a Gram: features that rarely meet
    not_symmetric = np.array([[2.0, 1.0], [0.0, 2.0]])  # eigenvalues 2, 2
    indefinite = np.array([[1.0, 2.0], [2.0, 1.0]])  # positive entries, eigenvalue -1
    negative_diagonal = np.diag([1.0, -0.01, 3.0])
    cases = [
        (_reference_gram(_features(4, (8, 8, 5))), True, "a real Gram matrix (of random features) "
                                                         "must give True"),
        (rank_deficient, True, "a Gram matrix of 4 positions and 6 channels has eigenvalues that are 0 up "
                               "to rounding (here -1e-12): allow a small tolerance, e.g. "
                               ">= -1e-6 times the largest"),
        (negative_off, True, "[[1, -0.5], [-0.5, 1]] is a Gram matrix (channels that rarely meet): "
                             "negative entries are allowed, negative eigenvalues are not"),
        (indefinite, False, "[[1, 2], [2, 1]] has positive entries but the eigenvalue -1: "
                            "check the eigenvalues (np.linalg.eigvalsh), not the entries"),
        (not_symmetric, False, "[[2, 1], [0, 2]] is not symmetric, so it is no Gram matrix "
                               "(np.linalg.eigvalsh reads only one triangle: test the symmetry too)"),
        (negative_diagonal, False, "a negative diagonal entry is a negative mean of squares: "
                                   "diag(1, -0.01, 3) must give False"),
    ]
    for matrix, expected, message in cases:
        answer = could_be_gram(matrix.copy())
        if answer is None or not isinstance(answer, (bool, np.bool_)):
            raise NotDone("could_be_gram must return True or False")
        if bool(answer) != expected:
            raise NotDone(message)
    return "a Gram matrix is symmetric with no negative eigenvalue (positive semi-definite)"


def _test_image(size: int = 64) -> np.ndarray:
    return np.random.default_rng(5).uniform(0, 1, (size, size, 3)).astype(np.float32)


def _tiles(image: np.ndarray, tile: int) -> list[bytes]:
    n = image.shape[0] // tile
    return [np.ascontiguousarray(image[i * tile:(i + 1) * tile, j * tile:(j + 1) * tile]).tobytes()
            for i in range(n) for j in range(n)]


def check_shuffle_tiles(shuffle_tiles: Callable) -> str:
    """Exercise 3 (notebook 05): ``shuffle_tiles(image, tile, seed)`` puts the square tiles in random order.

    The result must have the image's shape, hold every ``tile x tile`` tile of the image exactly once
    (unchanged, on the tile grid), and not be the image itself.

    Args:
        shuffle_tiles: the learner's function of a square ``(s, s, 3)`` image, the tile side (dividing
            ``s``) and a seed.
    """
    image = _test_image()
    for tile in (16, 32):
        results = [as_array(shuffle_tiles(image.copy(), tile, seed), "shuffle_tiles") for seed in (0, 1, 2)]
        if any(result.shape != image.shape for result in results):
            raise NotDone("shuffle_tiles must return an image of the same shape as the one it was given")
        if all(np.array_equal(result, image) for result in results):
            raise NotDone(f"with {tile}-pixel tiles the image came back unchanged: put the tiles in a random "
                          "order, e.g. np.random.default_rng(seed).permutation(len(tiles))")
        expected = sorted(_tiles(image, tile))
        for result in results:
            if sorted(_tiles(result.astype(np.float32), tile)) != expected:
                raise NotDone(f"with {tile}-pixel tiles the result is not the image's own tiles in another "
                              "order: move whole tile x tile squares, unchanged (no single pixels, no flips)")
    return "every tile kept, only their places changed: the layout is gone, the local texture is not"


def _reference_relative(value: np.ndarray, target: np.ndarray) -> float:
    return float(np.sum((value - target) ** 2) / np.sum(target**2))


def check_relative_style_error(relative_style_error: Callable) -> str:
    """Exercise 4 (notebook 05): ``relative_style_error(G, A)``, stylize's relative error of one Gram matrix.

    The squared error summed over the entries, divided by the target's energy: 0 for ``G == A``, 1 for
    ``G = 0``, and the same whatever the scale of the layer.

    Args:
        relative_style_error: the learner's function of two Gram matrices of one shape (NumPy arrays).
    """
    A = _reference_gram(_features(6, (6, 6, 8)))
    G = _reference_gram(_features(7, (6, 6, 8)))
    for value, target, message in (
            (A, A, "G == A is a perfect match: the error must be 0"),
            (np.zeros_like(A), A, "a Gram matrix of zeros must give exactly 1: "
                                  "divide by the sum of A squared"),
            (G, A, "divide the sum of (G - A) squared by the sum of A squared (the target's energy)"),
            (G * 1e3, A * 1e3, "multiplying both matrices by 1000 (a louder layer) must not change the "
                               "error: divide by the target's energy, sum(A ** 2)")):
        answer = relative_style_error(value.copy(), target.copy())
        if answer is None:
            raise NotDone("relative_style_error returned None: return the number you computed")
        try:
            answer = float(answer)
        except (TypeError, ValueError):
            raise NotDone("relative_style_error must return one number") from None
        if not np.isclose(answer, _reference_relative(value, target), rtol=1e-5, atol=1e-9):
            raise NotDone(message)
    return "sum((G - A)^2) / sum(A^2): 0 for a match, 1 for zeros, on every layer's scale"
