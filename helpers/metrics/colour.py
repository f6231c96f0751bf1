"""Per-image colour statistics and how they move with valence and arousal.

Colour is the most direct channel through which a landscape carries affect: Valdez & Mehrabian
(1994, "Effects of color on emotions") found brightness and saturation predict pleasure and
saturation predicts arousal, with hue mattering less. Comparing these slopes for generated images (against the
requested VA) with the same slopes for real images (against their labels) shows whether the
generator learned the association the data has, or an exaggerated or absent one.

Definitions (all in [0, 1] except warmth, in [-1, 1]; each is the mean over the image's pixels):

* brightness: luma, Rec. 601: 0.299 R + 0.587 G + 0.114 B (perceived lightness, rather than
  HSV V = max(R, G, B), which calls pure blue as bright as white);
* saturation: HSV S = (max - min) / max, 0 for black pixels;
* warmth: (R - B) / 255, positive for red/orange, negative for blue.
"""

import numpy as np

from helpers.metrics.correlation import least_squares_slope, pearson

COLOUR_STATS = ("brightness", "saturation", "warmth")
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])


def colour_stats(images: np.ndarray, chunk_size: int = 512) -> dict[str, np.ndarray]:
    """Brightness, saturation and warmth per image of uint8 (N, H, W, 3): arrays of shape (N,)."""
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"colour_stats needs images shaped (N, H, W, 3); got {images.shape}.")
    stats = {name: np.empty(len(images)) for name in COLOUR_STATS}
    # Chunks bound the float copy to chunk_size images at a time.
    for start in range(0, len(images), chunk_size):
        pixels = images[start : start + chunk_size].astype(np.float64) / 255.0
        rows = slice(start, start + len(pixels))
        brightest, darkest = pixels.max(axis=-1), pixels.min(axis=-1)
        saturation = np.divide(brightest - darkest, brightest, out=np.zeros_like(brightest), where=brightest > 0)
        stats["brightness"][rows] = (pixels @ LUMA_WEIGHTS).mean(axis=(1, 2))
        stats["saturation"][rows] = saturation.mean(axis=(1, 2))
        stats["warmth"][rows] = (pixels[..., 0] - pixels[..., 2]).mean(axis=(1, 2))
    return stats


def affect_slopes(images: np.ndarray, valence: np.ndarray, arousal: np.ndarray) -> dict[str, dict[str, float]]:
    """Least-squares slope (per rating point, VA on 1-9) and Pearson r of each colour statistic
    against valence and against arousal, each fitted on its own (simple regression).

    Returns ``{"brightness": {"valence_slope", "valence_pearson", "arousal_slope",
    "arousal_pearson", "mean"}, "saturation": {...}, "warmth": {...}}``.
    """
    stats = colour_stats(images)
    result = {}
    for name, values in stats.items():
        result[name] = {
            "valence_slope": least_squares_slope(valence, values),
            "valence_pearson": pearson(valence, values),
            "arousal_slope": least_squares_slope(arousal, values),
            "arousal_pearson": pearson(arousal, values),
            "mean": float(values.mean()),
        }
    return result
