"""Adaptive discriminator augmentation (ADA; Karras et al., NeurIPS 2020).

With a few hundred images the discriminator memorises the training set and its feedback to
the generator becomes useless. ADA shows D augmented images, real and fake alike, so it
cannot memorise; because the generator's images pass through the same differentiable
augmentations, the generator is not taught to produce them ("non-leaking" while p stays
below about 0.8). The probability p is tuned on the fly from r_t = E[sign(D(real))]: above
the target (0.6) D is overconfident on reals, so p rises; below, p falls.

Colour augmentation is off by default: brightness and saturation are the very cues of
valence and arousal, and a real photo made darker would teach the VA head a wrong label.
When it is switched on, ``__call__`` returns which samples had their colours changed, and
the VA losses skip those samples.
"""

import torch
import torch.nn.functional as F


class AdaptiveAugment:
    def __init__(self, target: float = 0.6, speed_images: int = 500_000, interval: int = 4,
                 translation: bool = True, cutout: bool = True, colour: bool = False, p: float = 0.0):
        self.target = target
        self.speed_images = speed_images  # images over which p may travel from 0 to 1
        self.interval = interval
        self.translation, self.cutout, self.colour = translation, cutout, colour
        self.p = p
        self._sign_sum = 0.0
        self._count = 0
        self._steps = 0
        self.last_rt = float("nan")

    def __call__(self, images: torch.Tensor, generator: torch.Generator = None):
        """(augmented images, bool mask of samples whose colours changed)."""
        batch = images.shape[0]
        colour_changed = torch.zeros(batch, dtype=torch.bool, device=images.device)
        if self.p <= 0:
            return images, colour_changed
        if self.translation:
            images = _translate(images, self._chosen(batch, images.device, generator), generator)
        if self.colour:
            colour_changed = self._chosen(batch, images.device, generator)
            images = _adjust_colour(images, colour_changed, generator)
        if self.cutout:
            images = _cutout(images, self._chosen(batch, images.device, generator), generator)
        return images, colour_changed

    def _chosen(self, batch: int, device, generator) -> torch.Tensor:
        return torch.rand(batch, generator=generator, device=device) < self.p

    def observe(self, real_scores: torch.Tensor, batch_size: int) -> None:
        """Accumulate sign(D(real)); every ``interval`` calls, move p towards the target."""
        self._sign_sum += torch.sign(real_scores.detach().float()).sum().item()  # a sync point on CUDA
        self._count += real_scores.numel()
        self._steps += 1
        if self._steps % self.interval == 0:
            self.last_rt = self._sign_sum / max(1, self._count)
            step = batch_size * self.interval / self.speed_images
            self.p = float(min(1.0, max(0.0, self.p + (step if self.last_rt > self.target else -step))))
            self._sign_sum, self._count = 0.0, 0

    def state_dict(self) -> dict:
        return {"p": self.p, "sign_sum": self._sign_sum, "count": self._count, "steps": self._steps, "last_rt": self.last_rt}

    def load_state_dict(self, state: dict) -> None:
        self.p, self._sign_sum, self._count = state["p"], state["sign_sum"], state["count"]
        self._steps, self.last_rt = state["steps"], state["last_rt"]


def _uniform(batch, low, high, device, generator):
    return low + (high - low) * torch.rand(batch, generator=generator, device=device)


def _translate(images: torch.Tensor, chosen: torch.Tensor, generator) -> torch.Tensor:
    """Shift chosen images by whole pixels, up to 1/8 of the size, reflecting at the borders."""
    batch, _, height, width = images.shape
    limit = 0.125
    shift = torch.stack([_uniform(batch, -limit, limit, images.device, generator) for _ in range(2)], dim=1)
    shift = torch.round(shift * torch.tensor([width, height], device=images.device)) * chosen[:, None]
    theta = torch.zeros(batch, 2, 3, device=images.device, dtype=images.dtype)
    theta[:, 0, 0] = 1
    theta[:, 1, 1] = 1
    theta[:, 0, 2] = shift[:, 0] * 2 / width  # grid units: the image spans [-1, 1]
    theta[:, 1, 2] = shift[:, 1] * 2 / height
    grid = F.affine_grid(theta, images.shape, align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def _adjust_colour(images: torch.Tensor, chosen: torch.Tensor, generator) -> torch.Tensor:
    """Brightness, saturation and contrast changes, as in DiffAugment (Zhao et al. 2020)."""
    batch, device = images.shape[0], images.device
    keep = (~chosen).float()[:, None, None, None]
    brightness = _uniform(batch, -0.2, 0.2, device, generator)[:, None, None, None]
    saturation = _uniform(batch, 0.5, 1.5, device, generator)[:, None, None, None]
    contrast = _uniform(batch, 0.7, 1.3, device, generator)[:, None, None, None]
    out = images + brightness
    grey = out.mean(dim=1, keepdim=True)
    out = grey + (out - grey) * saturation
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    out = mean + (out - mean) * contrast
    return images * keep + out * (1 - keep)


def _cutout(images: torch.Tensor, chosen: torch.Tensor, generator) -> torch.Tensor:
    """Zero a random square of half the image size in chosen images (DeVries & Taylor 2017)."""
    batch, _, height, width = images.shape
    device = images.device
    centre_y = (torch.rand(batch, generator=generator, device=device) * height)[:, None, None]
    centre_x = (torch.rand(batch, generator=generator, device=device) * width)[:, None, None]
    ys = torch.arange(height, device=device, dtype=images.dtype)[None, :, None]
    xs = torch.arange(width, device=device, dtype=images.dtype)[None, None, :]
    inside = ((ys - centre_y).abs() < height / 4) & ((xs - centre_x).abs() < width / 4)
    mask = 1 - (inside & chosen[:, None, None]).to(images.dtype)
    return images * mask[:, None]
