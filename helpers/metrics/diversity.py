"""How different a generator's images are from each other at one fixed (valence, arousal).

A conditional GAN can collapse to one image per condition and still fool a per-image realism
test; the mean pairwise distance between images that differ only in their seed exposes that.
LPIPS (Zhang et al., CVPR 2018) is the usual measure (as in BicycleGAN's diversity score); when
its AlexNet weights are absent we fall back to the Euclidean distance between Inception features.
"""

import itertools

import numpy as np
import torch


def mean_pairwise_distance(features: np.ndarray) -> float:
    """Mean Euclidean distance over all pairs of rows i < j of (N, D) features."""
    features = np.asarray(features, dtype=np.float64)
    if len(features) < 2:
        raise ValueError(f"A pairwise distance needs at least 2 items; got {len(features)}.")
    squared = (features**2).sum(axis=1)
    distances = np.sqrt(np.clip(squared[:, None] + squared[None, :] - 2.0 * features @ features.T, 0.0, None))
    return float(distances[np.triu_indices(len(features), k=1)].mean())


@torch.no_grad()
def mean_pairwise_lpips(images: np.ndarray, lpips_model: torch.nn.Module, batch_size: int = 64) -> float:
    """Mean LPIPS over all pairs i < j of uint8 (N, H, W, 3) images, at their own resolution."""
    if len(images) < 2:
        raise ValueError(f"A pairwise distance needs at least 2 images; got {len(images)}.")
    device = next(lpips_model.parameters()).device
    # LPIPS expects RGB in [-1, 1] (lpips.LPIPS.forward, normalize=False).
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div(127.5).sub(1.0).to(device)
    pairs = torch.tensor(list(itertools.combinations(range(len(images)), 2)), device=device)
    values = [lpips_model(x[chunk[:, 0]], x[chunk[:, 1]]).flatten() for chunk in pairs.split(batch_size)]
    return float(torch.cat(values).mean())
