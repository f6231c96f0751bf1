"""Where the bright single-pixel dots of a set of images (snow, stars) sit on the pixel grid.

In a photograph, or in the procedural landscapes, a snowflake or a star falls anywhere, and
anywhere again in the next image. ``dot_positions`` measures two ways a generator can fail that:

* phase: over many images the dots' positions modulo 2 spread evenly over the four phases (even or
  odd row, even or odd column), a share of 1/4 each. A generator whose upsampling starts every 2x2
  block as one value (nearest x2) can draw its dots where the blocks meet, always on one phase: the
  stars come out on a lattice.
* repeats: how much more often two different images have a dot on the same pixel than dots placed
  at random would (1: no more often). A generator can glue its details to pixel positions (the
  "texture sticking" of Karras et al. 2021, StyleGAN3, section 1), the same stars in every sky.

On the shipped reference model's dark images 80% of the dots sat on one of the four phases and two
images shared a dot 13 times as often as chance; real ones 26% and 0.8 times (benchmarks/README.md).
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


def repeat_ratio(dots: np.ndarray, images: int, positions: int) -> float:
    """How many times more often two different images have a dot on the same pixel than if every image's dots
    were placed at random among ``positions`` pixels: 1 for dots anywhere, up to about ``positions`` / (dots per
    image) for the same dots in every image. NaN with dots in fewer than two images.

    With c_p images dotted at pixel p and k_i dots in image i, the ordered pairs of images sharing a dot number
    sum_p c_p (c_p - 1); placed at random they would number sum_{i != j} k_i k_j / positions."""
    per_pixel = np.unique(dots[:, 1:], axis=0, return_counts=True)[1] if len(dots) else np.zeros(0)
    per_image = np.bincount(dots[:, 0], minlength=images) if len(dots) else np.zeros(images)
    chance = (per_image.sum() ** 2 - np.square(per_image).sum()) / positions
    if chance <= 0:
        return float("nan")
    return float(np.sum(per_pixel * (per_pixel - 1.0)) / chance)


def phase_shares(dots: np.ndarray, period: int = 2) -> np.ndarray:
    """(period, period): the fraction of ``dots`` (rows of ``bright_dots``) whose row is r and column c modulo ``period``."""
    shares = np.zeros((period, period))
    np.add.at(shares, (dots[:, 1] % period, dots[:, 2] % period), 1)
    return shares / max(1, len(dots))


def dot_positions(images: np.ndarray, period: int = 2, contrast: float = 40.0) -> dict:
    """How the dots of ``images`` spread over the period x period phases of the pixel grid, and how often they repeat.

    ``shares``: ``phase_shares``; ``top_share``: the largest of them, 1 / period**2 where the dots fall anywhere
    and 1 where every dot sits on one phase; ``repeat_ratio``: see ``repeat_ratio``; ``positions``: the dots
    themselves (``bright_dots``), for other periods or maps; ``dots_per_image`` says how many dots that rests on."""
    dots = bright_dots(images, contrast)
    shares = phase_shares(dots, period)
    height, width = images.shape[1:3]
    return {"shares": shares, "top_share": float(shares.max()) if len(dots) else float("nan"),
            "even_share": 1 / period**2, "repeat_ratio": repeat_ratio(dots, len(images), (height - 4) * (width - 4)),
            "positions": dots, "images": len(images), "size": (height, width),
            "dots": len(dots), "dots_per_image": len(dots) / max(1, len(images))}
