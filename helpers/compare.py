"""GAN against diffusion (notebook 05): the pictures of the idea, the measurements of both models
on the same split and with the same judges, and the guidance-scale sweep.

Everything here takes models through ``helpers.generate`` (which tells the two kinds apart) and
scores them with ``helpers.metrics``, so both models are judged by the same code: the same test
images, the same VA regressor, the same Inception features of the real images.
"""

import re
import time
from datetime import datetime
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from helpers.diagnostics import pixel_spread
from helpers.generate import generate, starting_points, va_grid_ratings
from helpers.image_tensors import grid, to_tensor, to_uint8
from helpers.metrics import EVAL_PRESETS, colour_stats, correlation_text, inception_available, inception_features, spearman
from helpers.models.checkpoint import read_checkpoint
from helpers.rectified_flow import noisy_images, sample
from helpers.training.runs import read_config
from helpers.va import va_unit_tensor

# ---------------------------------------------------------------------------------------------
# The idea, in pictures


def noising_strip(image: np.ndarray, times=(0.0, 0.25, 0.5, 0.75, 1.0), seed: int = 0) -> np.ndarray:
    """One uint8 image (H, W, 3) along its straight path to noise, x_t = (1 - t) x0 + t eps: (len(times), H, W, 3)."""
    x0 = to_tensor(image[None]).expand(len(times), -1, -1, -1)
    noise = torch.randn(x0.shape[1:], generator=torch.Generator().manual_seed(seed)).expand_as(x0)
    return to_uint8(noisy_images(x0, noise, torch.tensor(times, dtype=torch.float32)))


@torch.inference_mode()
def sampling_trajectory(model, seed: int, valence: float, arousal: float, steps: int, guidance: float) -> dict:
    """One sample's way from noise: {"times", "states" (x_t before each step, then the image),
    "predictions" (the image the model expects at each step, x_t - t v)}, images as uint8."""
    va = va_unit_tensor(valence, arousal, 1)
    trajectory = []
    final = sample(model, starting_points(model, [seed]), va, steps, guidance, trajectory=trajectory)
    return {"times": [t for t, _, _ in trajectory] + [0.0],
            "states": np.concatenate([to_uint8(x) for _, x, _ in trajectory] + [to_uint8(final)]),
            "predictions": np.concatenate([to_uint8(x0) for _, _, x0 in trajectory] + [to_uint8(final)])}


def strip_figure(rows: dict, labels: list, scale: float = 1.5):
    """Rows of uint8 images ({row title: (N, H, W, 3)}), one column label per image."""
    count = len(labels)
    figure, axes = plt.subplots(len(rows), count, figsize=(scale * count, scale * len(rows) + 0.4), squeeze=False)
    for row, (title, images) in enumerate(rows.items()):
        for column, axis in enumerate(axes[row]):
            axis.imshow(images[column])
            axis.set_xticks([])
            axis.set_yticks([])
            if row == 0:
                axis.set_title(labels[column], fontsize=8)
        axes[row, 0].set_ylabel(title, fontsize=8)
    figure.tight_layout()
    return figure


# ---------------------------------------------------------------------------------------------
# Costs: training time, time per image, slider latency


def _log_times(run_dir) -> tuple:
    """(first, last) timestamps of a run's log.txt, as datetimes."""
    stamps = re.findall(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) ", (Path(run_dir) / "log.txt").read_text(), re.M)
    return datetime.fromisoformat(stamps[0]), datetime.fromisoformat(stamps[-1])


def training_minutes(checkpoint) -> dict:
    """Wall-clock training minutes of the run(s) behind a checkpoint, from their log.txt (first to
    last line; a run resumed after a pause counts the pause too). A GAN's includes its VAE run.
    {"total", and per part "vae"/"gan" or "diffusion"}; None for a part without its run folder."""
    def minutes(path):
        run_dir = read_checkpoint(path)["extra"].get("run_dir")
        if run_dir is None or not (Path(run_dir) / "log.txt").is_file():
            return None
        first, last = _log_times(run_dir)
        return (last - first).total_seconds() / 60, Path(run_dir)

    found = minutes(checkpoint)
    if found is None:
        return {"total": None}
    if read_checkpoint(checkpoint)["kind"] == "diffusion":
        return {"diffusion": found[0], "total": found[0]}
    vae_path = read_config(found[1]).get("vae")
    vae = minutes(vae_path) if vae_path and Path(vae_path).is_file() else None
    return {"vae": vae[0] if vae else None, "gan": found[0], "total": found[0] + (vae[0] if vae else 0.0)}


def milliseconds_per_image(model, count: int = 32, **sampling) -> float:
    """Generation time per image in a batch of ``count`` (all threads), after one warm-up image."""
    generate(model, 5.0, 5.0, [0], **sampling)
    started = time.perf_counter()
    generate(model, 5.0, 5.0, np.arange(count), **sampling)
    return (time.perf_counter() - started) * 1000 / count


def slider_milliseconds(model, count: int = 4, repeats: int = 3, **sampling) -> float:
    """One slider update of the explorer (``helpers.widgets``): ``count`` images on one thread plus
    the PNG, the median of ``repeats``."""
    from helpers.widgets import VAExplorer

    explorer = VAExplorer(model, count=count, **sampling)
    times = []
    for index in range(repeats):
        explorer.valence.value = 3.0 + index  # what a drag does: re-render
        times.append(explorer.last_milliseconds)
    return float(np.median(times))


def model_costs(model, checkpoint, **sampling) -> dict:
    """{"train_minutes", "ms_per_image", "slider_ms", "passes"} of a model (``sampling``: the
    diffusion model's steps and guidance; "passes" counts network evaluations per image)."""
    passes = 1
    if sampling:
        passes = sampling["steps"] * (1 if sampling["guidance"] in (0, 1) else 2)
    return {"train_minutes": training_minutes(checkpoint)["total"], "ms_per_image": milliseconds_per_image(model, **sampling),
            "slider_ms": slider_milliseconds(model, **sampling), "passes": passes}


# ---------------------------------------------------------------------------------------------
# The same metrics for both


def evaluate_models(models: dict, train, test, preset: str, regressor, progress: bool = True) -> dict:
    """{name: metrics} for {name: (model, sampling dict)}, all scored by ``evaluate`` against the
    same test images with the same regressor and the same Inception features of the real and the
    training images (computed once here)."""
    from helpers.evaluate_checkpoint import evaluate_generator

    settings = EVAL_PRESETS[preset]
    count = min(settings["memorisation_train"] or len(train), len(train))
    rows = np.sort(np.random.default_rng(0).choice(len(train), count, replace=False))
    real_features = train_features = None
    if inception_available():
        real_features = inception_features(test.images, progress=progress)
        train_features = inception_features(train.images[rows], progress=progress)
    return {name: evaluate_generator(model, train, test, preset, progress, regressor, real_features, train_features,
                                     **sampling)
            for name, (model, sampling) in models.items()}


def comparison_table(metrics: dict, costs: dict):
    """A pandas DataFrame, one column per model: realism, VA control, diversity, memorisation
    (from ``evaluate_models``) and costs ({name: {"train_minutes", "ms_per_image", "slider_ms"}})."""
    import pandas as pd

    def kid(m):
        r = m["realism"]
        return f"{r['kid_mean']:.4f} ± {r['kid_std'] or 0:.4f} (floor {r['floor_kid_mean']:.4f}, N {r['n_fake']} vs {r['n_real']})"

    def control(m, axis):
        c = m["va_control"]
        return f"{correlation_text(c[f'{axis}_spearman'])} (ceiling {correlation_text(c[f'ceiling_{axis}_spearman'])})"

    def number(value, digits):
        return "n/a" if value is None else f"{value:.{digits}f}"

    rows = {
        "KID, test split (lower is better)": {name: kid(m) for name, m in metrics.items()},
        "valence Spearman": {name: control(m, "valence") for name, m in metrics.items()},
        "arousal Spearman": {name: control(m, "arousal") for name, m in metrics.items()},
        "diversity at V = A = 5 (real, mixed VA)": {
            name: f"{m['diversity']['value']:.3f} ({m['diversity']['real_reference']:.3f}, {m['diversity']['measure']})"
            for name, m in metrics.items()},
        "copy fraction (0.05 without copying)": {
            name: number(m["memorisation"].get("copy_fraction"), 3) for name, m in metrics.items()},
        "training minutes": {name: number(costs[name].get("train_minutes"), 1) for name in metrics},
        "ms per image (batch, all threads)": {name: number(costs[name]["ms_per_image"], 1) for name in metrics},
        "slider update, 4 images (ms, 1 thread)": {name: number(costs[name]["slider_ms"], 0) for name in metrics},
    }
    return pd.DataFrame(rows).T


# ---------------------------------------------------------------------------------------------
# Guidance


def guidance_sweep(model, regressor, scales=(0.0, 1.0, 2.0, 5.0), steps: int = 16, cells: int = 5,
                   seeds_per_cell: int = 2, diversity_count: int = 16) -> dict:
    """What the guidance scale does, per scale: VA control (the regressor's Spearman on a cells x
    cells grid of requests, ``seeds_per_cell`` seeds each), variety at V = A = 5 (pixel spread of
    ``diversity_count`` seeds), mean saturation and brightness of the grid images, and one image
    per grid cell for seed 0. {"scales", "valence_spearman", ..., "grids"}."""
    valence, arousal = va_grid_ratings(cells)
    valence, arousal = np.repeat(valence, seeds_per_cell), np.repeat(arousal, seeds_per_cell)
    seeds = np.tile(np.arange(seeds_per_cell), cells * cells)
    out = {key: [] for key in ("valence_spearman", "arousal_spearman", "spread", "saturation", "brightness", "grids")}
    for scale in scales:
        images = generate(model, valence, arousal, seeds, steps=steps, guidance=scale)
        predicted_valence, predicted_arousal = regressor.predict(images)
        colours = colour_stats(images)
        out["valence_spearman"].append(spearman(predicted_valence, valence))
        out["arousal_spearman"].append(spearman(predicted_arousal, arousal))
        out["saturation"].append(float(colours["saturation"].mean()))
        out["brightness"].append(float(colours["brightness"].mean()))
        out["spread"].append(pixel_spread(generate(model, 5.0, 5.0, np.arange(100, 100 + diversity_count),
                                                   steps=steps, guidance=scale)))
        out["grids"].append(images[::seeds_per_cell])
    return {"scales": list(scales), "steps": steps, "cells": cells, "seeds_per_cell": seeds_per_cell,
            "diversity_count": diversity_count, **out}


def guidance_sweep_figure(sweep: dict, real_saturation: float = None):
    """The VA grid (seed 0) at each guidance scale, then the numbers against the scale."""
    scales, cells = sweep["scales"], sweep["cells"]
    figure = plt.figure(figsize=(3.2 * len(scales), 7.0), layout="constrained")
    top, bottom = figure.subfigures(2, 1, height_ratios=[1.25, 1])
    axes = top.subplots(1, len(scales), squeeze=False)[0]
    for axis, scale, images in zip(axes, scales, sweep["grids"]):
        axis.imshow(grid(images, cells, padding=1))
        axis.set_title(f"guidance {scale:g}", fontsize=10)
        axis.axis("off")
    top.suptitle("one seed over the VA grid (valence across 1..9, arousal down 9..1)", fontsize=10)
    control, variety, colour = bottom.subplots(1, 3)
    control.plot(scales, sweep["valence_spearman"], "o-", label="valence")
    control.plot(scales, sweep["arousal_spearman"], "o-", label="arousal")
    control.set(xlabel="guidance scale", ylabel="Spearman (regressor vs request)", title="VA control")
    control.legend(fontsize=8)
    variety.plot(scales, sweep["spread"], "o-", color="C2")
    variety.set(xlabel="guidance scale", ylabel="pixel spread", title=f"variety at V = A = 5 ({sweep['diversity_count']} seeds)")
    colour.plot(scales, sweep["saturation"], "o-", color="C3", label="saturation")
    colour.plot(scales, sweep["brightness"], "o-", color="C4", label="brightness")
    if real_saturation is not None:
        colour.axhline(real_saturation, color="C3", ls=":", label="real saturation")
    colour.set(xlabel="guidance scale", title="colour of the grid images")
    colour.legend(fontsize=8)
    return figure
