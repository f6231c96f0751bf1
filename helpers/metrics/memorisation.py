"""Does the generator copy its training images? Nearest-neighbour distances, pixel space 32x32.

For each generated image we find its nearest training image; for reference, the same for real
images the model never saw (held out). If generated images sit much closer to the training set
than new real images do (ratio of medians well below 1), the generator is reproducing its
training data rather than sampling new scenes (cf. Meehan et al., AISTATS 2020, "A non-parametric
test to detect data-copying in generative models", which compares the same two distributions).

Space, pinned: images are resized to 32x32 (bilinear, antialiased, rounded to uint8, as
``regressor.resize_uint8``), scaled to [0, 1], and compared by the root-mean-square pixel
difference, so 0 is an exact copy and 1 black versus white. Pixels rather than Inception
features because memorisation means near-copies, which pixels catch, and because featurising a
whole training set through Inception takes hours on a CPU.
"""

import numpy as np

from helpers.metrics.regressor import resize_uint8

MEMORISATION_SIZE = 32
SPACE_DESCRIPTION = "pixels at 32x32 (bilinear, antialiased), RMS difference of RGB in [0, 1]"


def _flat_pixels(images: np.ndarray) -> np.ndarray:
    return resize_uint8(images, MEMORISATION_SIZE).reshape(len(images), -1).astype(np.float64) / 255.0


def nearest_neighbour_distances(queries: np.ndarray, references: np.ndarray, chunk_size: int = 256) -> np.ndarray:
    """For each uint8 query image, the RMS pixel distance (at 32x32) to its nearest reference image."""
    query_pixels, reference_pixels = _flat_pixels(queries), _flat_pixels(references)
    reference_squared = (reference_pixels**2).sum(axis=1)
    nearest = np.empty(len(query_pixels))
    # Chunks bound the (chunk x references) distance matrix in memory.
    for start in range(0, len(query_pixels), chunk_size):
        chunk = query_pixels[start : start + chunk_size]
        squared = (chunk**2).sum(axis=1)[:, None] + reference_squared[None, :] - 2.0 * chunk @ reference_pixels.T
        # The expansion above finds the neighbour fast but cancels badly near 0; an exact copy
        # must read 0, so the distance to the chosen neighbour is recomputed directly.
        neighbours = reference_pixels[squared.argmin(axis=1)]
        nearest[start : start + len(chunk)] = ((chunk - neighbours) ** 2).sum(axis=1)
    return np.sqrt(nearest / query_pixels.shape[1])
