"""Valence and arousal are rated 1-9 at every edge (files, CLI, sliders, plots) and live in
[0, 1] inside the models. Every conversion and every check of a rating lives here.

The original project divided by 9, which maps the lowest rating 1 to 0.11 instead of 0;
``(x - 1) / 8`` maps 1 -> 0 and 9 -> 1.
"""

import numpy as np
import torch

RATING_MIN = 1.0
RATING_MAX = 9.0


def rating_to_unit(rating):
    """1-9 rating (float, numpy array or tensor) -> [0, 1]."""
    return (rating - RATING_MIN) / (RATING_MAX - RATING_MIN)


def unit_to_rating(unit):
    """[0, 1] model value -> 1-9 rating."""
    return unit * (RATING_MAX - RATING_MIN) + RATING_MIN


def check_ratings(name: str, ratings, count: int = None) -> np.ndarray:
    """``ratings`` as float64 (count,), or a ValueError naming the first row off the 1-9 scale."""
    ratings = np.asarray(ratings, dtype=np.float64)
    if count is not None and ratings.shape != (count,):
        raise ValueError(f"{name} must have one rating per image, shape ({count},); got {ratings.shape}.")
    bad = np.flatnonzero(~((ratings >= RATING_MIN) & (ratings <= RATING_MAX)))
    if len(bad):
        raise ValueError(
            f"{name} must be between 1 and 9; row {bad[0]} is {ratings.ravel()[bad[0]]} ({len(bad)} rows out of range). "
            "Convert [0, 1] model values with helpers.va.unit_to_rating."
        )
    return ratings


def va_unit_tensor(valence, arousal, count: int = None, device="cpu") -> torch.Tensor:
    """(count, 2) model-side VA in [0, 1] from 1-9 ratings (scalars are repeated to ``count``)."""
    if count is None:
        count = len(valence)
    valence = check_ratings("valence", np.broadcast_to(np.asarray(valence, np.float64), (count,)))
    arousal = check_ratings("arousal", np.broadcast_to(np.asarray(arousal, np.float64), (count,)))
    unit = np.stack([rating_to_unit(valence), rating_to_unit(arousal)], 1).astype(np.float32)
    return torch.as_tensor(unit, device=device)
