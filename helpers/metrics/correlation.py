"""Correlations and slopes between a measured quantity and a rating, as plain floats.

Each returns NaN when one input is constant (a correlation is undefined there), never a warning.
"""

import math

import numpy as np
from scipy.stats import rankdata


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's linear correlation coefficient r in [-1, 1]."""
    x = np.asarray(x, dtype=np.float64) - np.mean(x)
    y = np.asarray(y, dtype=np.float64) - np.mean(y)
    denominator = np.sqrt((x**2).sum() * (y**2).sum())
    return float((x * y).sum() / denominator) if denominator > 0 else float("nan")


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation: Pearson's r of the ranks, ties given their average rank."""
    return pearson(rankdata(x), rankdata(y))


def least_squares_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Slope b of the least-squares line y = a + b x: how much y changes per unit of x."""
    x = np.asarray(x, dtype=np.float64) - np.mean(x)
    y = np.asarray(y, dtype=np.float64) - np.mean(y)
    denominator = (x**2).sum()
    return float((x * y).sum() / denominator) if denominator > 0 else float("nan")


def correlation_text(value) -> str:
    """A correlation as +0.93, or "undefined" where there is none (None or NaN: one side of the pairs is constant)."""
    return "undefined" if value is None or not math.isfinite(value) else f"{value:+.2f}"
