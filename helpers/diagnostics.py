"""Diagnostics of a trained model: what the discriminator, the ERUs, the EMA and the VA
regressor make of it, each as numbers and a figure. Readings of the numbers live in
``helpers.readings``."""

import base64
import io

import numpy as np
import matplotlib.pyplot as plt
import torch

from helpers.generate import generate, latents_for_seeds, va_grid_ratings
from helpers.image_tensors import grid, to_tensor
from helpers.models.eru import FiLMERU
from helpers.plotting import draw_va_grid, rating_label
from helpers.va import rating_to_unit, unit_to_rating, va_unit_tensor

VA_TICKS = range(1, 10)


# ---------------------------------------------------------------------------------------------
# The adversarial game, seen from the discriminator


@torch.no_grad()
def _scores(discriminator, images, valence, arousal, batch_size: int = 64) -> np.ndarray:
    device = next(discriminator.parameters()).device
    parts = []
    for start in range(0, len(images), batch_size):
        rows = slice(start, start + batch_size)
        va = va_unit_tensor(valence[rows], arousal[rows], device=device)
        parts.append(discriminator(to_tensor(images[rows], device), va)[0].float().cpu())
    return torch.cat(parts).numpy()


def discriminator_scores(discriminator, generator, held_out, train=None, count: int = 256, seed: int = 0) -> dict:
    """D's raw scores, without augmentation, on ``count`` held-out real images ("real"), on as many
    generated ones requested at the same labels ("fake", seeds ``seed``, ``seed + 1``, ...) and,
    given ``train``, on as many training images ("train"): arrays of shape (N,)."""
    picks = np.random.default_rng(seed).permutation(len(held_out))[:count]
    valence, arousal = held_out.valence[picks], held_out.arousal[picks]
    fakes = generate(generator, valence, arousal, seed + np.arange(len(picks)))
    scores = {"real": _scores(discriminator, held_out.images[picks], valence, arousal),
              "fake": _scores(discriminator, fakes, valence, arousal)}
    if train is not None:
        rows = np.random.default_rng(seed + 1).permutation(len(train))[:count]
        scores["train"] = _scores(discriminator, train.images[rows], train.valence[rows], train.arousal[rows])
    return scores


def discriminator_scores_figure(scores: dict, title: str = ""):
    """Histograms of D's scores on training, held-out real and generated images, with the hinge
    margins at -1 and +1."""
    figure, axis = plt.subplots(figsize=(9, 3.6))
    everything = np.concatenate(list(scores.values()))
    bins = np.linspace(min(everything.min(), -1.5), max(everything.max(), 1.5), 41)
    names = {"train": ("training images", "tab:green"), "real": ("held-out real images", "tab:blue"),
             "fake": ("generated images", "tab:red")}
    for key, (label, colour) in names.items():
        if key in scores:
            axis.hist(scores[key], bins=bins, alpha=0.45, color=colour,
                      label=f"{label}: mean {scores[key].mean():+.2f}, N {len(scores[key])}")
    for margin in (-1, 1):
        axis.axvline(margin, color="grey", ls="--", lw=0.8)
    axis.axvline(0, color="black", lw=0.8)
    axis.set(xlabel="D(x): positive means 'real'; the hinge loss stops pushing beyond +-1", ylabel="images",
             title=title or "the discriminator's scores")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


# ---------------------------------------------------------------------------------------------
# Generators compared on the same z


def va_corner_difference(generator, seeds=range(8)) -> float:
    """Mean absolute pixel difference (of 255) between G(z, V=1, A=1) and G(z, V=9, A=9), averaged
    over ``seeds``: how much the two opposite corners of the VA plane change one z's image."""
    seeds = np.asarray(list(seeds))
    low = generate(generator, 1.0, 1.0, seeds).astype(np.float64)
    high = generate(generator, 9.0, 9.0, seeds).astype(np.float64)
    return float(np.abs(low - high).mean())


def generators_side_by_side_figure(generators: dict, steps: int = 5, seed: int = 0, corner_seeds=range(8)):
    """{name: generator} as VA grids of the same z, each titled with its corner difference.
    Returns (figure, {name: corner difference})."""
    differences = {name: va_corner_difference(generator, corner_seeds) for name, generator in generators.items()}
    figure, axes = plt.subplots(1, len(generators), figsize=(5.6 * len(generators), 6.1), squeeze=False, layout="constrained")
    for axis, (name, generator) in zip(axes[0], generators.items()):
        draw_va_grid(axis, generator, steps, seed,
                     f"{name}, seed {seed}\ncorner difference {differences[name]:.1f} / 255 (mean of {len(list(corner_seeds))} seeds)")
    return figure, differences


def high_frequency_energy(images: np.ndarray) -> float:
    """Mean absolute difference between neighbouring pixels (of 255): fine texture and noise."""
    pixels = images.astype(np.float64)
    return float((np.abs(np.diff(pixels, axis=1)).mean() + np.abs(np.diff(pixels, axis=2)).mean()) / 2)


def ema_vs_raw_figure(raw, ema, seeds=range(6), valence: float = 5.0, arousal: float = 5.0):
    """The raw generator's and its EMA's images for the same z and VA, row above row.
    Returns (figure, {"difference", "raw_high_frequency", "ema_high_frequency"})."""
    seeds = list(seeds)
    raw_images = generate(raw, valence, arousal, seeds)
    ema_images = generate(ema, valence, arousal, seeds)
    numbers = {"difference": float(np.abs(raw_images.astype(float) - ema_images.astype(float)).mean()),
               "raw_high_frequency": high_frequency_energy(raw_images),
               "ema_high_frequency": high_frequency_energy(ema_images)}
    figure, axes = plt.subplots(2, len(seeds), figsize=(1.9 * len(seeds), 4.4), squeeze=False)
    for row, (images, name, key) in enumerate([(raw_images, "raw G", "raw_high_frequency"), (ema_images, "EMA of G", "ema_high_frequency")]):
        for column, image in enumerate(images):
            axes[row, column].imshow(image)
            axes[row, column].set_xticks([])
            axes[row, column].set_yticks([])
        axes[row, 0].set_ylabel(f"{name}\nneighbour diff {numbers[key]:.1f}", fontsize=9)
    figure.suptitle(f"Same z (seeds {seeds[0]}..{seeds[-1]}), V {rating_label(valence)}, A {rating_label(arousal)}: "
                    f"mean |raw - EMA| = {numbers['difference']:.1f} / 255", fontsize=10)
    figure.tight_layout()
    return figure, numbers


# ---------------------------------------------------------------------------------------------
# Variety at one VA (a mode-collapse check) and real images beside generated ones


def _small_pixels(images: np.ndarray, size: int = 16) -> np.ndarray:
    """uint8 images as flat [0, 1] vectors at size x size (area average): coarse layout and colour."""
    x = torch.as_tensor(images).permute(0, 3, 1, 2).float() / 255
    return torch.nn.functional.adaptive_avg_pool2d(x, size).flatten(1).numpy()


def pixel_spread(images: np.ndarray, size: int = 16) -> float:
    """Mean pairwise Euclidean distance between images at 16 x 16 pixels in [0, 1]."""
    from helpers.metrics import mean_pairwise_distance

    return mean_pairwise_distance(_small_pixels(images, size))


def real_images_near(data, valence: float, arousal: float, radius: float = 1.5, limit: int = 64) -> np.ndarray:
    """Up to ``limit`` real images whose labels lie within ``radius`` of (valence, arousal)."""
    near = np.flatnonzero(np.hypot(data.valence - valence, data.arousal - arousal) <= radius)
    return data.images[near[:limit]]


def fixed_va_figure(generator, data, valence: float = 5.0, arousal: float = 5.0, count: int = 64, first_seed: int = 0,
                    radius: float = 1.5):
    """``count`` random z at one VA in a square grid. Returns (figure, {"generated_spread",
    "real_spread", "n_real"}): pixel spreads of the generated images and of the real images within
    ``radius`` of the same VA (None with fewer than 2)."""
    images = generate(generator, valence, arousal, np.arange(first_seed, first_seed + count))
    reals = real_images_near(data, valence, arousal, radius, limit=count)
    numbers = {"generated_spread": pixel_spread(images), "n_real": int(len(reals)),
               "real_spread": pixel_spread(reals) if len(reals) >= 2 else None}
    columns = int(np.ceil(np.sqrt(count)))
    figure, axis = plt.subplots(figsize=(9, 9 * (-(-count // columns)) / columns + 0.5))
    axis.imshow(grid(images, columns, padding=1))
    axis.axis("off")
    real_text = (f"real images within {radius:g}: {numbers['real_spread']:.2f} (N {len(reals)})" if numbers["real_spread"] is not None
                 else f"fewer than 2 real images within {radius:g}")
    axis.set_title(f"{count} random z at V {rating_label(valence)}, A {rating_label(arousal)} (seeds {first_seed}..{first_seed + count - 1})\n"
                   f"pixel spread {numbers['generated_spread']:.2f}; {real_text}", fontsize=10)
    figure.tight_layout()
    return figure, numbers


def dark_dots(generator, data, count: int = 512, valence_below: float = 3.5, arousal_below: float = 4.0) -> dict:
    """Where the dots (snow, stars) of dark images fall (``metrics.dot_positions``): the real images of ``data`` with
    valence below ``valence_below`` and arousal below ``arousal_below``, and ``count`` generated ones requested at
    their labels (drawn at random; seeds 0, 1, ...). {"real", "generated": dot_positions of each, "n_real",
    "upsample": how the generator upsamples, "images": the generated images, "requested": the indices into ``data``
    whose labels they were requested at}; None with under 2 dark reals."""
    from helpers.metrics import dot_positions

    dark = np.flatnonzero((data.valence < valence_below) & (data.arousal < arousal_below))
    if len(dark) < 2:
        return None
    requested = np.random.default_rng(0).choice(dark, count)
    images = generate(generator, data.valence[requested], data.arousal[requested], np.arange(count))
    return {"real": dot_positions(data.images[dark]), "generated": dot_positions(images), "n_real": len(dark),
            "upsample": getattr(generator.config, "upsample", None), "images": images, "requested": requested}


def _dot_map(dots: dict) -> np.ndarray:
    """For each pixel, the share of the images (``metrics.dot_positions``) with a dot there."""
    counts = np.zeros(dots["size"])
    positions = dots["positions"]
    np.add.at(counts, (positions[:, 1], positions[:, 2]), 1)
    return counts / max(1, dots["images"])


def dot_grid_figure(numbers: dict, count: int = 3, zoom: int = 4):
    """The ``count`` generated dark images with the most dots, enlarged ``zoom`` times without smoothing, then for
    the real and the generated dark images the share of images with a dot at each pixel: even speckle where dots
    fall anywhere, bright fixed spots where a generator draws the same dots in every image."""
    images = numbers["images"]
    per_image = np.bincount(numbers["generated"]["positions"][:, 0], minlength=len(images))
    dotted = images[np.argsort(-per_image, kind="stable")[:count]]
    figure, axes = plt.subplots(1, count + 2, figsize=(3.0 * (count + 2), 3.9))
    for axis, image in zip(axes, dotted):
        axis.imshow(np.kron(image, np.ones((zoom, zoom, 1), dtype=image.dtype)))
        axis.axis("off")
    axes[0].set_title(f"generated dark images with the most dots (x{zoom})", fontsize=9, loc="left")
    maps = {name: _dot_map(numbers[name]) for name in ("real", "generated")}
    top = max(value.max() for value in maps.values()) or 1.0
    for axis, (name, dot_map) in zip(axes[count:], maps.items()):
        axis.imshow(dot_map, cmap="magma", vmin=0, vmax=top, interpolation="nearest")
        axis.axis("off")
        stats = numbers[name]
        axis.set_title(f"{name}: images with a dot at each pixel\n{stats['top_share']:.0%} on one phase, "
                       f"repeats {stats['repeat_ratio']:.1f}x chance", fontsize=9)
    figure.tight_layout()
    return figure


def detail_spectra(generator, data, count: int = 256) -> dict:
    """How much of the images' variation sits at each spatial frequency (``metrics.radial_power_spectrum``): the first
    ``count`` images of ``data`` and generated ones requested at their labels (seeds 0, 1, ...). {"real",
    "generated": power per radius 0 .. H/2, "top_octave_ratio": the generated images' power in radii H/4 .. H/2 over
    the real ones', "peak_ratio" and "peak_radius": the largest ratio at one radius of that octave and where,
    "n": images per side, "size": H}."""
    from helpers.metrics.spectrum import radial_power_spectrum, spectrum_ratio, top_octave

    count = min(count, len(data.images))
    reals = data.images[:count]
    images = generate(generator, data.valence[:count], data.arousal[:count], np.arange(count))
    real, generated = radial_power_spectrum(reals), radial_power_spectrum(images)
    size = reals.shape[1]
    top = top_octave(size)
    ratios = generated[top] / np.maximum(real[top], 1e-12)
    return {"real": real, "generated": generated, "top_octave_ratio": spectrum_ratio(generated, real),
            "peak_ratio": float(ratios.max()), "peak_radius": int(top[ratios.argmax()]), "n": count, "size": size}


def spectrum_figure(numbers: dict):
    """Both power spectra on log axes, and their ratio, with the top octave shaded."""
    from helpers.metrics.spectrum import top_octave

    radii = np.arange(1, len(numbers["real"]))
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    for name in ("real", "generated"):
        left.loglog(radii, numbers[name][1:], label=name)
    left.set(xlabel="spatial frequency (cycles per image)", ylabel="power", title="power spectrum (grey levels)")
    left.legend()
    right.semilogx(radii, numbers["generated"][1:] / numbers["real"][1:], color="black")
    right.axhline(1.0, color="grey", lw=0.8)
    top = top_octave(numbers["size"])
    for axis in (left, right):
        axis.axvspan(top[0], top[-1], color="grey", alpha=0.15)
    right.set(xlabel="spatial frequency (cycles per image)", ylabel="generated / real",
              title=f"ratio; top octave (shaded) {numbers['top_octave_ratio']:.2f}")
    figure.tight_layout()
    return figure


def real_vs_generated_figure(generator, data, count: int = 8, seed: int = 0):
    """Real images (top) and generated ones requested at exactly their labels (bottom)."""
    picks = np.random.default_rng(seed).permutation(len(data))[:count]
    fakes = generate(generator, data.valence[picks], data.arousal[picks], seed + np.arange(len(picks)))
    figure, axes = plt.subplots(2, len(picks), figsize=(1.9 * len(picks), 4.6), squeeze=False)
    for column, index in enumerate(picks):
        for row, image in enumerate((data.images[index], fakes[column])):
            axes[row, column].imshow(image)
            axes[row, column].set_xticks([])
            axes[row, column].set_yticks([])
        axes[0, column].set_title(f"V {data.valence[index]:.1f}, A {data.arousal[index]:.1f}", fontsize=8)
    axes[0, 0].set_ylabel("real", fontsize=9)
    axes[1, 0].set_ylabel("generated,\nsame labels", fontsize=9)
    figure.tight_layout()
    return figure


@torch.no_grad()
def prior_and_posterior(vae, data, count: int = 64) -> dict:
    """What a VAE's decoder makes of the encoder's codes and of random codes, at the same labels:
    {"reconstructions": decoded means of ``count`` images of ``data``, "samples": decoded z ~ N(0, I)
    (seeds 0, 1, ...), "spreads": pixel spreads of the real images, the reconstructions and the samples}."""
    from helpers.image_tensors import to_uint8

    count = min(count, len(data))
    valence, arousal = data.valence[:count], data.arousal[:count]
    device = next(vae.parameters()).device
    was_training = vae.training
    vae.eval()  # z = mu: the reconstruction of the encoder's best guess
    reconstructions = to_uint8(vae(to_tensor(data.images[:count], device), va_unit_tensor(valence, arousal, device=device))[0])
    vae.train(was_training)
    samples = generate(vae.decoder, valence, arousal, np.arange(count))
    spreads = {"real": pixel_spread(data.images[:count]), "reconstructions": pixel_spread(reconstructions),
               "samples": pixel_spread(samples)}
    return {"reconstructions": reconstructions, "samples": samples, "spreads": spreads}


# ---------------------------------------------------------------------------------------------
# Memorisation, seen: generated images beside their nearest training images


def nearest_training_images(generated: np.ndarray, train_images: np.ndarray, size: int = 16) -> tuple:
    """(index into ``train_images``, distance) of each generated image's nearest training image,
    in 16 x 16 pixels in [0, 1] (``helpers.metrics.memorisation.nearest_neighbours``)."""
    from helpers.metrics.memorisation import nearest_neighbours

    return nearest_neighbours(_small_pixels(generated, size), _small_pixels(train_images, size))


def nearest_training_figure(generator, train, held_out, count: int = 8, seed: int = 0):
    """Generated images (top) above their nearest training images (bottom), with distances; for
    scale, the median distance of held-out real images to their nearest training image.
    Returns (figure, {"generated_median", "held_out_median", "n_held_out"})."""
    picks = np.random.default_rng(seed).permutation(len(held_out))[:count]
    fakes = generate(generator, held_out.valence[picks], held_out.arousal[picks], seed + np.arange(len(picks)))
    indices, distances = nearest_training_images(fakes, train.images)
    _, held_out_distances = nearest_training_images(held_out.images, train.images)
    numbers = {"generated_median": float(np.median(distances)), "held_out_median": float(np.median(held_out_distances)),
               "n_held_out": int(len(held_out))}
    figure, axes = plt.subplots(2, len(picks), figsize=(1.9 * len(picks), 4.6), squeeze=False)
    for column in range(len(picks)):
        axes[0, column].imshow(fakes[column])
        axes[1, column].imshow(train.images[indices[column]])
        axes[1, column].set_xlabel(f"distance {distances[column]:.2f}", fontsize=8)
    for axis in axes.flat:
        axis.set_xticks([])
        axis.set_yticks([])
    axes[0, 0].set_ylabel("generated", fontsize=9)
    axes[1, 0].set_ylabel("nearest\ntraining image", fontsize=9)
    figure.suptitle(f"Nearest training image in 16x16 pixels: generated median {numbers['generated_median']:.2f}; "
                    f"held-out real images' median {numbers['held_out_median']:.2f} (N {len(held_out)})", fontsize=10)
    figure.tight_layout()
    return figure, numbers


# ---------------------------------------------------------------------------------------------
# Inside the FiLM ERUs

ERU_PARTS = (("valence_gamma", "valence"), ("arousal_gamma", "arousal"), ("valence_beta", "valence"), ("arousal_beta", "arousal"))
ERU_CLAMP = 0.5  # FiLMERU clamps every base to [-0.5, 0.5]


@torch.no_grad()
def eru_learned_modulation(generator, steps: int = 9) -> dict:
    """The learned part of each FiLM ERU's modulation, per channel, against the rating it depends on.

    ``FiLMERU.modulation``: gamma = 0.5 [(1 + b_gv(v)) (0.8 + 0.4 v) + (1 + b_ga(a)) (0.8 + 0.4 a)],
    beta = 2 b_bv(v) + 2 b_ba(a), each base b = clamp(MLP(rating), -0.5, 0.5). The multipliers
    0.8 + 0.4 v are fixed; the four bases are what training learned, each a function of one rating.
    Returns {"levels": ratings 1-9, "units": [{part: (C, steps) clamped bases, part + "_pinned":
    (C, steps) bool, True where the MLP's output lies beyond the clamp, so no gradient reaches it}]}.
    """
    erus = [eru for eru in generator.erus() if isinstance(eru, FiLMERU)]
    if not erus:
        raise ValueError("this generator uses attention ERUs, which have no gamma or beta; use eru='film' to see these maps")
    levels = np.linspace(1, 9, steps)
    device = next(generator.parameters()).device
    unit = torch.as_tensor(rating_to_unit(levels), dtype=torch.float32, device=device)[:, None]
    units = []
    for eru in erus:
        parts = {}
        for part, _ in ERU_PARTS:
            raw = getattr(eru, part)(unit).float().T.cpu().numpy()  # (C, steps)
            parts[part] = np.clip(raw, -ERU_CLAMP, ERU_CLAMP)
            parts[part + "_pinned"] = np.abs(raw) > ERU_CLAMP
        units.append(parts)
    return {"levels": levels, "units": units}


def eru_learned_figure(generator, steps: int = 9):
    """Per ERU (rows), the four learned bases (columns): channels down, rating across, all on one
    colour scale [-0.5, 0.5]; black dots mark channel-levels pinned at the clamp. Returns
    (figure, ``eru_learned_modulation``'s dict)."""
    result = eru_learned_modulation(generator, steps)
    units, levels = result["units"], result["levels"]
    figure, axes = plt.subplots(len(units), 4, figsize=(14, 3.2 * len(units) + 0.8), squeeze=False, layout="constrained")
    headers = {"valence_gamma": "valence -> b (gamma factor 1 + b)", "arousal_gamma": "arousal -> b (gamma factor 1 + b)",
               "valence_beta": "valence -> b (beta part 2 b)", "arousal_beta": "arousal -> b (beta part 2 b)"}
    for row, unit in enumerate(units):
        for column, (part, rating) in enumerate(ERU_PARTS):
            axis = axes[row, column]
            values, pinned = unit[part], unit[part + "_pinned"]
            order = np.argsort(values[:, -1] - values[:, 0])  # channels sorted by their change from 1 to 9
            shown = axis.imshow(values[order], cmap="RdBu_r", vmin=-ERU_CLAMP, vmax=ERU_CLAMP, aspect="auto",
                                extent=(levels[0] - 0.5, levels[-1] + 0.5, len(values) - 0.5, -0.5), interpolation="nearest")
            channels, columns = np.nonzero(pinned[order])
            axis.scatter(levels[columns], channels, s=6, color="black", marker="o", linewidths=0)
            axis.set_xticks(range(1, 10, 2))
            axis.set_xlabel(f"{rating}   ({pinned.any(axis=1).sum()} of {len(values)} channels pinned)", fontsize=9)
            if row == 0:
                axis.set_title(headers[part], fontsize=10)
            if column == 0:
                axis.set_ylabel(f"ERU {row + 1}: channel\n(sorted by change 1 -> 9)", fontsize=9)
    figure.colorbar(shown, ax=axes, shrink=0.6, label="learned base b (0: nothing learned; dots: pinned at +-0.5, no gradient)")
    figure.suptitle("What each FiLM ERU learned: its clamped bases per channel and rating (the fixed multiplier 0.8 + 0.4 v left out)")
    return figure, result


# ---------------------------------------------------------------------------------------------
# The discriminator's VA head and the independent VA regressor


@torch.no_grad()
def discriminator_va_predictions(discriminator, generator, data, count: int = 256, seed: int = 0) -> dict:
    """D's VA head (1-9) on real images against their labels, and on fakes against the request."""
    discriminator.eval()
    device = next(discriminator.parameters()).device
    picks = np.random.default_rng(seed).permutation(len(data))[:count]
    reals = to_tensor(data.images[picks], device)
    real_va = va_unit_tensor(data.valence[picks], data.arousal[picks], len(picks), device)
    _, real_predicted = discriminator(reals, real_va)
    requested = np.random.default_rng(seed + 1).uniform(1, 9, size=(len(picks), 2)).astype(np.float32)
    fake_va = va_unit_tensor(requested[:, 0], requested[:, 1], len(picks), device)
    fakes = generator(latents_for_seeds(range(len(picks)), generator.config.input_dim, device), fake_va)
    _, fake_predicted = discriminator(fakes, fake_va)
    return {
        "real_true": np.stack([data.valence[picks], data.arousal[picks]], 1),
        "real_predicted": unit_to_rating(real_predicted.cpu().numpy()),
        "fake_requested": requested,
        "fake_predicted": unit_to_rating(fake_predicted.cpu().numpy()),
    }


def _requested_vs_predicted_axes(axes, pairs: list):
    """pairs: (label, true (N, 2), predicted (N, 2)); one panel per axis (valence, arousal)."""
    from helpers.metrics import spearman

    for column, name in enumerate(["valence", "arousal"]):
        axis = axes[column]
        for label, true, predicted in pairs:
            x, y = true[:, column], predicted[:, column]
            axis.scatter(x, y, s=8, alpha=0.5, label=f"{label} (Spearman {spearman(x, y):+.2f})")
        axis.plot([1, 9], [1, 9], color="grey", lw=0.8)
        axis.set(xlim=(0.8, 9.2), ylim=(0.8, 9.2), xticks=VA_TICKS, yticks=VA_TICKS, aspect="equal")
        axis.legend(fontsize=8)


def discriminator_va_figure(predictions: dict):
    figure, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    _requested_vs_predicted_axes(axes, [("real: label", predictions["real_true"], predictions["real_predicted"]),
                                        ("generated: requested", predictions["fake_requested"], predictions["fake_predicted"])])
    for axis, name in zip(axes, ["valence", "arousal"]):
        axis.set(xlabel=f"{name}: label or request (1-9)", ylabel=f"D's predicted {name}", title=f"discriminator VA head: {name}")
    figure.tight_layout()
    return figure


def regressor_on_grid(regressor, generator, steps: int = 5, seeds=range(4)) -> dict:
    """The independent regressor's reading of generated images over a steps x steps VA grid,
    ``len(seeds)`` images per cell: {"requested": (N, 2), "predicted": (N, 2)} in 1-9."""
    valence, arousal = va_grid_ratings(steps)
    seeds = list(seeds)
    valence, arousal = np.repeat(valence, len(seeds)), np.repeat(arousal, len(seeds))
    images = generate(generator, valence, arousal, np.tile(seeds, steps * steps))
    predicted_valence, predicted_arousal = regressor.predict(images)
    return {"requested": np.stack([valence, arousal], 1), "predicted": np.stack([predicted_valence, predicted_arousal], 1)}


def regressor_va_figure(grid_readings: dict, real_labels: np.ndarray = None, real_predicted: np.ndarray = None):
    """Requested against predicted VA (one panel per axis), optionally beside real images'
    labels against the regressor's reading of them (the same regressor's ceiling)."""
    pairs = [("generated: requested", grid_readings["requested"], grid_readings["predicted"])]
    if real_labels is not None:
        pairs.append(("real test: label", real_labels, real_predicted))
    figure, axes = plt.subplots(1, 2, figsize=(10, 4.6))
    _requested_vs_predicted_axes(axes, pairs)
    for axis, name in zip(axes, ["valence", "arousal"]):
        axis.set(xlabel=f"{name}: request or label (1-9)", ylabel=f"regressor's {name}", title=f"independent VA regressor: {name}")
    figure.tight_layout()
    return figure


def brighten(images: np.ndarray, factor: float) -> np.ndarray:
    """uint8 images with every channel multiplied by ``factor`` (clipped to 255)."""
    return np.clip(np.round(images.astype(np.float64) * factor), 0, 255).astype(np.uint8)


def brightness_shortcut(regressor, images: np.ndarray, factors=(0.6, 0.8, 1.0, 1.2, 1.4)) -> dict:
    """Mean predicted valence and arousal of the same real images, brightened by each factor.
    {"factors", "valence", "arousal"}: arrays, one entry per factor."""
    factors = np.asarray(factors, dtype=float)
    readings = [regressor.predict(brighten(images, factor)) for factor in factors]
    return {"factors": factors, "valence": np.array([v.mean() for v, _ in readings]),
            "arousal": np.array([a.mean() for _, a in readings]), "n_images": int(len(images))}


def brightness_shortcut_figure(regressor, images: np.ndarray, factors=(0.6, 0.8, 1.0, 1.2, 1.4)):
    """One image at each brightness, and the regressor's mean VA over all ``images`` per factor.
    Returns (figure, brightness_shortcut dict)."""
    result = brightness_shortcut(regressor, images, factors)
    figure = plt.figure(figsize=(13, 3.3), layout="constrained")
    layout = figure.add_gridspec(1, len(factors) + 1, width_ratios=[1] * len(factors) + [3.2])
    for column, factor in enumerate(result["factors"]):
        axis = figure.add_subplot(layout[0, column])
        axis.imshow(brighten(images[:1], factor)[0])
        axis.set_title(f"x {factor:g}", fontsize=9)
        axis.axis("off")
    axis = figure.add_subplot(layout[0, len(factors)])
    axis.plot(result["factors"], result["valence"], "o-", label="predicted valence")
    axis.plot(result["factors"], result["arousal"], "s-", label="predicted arousal")
    axis.axvline(1, color="grey", lw=0.8)
    axis.set(xlabel="brightness factor (1 = the real image)", ylabel=f"mean over {len(images)} images (1-9)",
             title="same images, only brighter or darker")
    axis.legend(fontsize=8)
    return figure, result


# ---------------------------------------------------------------------------------------------
# A walk around the VA plane


def va_walk(generator, seed: int = 0, frames: int = 24, radius: float = 3.2):
    """Images along a circle around (5, 5) on the VA plane: (uint8 frames, valence, arousal)."""
    angles = np.linspace(0, 2 * np.pi, frames, endpoint=False)
    valence = 5 + radius * np.cos(angles)
    arousal = 5 + radius * np.sin(angles)
    return generate(generator, valence, arousal, np.full(frames, seed)), valence, arousal


def save_gif(frames: np.ndarray, path, milliseconds: int = 120, scale: int = 3) -> None:
    from PIL import Image

    images = [Image.fromarray(frame).resize((frame.shape[1] * scale, frame.shape[0] * scale), Image.NEAREST) for frame in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=milliseconds, loop=0)


class GifOutput:
    """A GIF as a notebook output: the animation as an HTML <img> (Jupyter, nbviewer), and the
    first frame as a PNG for renderers that show no HTML."""

    def __init__(self, path):
        from PIL import Image

        self.path = str(path)
        self.gif = open(path, "rb").read()
        with Image.open(path) as animation:
            buffer = io.BytesIO()
            animation.convert("RGB").save(buffer, format="PNG")
        self.first_frame = buffer.getvalue()

    def _repr_mimebundle_(self, include=None, exclude=None):
        gif, png = base64.b64encode(self.gif).decode(), base64.b64encode(self.first_frame).decode()
        return {"text/html": f'<img src="data:image/gif;base64,{gif}" alt="{self.path}"/>', "image/png": png,
                "text/plain": f"animated GIF: {self.path}"}
