"""Does the generator copy its training images? A nearest-neighbour test that can fail.

Held-out real images (never trained on) set the scale: their distances to the nearest
training image say how close a *new* image from the same distribution comes to the training
set. ``threshold`` is the 5th percentile of those distances. A generator that samples new
scenes puts about 5% of its images closer to a training image than that, as new real images
do; one that reproduces training images puts far more there (all of them, for exact copies).
This is the "closer than held-out data" idea of Meehan et al. (AISTATS 2020, "A non-parametric
test to detect data-copying in generative models") reduced to one number.

Distances are Euclidean in a feature space: ``evaluate`` uses the Inception-v3 pool features
it computes for KID (``SPACE_DESCRIPTION``), where near-copies that are shifted or re-coloured
a little stay near, unlike in pixel space.
"""

import numpy as np

SPACE_DESCRIPTION = "Inception-v3 pool3 features (2048-d), Euclidean distance"
HELD_OUT_PERCENTILE = 5.0


def nearest_neighbour_distances(queries: np.ndarray, references: np.ndarray, chunk_size: int = 256) -> np.ndarray:
    """For each query row (N, D), the Euclidean distance to its nearest reference row (M, D)."""
    return nearest_neighbours(queries, references, chunk_size)[1]


def nearest_neighbours(queries: np.ndarray, references: np.ndarray, chunk_size: int = 256) -> tuple:
    """(index, distance) of each query row's nearest reference row: two arrays of shape (N,)."""
    queries = np.asarray(queries, dtype=np.float64)
    references = np.asarray(references, dtype=np.float64)
    reference_squared = (references**2).sum(axis=1)
    nearest = np.empty(len(queries))
    indices = np.empty(len(queries), dtype=np.int64)
    # Chunks bound the (chunk x references) distance matrix in memory.
    for start in range(0, len(queries), chunk_size):
        chunk = queries[start : start + chunk_size]
        squared = (chunk**2).sum(axis=1)[:, None] + reference_squared[None, :] - 2.0 * chunk @ references.T
        # The expansion above finds the neighbour fast but cancels badly near 0; an exact copy
        # must read 0, so the distance to the chosen neighbour is recomputed directly.
        indices[start : start + len(chunk)] = squared.argmin(axis=1)
        neighbours = references[indices[start : start + len(chunk)]]
        nearest[start : start + len(chunk)] = np.sqrt(((chunk - neighbours) ** 2).sum(axis=1))
    return indices, nearest


def copy_fraction(generated: np.ndarray, train: np.ndarray, held_out: np.ndarray,
                  percentile: float = HELD_OUT_PERCENTILE) -> dict:
    """The fraction of generated rows closer to a training row than the ``percentile``-th
    percentile of held-out-to-train nearest-neighbour distances (all three: feature rows).

    About ``percentile`` / 100 for a generator that does not copy; near 1 for one that does.
    """
    held_out_nearest = nearest_neighbour_distances(held_out, train)
    threshold = float(np.percentile(held_out_nearest, percentile))
    generated_nearest = nearest_neighbour_distances(generated, train)
    return {
        "copy_fraction": float((generated_nearest < threshold).mean()),
        "expected_without_copying": percentile / 100,
        "threshold": threshold,
        "median_generated_to_train": float(np.median(generated_nearest)),
        "median_held_out_to_train": float(np.median(held_out_nearest)),
        "n_generated": int(len(generated)),
        "n_held_out": int(len(held_out)),
        "n_train": int(len(train)),
    }
