"""The discriminator: strided downsampling to 4x4, minibatch standard deviation, an
adversarial output and a VA regression head.

Two block types, chosen by ``ModelConfig.d_blocks``:

* ``"residual"`` (default): a residual down block per resolution, as in SNGAN/BigGAN and
  StyleGAN2's D: two 3x3 convs, 2x2 average pooling, and a 1x1 skip path; every pixel is
  seen by two convs per resolution, and gradients reach the first layers through the skips.
* ``"plain"``: the first version's path shared with the VAE encoder (``DownPath``), one
  3x3 conv per resolution. Kept for the ablation that measures what the residual D buys.

Both start with space-to-depth (each 2x2 pixel block becomes 12 channels at half size), so no
wide feature map is held at full resolution; with ``ModelConfig.d_full_resolution_channels`` the
residual D instead starts with a narrow conv and one residual down block at the image's own size.

* Spectral normalisation (Miyato et al., ICLR 2018) bounds each layer's Lipschitz constant.
  ``ModelConfig.d_spectral_norm`` says where: "all" (the original), "head" (only the output
  and VA layers) or "none". With "all", D learns slowly: measured, see notebook 03.
* Minibatch standard deviation (Karras et al., ICLR 2018) lets D see a batch's variety, so a
  generator that collapses to one image is easy to spot.
* The VA head predicts (valence, arousal) in [0, 1]; D learns it on real images and G is
  asked to make images whose predicted VA matches the request (an AC-GAN-style auxiliary
  regressor, Odena et al. 2017).
* ``projection=True`` adds projection conditioning (Miyato & Koyama, ICLR 2018) with a
  linear embedding of the continuous VA: D's score gains <embed(va), features>.
"""

import math

import torch
from torch import nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm

from helpers.config import ModelConfig
from helpers.models.encoder import DownPath


def minibatch_stddev(x: torch.Tensor, group_size: int) -> torch.Tensor:
    """Append one feature map: the mean over features of the std over each group of samples.

    Groups are runs of consecutive samples, so a batch made of [reals; fakes] (each a
    multiple of the group size) never mixes real and fake images in one group.
    """
    batch, channels, height, width = x.shape
    group = min(group_size, batch)
    while batch % group:  # a group size that divides the batch (a last partial batch)
        group -= 1
    y = x.view(-1, group, channels, height, width)
    y = y.float()
    # The variance written out: torch's var over a strided middle dim was 8% of a training step on a CPU.
    variance = (y - y.mean(dim=1, keepdim=True)).square().mean(dim=1)
    y = (variance + 1e-8).sqrt().mean(dim=(1, 2, 3)).to(x.dtype)  # (batch / group,)
    y = y.repeat_interleave(group).view(batch, 1, 1, 1).expand(batch, 1, height, width)
    return torch.cat([x, y], dim=1)


def _identity(layer: nn.Module) -> nn.Module:
    return layer


class ResidualDownBlock(nn.Module):
    """x -> (conv3x3 -> conv3x3 -> avgpool2) + (avgpool2 -> conv1x1), scaled by 1/sqrt(2)."""

    def __init__(self, in_channels: int, out_channels: int, wrap=_identity):
        super().__init__()
        self.conv1 = wrap(nn.Conv2d(in_channels, in_channels, 3, padding=1))
        self.conv2 = wrap(nn.Conv2d(in_channels, out_channels, 3, padding=1))
        self.skip = wrap(nn.Conv2d(in_channels, out_channels, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.conv1(x), 0.2)
        # Pool before the second conv: the same function class as conv-then-pool at a quarter of the cost.
        h = F.leaky_relu(self.conv2(F.avg_pool2d(h, 2)), 0.2)
        return (h + self.skip(F.avg_pool2d(x, 2))) * (1 / math.sqrt(2))


class ResidualDownPath(nn.Module):
    """Image (B, 3, S, S) -> features (B, channels[-1], 4, 4) through residual down blocks.

    To S / 2 by space-to-depth and a 3x3 conv, or with ``full_resolution_channels`` by a 3x3 conv at S and a
    residual down block."""

    def __init__(self, channels: tuple, wrap=_identity, full_resolution_channels: int = 0):
        super().__init__()
        self.space_to_depth = not full_resolution_channels
        self.from_rgb = wrap(nn.Conv2d(12 if self.space_to_depth else 3, full_resolution_channels or channels[0], 3, padding=1))
        first = [] if self.space_to_depth else [ResidualDownBlock(full_resolution_channels, channels[0], wrap)]
        self.blocks = nn.ModuleList(first + [ResidualDownBlock(channels[i], channels[i + 1], wrap) for i in range(len(channels) - 1)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.from_rgb(F.pixel_unshuffle(x, 2) if self.space_to_depth else x), 0.2)
        for block in self.blocks:
            h = block(h)
        return h


class Discriminator(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config.check()
        channels = config.d_channels
        body = spectral_norm if config.d_spectral_norm == "all" else _identity
        head = _identity if config.d_spectral_norm == "none" else spectral_norm
        if config.d_blocks == "residual":
            self.down_path = ResidualDownPath(channels, body, config.d_full_resolution_channels)
        else:
            self.down_path = DownPath(channels, layer_wrapper=body)
        top = channels[-1]
        self.epilogue = body(nn.Conv2d(top + 1, top, 3, padding=1)) if config.d_blocks == "residual" else None
        self.features = body(nn.Linear((top + 1) * 16 if self.epilogue is None else top * 16, top))
        self.adversarial = head(nn.Linear(top, 1))
        self.va_head = head(nn.Linear(top, 2))
        self.va_embedding = head(nn.Linear(2, top)) if config.projection else None

    def forward(self, x: torch.Tensor, va: torch.Tensor = None):
        """(score (B,), predicted VA (B, 2) in [0, 1]). ``va`` is needed only with projection."""
        h = minibatch_stddev(self.down_path(x), self.config.mbstd_group)
        if self.epilogue is not None:
            h = F.leaky_relu(self.epilogue(h), 0.2)
        features = F.leaky_relu(self.features(h.flatten(1)), 0.2)
        score = self.adversarial(features).squeeze(1)
        if self.va_embedding is not None:
            if va is None:
                raise ValueError("a projection discriminator needs the VA of the images it scores")
            score = score + (self.va_embedding(va) * features).sum(dim=1)
        return score, torch.sigmoid(self.va_head(features))
