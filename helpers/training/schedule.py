"""The original's three training phases, as fractions of the run so short runs keep their shape.

| progress      | phase          | adversarial     | reconstruction  |
|---------------|----------------|-----------------|-----------------|
| 0 - 3 %       | 1 reconstruct  | 0 (no D at all) | 1.0             |
| 3 - 6 %       | 2 ramp         | 0 -> 0.5        | 1.0 -> 0.2      |
| 6 - 100 %     | 3 adversarial  | 1.0             | 0               |

(The original: epochs 1-30, 31-60, 61-1000 of 1000.) LPIPS is 0 until 20 % of the run, ramps
to its full weight (0.005) by 50 %, then stays: the original's epochs 200 and 500. A
perceptual penalty before shapes exist gave banding and no structure (SEED_DESIGN.md).

The learning rate is also a function of run fraction: constant, then a cosine decay to a
floor over the last part (``learning_rate_scale``); a floor of 1, the GAN's default, keeps it
constant (GANTrainConfig says what the decay cost). The original decayed 0.99 per epoch from
epoch 60, which leaves 1e-4 x 0.99^440 = 1.2e-6 at epoch 500: its LPIPS ramp and the whole
second half of its run trained nothing. A schedule on run fraction keeps its shape in a
20-epoch and a 1000-epoch run alike.
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class PhaseWeights:
    phase: int
    adversarial: float
    reconstruction: float
    lpips: float
    dot_repeat: float = 0.0  # G's dot-repeat penalty (losses.dot_repeat_loss), on from its start

    @property
    def uses_discriminator(self) -> bool:
        return self.phase > 1


def _ramp(progress: float, start: float, end: float) -> float:
    """0 before start, 1 after end, linear between."""
    if progress <= start:
        return 0.0
    if progress >= end:
        return 1.0
    return (progress - start) / (end - start)


def phase_weights(progress: float, recon_fraction: float = 0.03, ramp_fraction: float = 0.03,
                  lpips_start: float = 0.2, lpips_full: float = 0.5, lpips_weight: float = 0.005,
                  dot_repeat_start: float = 0.0, dot_repeat_weight: float = 0.0) -> PhaseWeights:
    """Loss weights at ``progress`` in [0, 1] (step / total steps)."""
    lpips = lpips_weight * _ramp(progress, lpips_start, lpips_full)
    dot_repeat = dot_repeat_weight if progress >= dot_repeat_start else 0.0
    ramp_end = recon_fraction + ramp_fraction
    if progress < recon_fraction:
        return PhaseWeights(1, 0.0, 1.0, lpips, dot_repeat)
    if progress < ramp_end:
        t = _ramp(progress, recon_fraction, ramp_end)
        return PhaseWeights(2, 0.5 * t, 1.0 - 0.8 * t, lpips, dot_repeat)
    return PhaseWeights(3, 1.0, 0.0, lpips, dot_repeat)


def learning_rate_scale(progress: float, decay_start: float = 0.75, floor: float = 0.1) -> float:
    """Multiplier of the base learning rates: 1 until ``decay_start``, then a half cosine down
    to ``floor`` at the end of the run (progress 1)."""
    t = _ramp(progress, decay_start, 1.0)
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * t))
