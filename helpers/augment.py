"""Adaptive discriminator augmentation (ADA; Karras et al., NeurIPS 2020).

With a few hundred images the discriminator memorises the training set and its feedback to
the generator becomes useless. ADA shows D augmented images, real and fake alike, so it
cannot memorise; because the generator's images pass through the same differentiable
augmentations, the generator is not taught to produce them ("non-leaking" while p stays
below about 0.8, the paper's Fig. 3, so p never goes above ``NON_LEAKING_P``). The
probability p is tuned on the fly from r_t = E[sign(D(real))]: above the target (0.6) D is
overconfident on reals, so p rises; below, p falls.

Colour augmentation is off by default: brightness and saturation are the very cues of
valence and arousal, and a real photo made darker would teach the VA head a wrong label.
Cutout changes them too (a grey square lowers saturation and contrast, arousal cues). So
``__call__`` returns which samples had a VA-changing augmentation (colour or cutout), and the
VA losses skip those samples. Translation and the x-flip keep an image's VA, and so does
``geometric`` (off by default): a zoom (isotropic scaling, ADA's log2-normal with std 0.2) and a
small rotation (uniform within ``MAX_ROTATION_DEGREES``; ADA rotates by any angle, a landscape
upside down would spend D's capacity on skies below ground), each drawn with probability p, the
image resampled bicubically and mirrored at its borders.

``xflip=True`` mirrors each image left-right with probability 0.5, whatever p is: a mirrored
landscape keeps its valence and arousal, so this is StyleGAN2-ADA's ``--mirror`` dataset
doubling, applied in D's path to reals and fakes alike.
"""

import math

import torch
import torch.nn.functional as F

NON_LEAKING_P = 0.8  # the largest p at which the augmentations do not leak into G (Karras et al. 2020, Fig. 3)
ZOOM_STD = 0.2  # std of log2(scale), StyleGAN2-ADA's isotropic scaling
MAX_ROTATION_DEGREES = 15.0


class AdaptiveAugment:
    def __init__(self, target: float = 0.6, speed_images: int = 500_000, interval: int = 4,
                 translation: bool = True, cutout: bool = True, colour: bool = False, xflip: bool = False,
                 p: float = 0.0, adaptive: bool = True, geometric: bool = False):
        self.target = target
        self.speed_images = speed_images  # images over which p may travel from 0 to 1
        self.interval = interval
        self.translation, self.cutout, self.colour, self.xflip = translation, cutout, colour, xflip
        self.geometric = geometric
        self.p = p
        self.adaptive = adaptive  # False: p stays where it is (ADA off; the x-flip alone may be on)
        self._sign_sum = 0.0  # becomes a tensor on D's device: read once per interval, not every step
        self._count = 0
        self._steps = 0
        self.last_rt = float("nan")

    def __call__(self, images: torch.Tensor, generator: torch.Generator = None):
        """(augmented images, bool mask of samples whose VA cues changed: colour or cutout)."""
        batch, device = images.shape[0], images.device
        va_changed = torch.zeros(batch, dtype=torch.bool, device=device)
        if self.xflip:
            flipped = torch.rand(batch, generator=generator, device=device) < 0.5
            images = torch.where(flipped[:, None, None, None], images.flip(3), images)
        if self.p <= 0:
            return images, va_changed
        if self.translation:
            images = _translate(images, self._chosen(batch, device, generator), generator)
        if self.geometric:
            zoomed, rotated = self._chosen(batch, device, generator), self._chosen(batch, device, generator)
            images = _zoom_and_rotate(images, zoomed, rotated, generator)
        if self.colour:
            chosen = self._chosen(batch, device, generator)
            images = _adjust_colour(images, chosen, generator)
            va_changed = va_changed | chosen
        if self.cutout:
            chosen = self._chosen(batch, device, generator)
            images = _cutout(images, chosen, generator)
            va_changed = va_changed | chosen
        return images, va_changed

    def _chosen(self, batch: int, device, generator) -> torch.Tensor:
        return torch.rand(batch, generator=generator, device=device) < self.p

    def observe(self, real_scores: torch.Tensor, batch_size: int, centre=0.0) -> None:
        """Accumulate sign(D(real) - centre); every ``interval`` calls, move p towards the target.

        ``centre`` is the score between reals and fakes: 0 for the hinge loss alone, whose scores sit either side
        of it; with the LeCam term, which leaves a shift of all scores free, the midpoint of its two anchors."""
        if not self.adaptive:
            return
        self._sign_sum = self._sign_sum + torch.sign(real_scores.detach().float() - centre).sum()  # stays on the device
        self._count += real_scores.numel()
        self._steps += 1
        if self._steps % self.interval == 0:
            self.last_rt = float(self._sign_sum) / max(1, self._count)  # the one sync point on CUDA, per interval
            step = batch_size * self.interval / self.speed_images
            self.p = min(NON_LEAKING_P, max(0.0, self.p + (step if self.last_rt > self.target else -step)))
            self._sign_sum, self._count = 0.0, 0

    def state_dict(self) -> dict:
        return {"p": self.p, "sign_sum": float(self._sign_sum), "count": self._count, "steps": self._steps,
                "last_rt": self.last_rt}

    def load_state_dict(self, state: dict) -> None:
        self.p, self._sign_sum, self._count = state["p"], state["sign_sum"], state["count"]
        self._steps, self.last_rt = state["steps"], state["last_rt"]


def _uniform(batch, low, high, device, generator):
    return low + (high - low) * torch.rand(batch, generator=generator, device=device)


def _translate(images: torch.Tensor, chosen: torch.Tensor, generator) -> torch.Tensor:
    """Shift chosen images by whole pixels, up to 1/8 of the size, mirroring at the borders.

    Done by integer indexing, not resampling, so it is exact in any dtype: a sampling grid
    built in bf16 is off by up to 1/8 pixel and blurs even the images it does not shift.
    """
    batch, channels, height, width = images.shape
    device = images.device
    shift_x, shift_y = (torch.round(_uniform(batch, -0.125, 0.125, device, generator) * size).long() * chosen
                        for size in (width, height))
    rows = _mirror(torch.arange(height, device=device)[None] - shift_y[:, None], height)  # (B, H) source rows
    columns = _mirror(torch.arange(width, device=device)[None] - shift_x[:, None], width)  # (B, W)
    images = images.gather(2, rows[:, None, :, None].expand(batch, channels, height, width))
    return images.gather(3, columns[:, None, None, :].expand(batch, channels, height, width))


def _mirror(index: torch.Tensor, size: int) -> torch.Tensor:
    """Indices outside [0, size) mirrored back in, the edge pixel repeated (numpy's "symmetric")."""
    index = index.remainder(2 * size)
    return torch.where(index < size, index, 2 * size - 1 - index)


def _zoom_and_rotate(images: torch.Tensor, zoomed: torch.Tensor, rotated: torch.Tensor, generator) -> torch.Tensor:
    """Zoom the ``zoomed`` images and rotate the ``rotated`` ones about their centres, mirroring at the borders.

    Images neither zoomed nor rotated pass through bit for bit: resampling even by the identity would soften them.
    Only the moved ones are resampled, so the cost follows p (bicubic's backward is the dearest part: 12 ms for 32
    images of 64x64 on two cores); finding them costs one device sync on a GPU.
    """
    batch, device = images.shape[0], images.device
    scale = torch.exp2(torch.randn(batch, generator=generator, device=device) * ZOOM_STD)
    scale = torch.where(zoomed, scale, torch.ones_like(scale))
    limit = math.radians(MAX_ROTATION_DEGREES)
    angle = _uniform(batch, -limit, limit, device, generator) * rotated
    moved = (zoomed | rotated).nonzero().squeeze(1)
    if moved.numel() == 0:
        return images
    return images.index_put((moved,), _resample(images[moved], angle[moved], scale[moved]))


def _resample(images: torch.Tensor, angle: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Each image rotated by ``angle`` (radians) and magnified by ``scale`` about its centre, bicubic, mirrored at the
    borders. The grid is built and used in fp32: one built in bf16 is off by up to 1/8 pixel."""
    cos, sin, zero = torch.cos(angle) / scale, torch.sin(angle) / scale, torch.zeros_like(angle)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1).float()
    with torch.autocast(images.device.type, enabled=False):
        grid = F.affine_grid(theta, list(images.shape), align_corners=False)
        out = F.grid_sample(images.float(), grid, mode="bicubic", padding_mode="reflection", align_corners=False)
    return out.to(images.dtype)


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
    ys = torch.arange(height, device=device)[None, :, None]  # integer pixel positions, exact in any dtype
    xs = torch.arange(width, device=device)[None, None, :]
    inside = ((ys - centre_y).abs() < height / 4) & ((xs - centre_x).abs() < width / 4)
    mask = 1 - (inside & chosen[:, None, None]).to(images.dtype)
    return images * mask[:, None]
