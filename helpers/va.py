"""Valence and arousal are rated 1-9 at every edge (files, CLI, sliders, plots) and live in
[0, 1] inside the models. These two functions are the only place that converts.

The original project divided by 9, which maps the lowest rating 1 to 0.11 instead of 0;
``(x - 1) / 8`` maps 1 -> 0 and 9 -> 1.
"""

RATING_MIN = 1.0
RATING_MAX = 9.0


def rating_to_unit(rating):
    """1-9 rating (float, numpy array or tensor) -> [0, 1]."""
    return (rating - RATING_MIN) / (RATING_MAX - RATING_MIN)


def unit_to_rating(unit):
    """[0, 1] model value -> 1-9 rating."""
    return unit * (RATING_MAX - RATING_MIN) + RATING_MIN
