"""ERU and VA diagnostics: how the generator's modulations and the discriminator's VA head
behave across the valence-arousal plane."""

import numpy as np
import matplotlib.pyplot as plt
import torch

from helpers.generate import latents_for_seeds
from helpers.va import va_unit_tensor
from helpers.image_tensors import to_tensor
from helpers.models.eru import GAMMA_RANGE, FiLMERU
from helpers.va import unit_to_rating


@torch.inference_mode()
def eru_gamma_over_va(generator, steps: int = 9) -> dict:
    """Mean, min and max gamma (and mean beta) of each FiLM ERU on a steps x steps VA grid.

    Returns {"levels": 1-9 levels, "units": [{"gamma_mean": (A, V) array, ...}, ...]}, rows
    ordered by arousal from 9 (top) to 1, columns by valence from 1 to 9.
    """
    erus = [eru for eru in generator.erus() if isinstance(eru, FiLMERU)]
    if not erus:
        raise ValueError("this generator uses attention ERUs, which have no gamma; use eru='film' to see gamma maps")
    levels = np.linspace(1, 9, steps)
    valence, arousal = np.meshgrid(levels, levels[::-1])
    device = next(generator.parameters()).device
    va = va_unit_tensor(valence.ravel(), arousal.ravel(), valence.size, device)
    units = []
    for eru in erus:
        gamma, beta = eru.modulation(va)
        units.append({
            "gamma_mean": gamma.mean(1).view(steps, steps).cpu().numpy(),
            "gamma_min": gamma.min(1).values.view(steps, steps).cpu().numpy(),
            "gamma_max": gamma.max(1).values.view(steps, steps).cpu().numpy(),
            "beta_mean": beta.mean(1).view(steps, steps).cpu().numpy(),
        })
    return {"levels": levels, "units": units}


def eru_gamma_figure(generator, steps: int = 9):
    """One heatmap of mean gamma per ERU over the VA plane, with the overall range checked."""
    result = eru_gamma_over_va(generator, steps)
    units = result["units"]
    figure, axes = plt.subplots(1, len(units), figsize=(4 * len(units), 3.6), squeeze=False)
    for index, (axis, unit) in enumerate(zip(axes[0], units)):
        shown = axis.imshow(unit["gamma_mean"], extent=(1, 9, 1, 9), cmap="viridis", aspect="equal")
        low, high = unit["gamma_min"].min(), unit["gamma_max"].max()
        ok = GAMMA_RANGE[0] - 1e-4 <= low and high <= GAMMA_RANGE[1] + 1e-4
        axis.set(xlabel="valence", ylabel="arousal", xticks=range(1, 10, 2), yticks=range(1, 10, 2),
                 title=f"ERU {index + 1}: mean gamma\nrange {low:.2f}-{high:.2f} {'within' if ok else 'OUTSIDE'} [0.4, 1.8]")
        figure.colorbar(shown, ax=axis, shrink=0.8)
    figure.tight_layout()
    return figure


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
    fakes = generator(latents_for_seeds(range(len(picks)), generator.config.latent_dim, device), fake_va)
    _, fake_predicted = discriminator(fakes, fake_va)
    return {
        "real_true": np.stack([data.valence[picks], data.arousal[picks]], 1),
        "real_predicted": unit_to_rating(real_predicted.cpu().numpy()),
        "fake_requested": requested,
        "fake_predicted": unit_to_rating(fake_predicted.cpu().numpy()),
    }


def discriminator_va_figure(predictions: dict):
    from helpers.metrics import spearman

    figure, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for column, name in enumerate(["valence", "arousal"]):
        axis = axes[column]
        for key_true, key_predicted, label in [("real_true", "real_predicted", "real: label"), ("fake_requested", "fake_predicted", "generated: requested")]:
            x, y = predictions[key_true][:, column], predictions[key_predicted][:, column]
            axis.scatter(x, y, s=8, alpha=0.5, label=f"{label} (Spearman {spearman(x, y):+.2f})")
        axis.plot([1, 9], [1, 9], color="grey", lw=0.8)
        axis.set(xlim=(1, 9), ylim=(1, 9), xlabel=f"{name}: label or request (1-9)", ylabel=f"D's predicted {name}",
                 title=f"discriminator VA head: {name}", aspect="equal")
        axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def va_walk(generator, seed: int = 0, frames: int = 24, radius: float = 3.2):
    """Images along a circle around (5, 5) on the VA plane: (uint8 frames, valence, arousal)."""
    from helpers.generate import generate

    angles = np.linspace(0, 2 * np.pi, frames, endpoint=False)
    valence = 5 + radius * np.cos(angles)
    arousal = 5 + radius * np.sin(angles)
    return generate(generator, valence, arousal, np.full(frames, seed)), valence, arousal


def save_gif(frames: np.ndarray, path, milliseconds: int = 120, scale: int = 3) -> None:
    from PIL import Image

    images = [Image.fromarray(frame).resize((frame.shape[1] * scale, frame.shape[0] * scale), Image.NEAREST) for frame in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=milliseconds, loop=0)
