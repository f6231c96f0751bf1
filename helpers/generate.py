"""Sampling: every image has its own seed, so (seed, valence, arousal) gives the same image
in any batch, on any batch size (after NVlabs/edm), up to float rounding: CPU kernels may sum in
another order for another batch size, which moves a pixel by at most one uint8 level.

Both kinds of model generate through here, the one place that tells them apart: the GAN's
generator maps a latent z to an image in one pass; the diffusion model (``models/unet.py``)
starts from a noise image and takes ``steps`` Euler steps with guidance scale ``guidance``
(``rectified_flow.sample``; the GAN ignores these two). For the diffusion model the same image
also needs the same ``steps`` and ``guidance``.
"""

import numpy as np
import torch

from helpers.image_tensors import grid, to_uint8
from helpers.models.unet import UNet
from helpers.rectified_flow import DEFAULT_GUIDANCE, DEFAULT_STEPS, sample
from helpers.va import va_unit_tensor


def latents_for_seeds(seeds, latent_dim: int, device="cpu") -> torch.Tensor:
    """(N, latent_dim) standard normal latents, one independent stream per seed."""
    rows = [torch.randn(latent_dim, generator=torch.Generator().manual_seed(int(seed))) for seed in seeds]
    return torch.stack(rows).to(device)


def is_diffusion(model) -> bool:
    return isinstance(model, UNet)


def starting_points(model, seeds, device="cpu") -> torch.Tensor:
    """What each seed fixes: the GAN's input z (N, input_dim: the latent and any noise maps), or
    the diffusion model's noise image (N, 3, S, S) at t = 1."""
    if is_diffusion(model):
        size = model.config.image_size
        return latents_for_seeds(seeds, 3 * size * size, device).view(-1, 3, size, size)
    return latents_for_seeds(seeds, model.config.input_dim, device)


def images_from(model, start: torch.Tensor, va: torch.Tensor, steps: int = DEFAULT_STEPS,
                guidance: float = DEFAULT_GUIDANCE) -> torch.Tensor:
    """[-1, 1] images (N, 3, S, S) from ``starting_points`` and model-side VA (N, 2)."""
    if is_diffusion(model):
        return sample(model, start, va, steps, guidance)
    return model(start, va)


@torch.inference_mode()
def generate(model, valence, arousal, seeds, batch_size: int = 64, steps: int = DEFAULT_STEPS,
             guidance: float = DEFAULT_GUIDANCE) -> np.ndarray:
    """uint8 (N, H, W, 3) images for per-image seeds and 1-9 ratings (scalars or arrays), from a
    GAN generator or a diffusion model (``steps`` and ``guidance`` apply to the latter only)."""
    seeds = np.atleast_1d(np.asarray(seeds))
    device = next(model.parameters()).device
    va = va_unit_tensor(valence, arousal, len(seeds), device)
    out = []
    for start in range(0, len(seeds), batch_size):
        points = starting_points(model, seeds[start:start + batch_size], device)
        out.append(to_uint8(images_from(model, points, va[start:start + batch_size], steps, guidance)))
    return np.concatenate(out)


def va_grid_ratings(steps: int = 5):
    """Valence across 1..9, arousal down 9..1: (valence, arousal) arrays of steps*steps, row-major."""
    levels = np.linspace(1, 9, steps, dtype=np.float32)
    valence = np.tile(levels, steps)
    arousal = np.repeat(levels[::-1], steps)
    return valence, arousal


def va_sample_grid(model, cells: int = 7, seeds=(1, 2), **sampling) -> np.ndarray:
    """One cells x cells VA grid per seed (V across 1..9, A down 9..1), side by side: the training
    loops' sample grids (``sampling``: steps, guidance for a diffusion model)."""
    valence, arousal = va_grid_ratings(cells)
    panels = [grid(generate(model, valence, arousal, np.full(cells * cells, seed), **sampling), cells) for seed in seeds]
    gap = np.full((panels[0].shape[0], 8, 3), 255, np.uint8)
    return np.concatenate([panels[0], gap, *panels[1:]], axis=1)


def generator_callable(model, **sampling):
    """The ``generate(valence, arousal, seeds)`` callable the metrics take (``sampling``: steps,
    guidance for a diffusion model)."""
    return lambda valence, arousal, seeds: generate(model, valence, arousal, seeds, **sampling)
