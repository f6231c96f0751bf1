"""Sampling: every image has its own seed, so (seed, valence, arousal) gives the same image
in any batch, on any batch size (after NVlabs/edm)."""

import numpy as np
import torch

from helpers.image_tensors import to_uint8
from helpers.va import va_unit_tensor


def latents_for_seeds(seeds, latent_dim: int, device="cpu") -> torch.Tensor:
    """(N, latent_dim) standard normal latents, one independent stream per seed."""
    rows = [torch.randn(latent_dim, generator=torch.Generator().manual_seed(int(seed))) for seed in seeds]
    return torch.stack(rows).to(device)


@torch.inference_mode()
def generate(generator, valence, arousal, seeds, batch_size: int = 64) -> np.ndarray:
    """uint8 (N, H, W, 3) images for per-image seeds and 1-9 ratings (scalars or arrays)."""
    seeds = np.atleast_1d(np.asarray(seeds))
    device = next(generator.parameters()).device
    va = va_unit_tensor(valence, arousal, len(seeds), device)
    out = []
    for start in range(0, len(seeds), batch_size):
        z = latents_for_seeds(seeds[start:start + batch_size], generator.config.latent_dim, device)
        out.append(to_uint8(generator(z, va[start:start + batch_size])))
    return np.concatenate(out)


def va_grid_ratings(steps: int = 5):
    """Valence across 1..9, arousal down 9..1: (valence, arousal) arrays of steps*steps, row-major."""
    levels = np.linspace(1, 9, steps, dtype=np.float32)
    valence = np.tile(levels, steps)
    arousal = np.repeat(levels[::-1], steps)
    return valence, arousal


def generator_callable(generator):
    """The ``generate(valence, arousal, seeds)`` callable the metrics take."""
    return lambda valence, arousal, seeds: generate(generator, valence, arousal, seeds)
