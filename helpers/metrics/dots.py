"""Where the bright single-pixel dots of a set of images (snow, stars) sit on the pixel grid.

In a photograph, or in the procedural landscapes, a snowflake or a star falls anywhere: over many
images the dots' positions modulo 2 spread evenly over the four phases (even or odd row, even or
odd column), a share of 1/4 each. A generator that upsamples with nearest x2 starts every 2x2
block as one value, and can learn to draw its dots where the 3x3 conv after it sees a block's
edge, which is always the same phase: the student sees stars on a lattice. ``dot_phases``
measures that share; on the shipped reference model's dark images 81% of the dots sat on one
of the four phases (benchmarks/README.md).
"""

import numpy as np
from scipy.ndimage import maximum_filter, median_filter


def bright_dots(images: np.ndarray, contrast: float = 40.0) -> np.ndarray:
    """(K, 3) rows (image, row, column) of the dots in uint8 (N, H, W, 3) images: pixels whose
    brightness (the mean of R, G and B) is the largest of their 3x3 neighbourhood and exceeds
    the median of their 5x5 neighbourhood by ``contrast`` levels (of 255). Pixels within two of
    the edge are left out, where the neighbourhoods would reach outside the image."""
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"bright_dots needs uint8 images of shape (N, H, W, 3), got {images.shape}")
    brightness = images.astype(np.float32).mean(axis=-1)
    peaks = brightness == maximum_filter(brightness, size=(1, 3, 3))
    peaks &= brightness - median_filter(brightness, size=(1, 5, 5)) > contrast
    peaks[:, :2] = peaks[:, -2:] = False
    peaks[:, :, :2] = peaks[:, :, -2:] = False
    return np.argwhere(peaks)


def dot_phases(images: np.ndarray, period: int = 2, contrast: float = 40.0) -> dict:
    """How the dots of ``images`` spread over the period x period phases of the pixel grid.

    ``shares[r, c]``: the fraction of all dots whose row is r and whose column is c modulo
    ``period``; ``top_share``: the largest of them, 1 / period**2 where the dots fall anywhere
    and 1 where every dot sits on one phase; ``dots_per_image`` says how many dots that rests on."""
    dots = bright_dots(images, contrast)
    shares = np.zeros((period, period))
    np.add.at(shares, (dots[:, 1] % period, dots[:, 2] % period), 1)
    shares /= max(1, len(dots))
    return {"shares": shares, "top_share": float(shares.max()) if len(dots) else float("nan"),
            "even_share": 1 / period**2, "dots": len(dots), "dots_per_image": len(dots) / max(1, len(images))}
