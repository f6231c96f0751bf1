"""The diffusion model's network: a small U-Net that reads a noisy image x_t, the flow time t and
(valence, arousal), and predicts the velocity v = noise - image (``helpers/rectified_flow.py``).

At 64x64: the image enters as 2x2 patches (pixel unshuffle: 64x64x3 -> 32x32x12, as "simple
diffusion" does to skip full-resolution feature maps, Hoogeboom et al. 2023; the GAN's
generator likewise ends in a sub-pixel convolution), then three levels at 32, 16 and 8 pixels,
each with ``blocks_per_level`` residual blocks on the way down and on the way up, the two paths
joined by skip connections (Ronneberger et al. 2015); self-attention at 16x16 and in the middle
(Ho et al. 2020). Downsampling is a 2x2 average, upsampling nearest-neighbour: no learned
resampling, the residual blocks do the work. At 128x128 one more level.

**Conditioning.** An MLP turns (t, valence, arousal) into one embedding e; every residual block
turns e into a per-channel scale and shift of its normalised features,
``h * (1 + gamma(e)) + beta(e)`` (FiLM, Perez et al. 2018; AdaGN, Dhariwal & Nichol 2021), as
the original project's diffusion model did. It is the same idea as the GAN's FiLM ERU
(``models/eru.py``), with three differences: gamma and beta are not clamped nor multiplied by
fixed ramps in VA (a diffusion model trains without the instabilities that needed the clamp),
they are applied in every block instead of once per stage, and time is an input too, since
the same network has to denoise a nearly clean image and pure noise.

**Classifier-free guidance** (Ho & Salimans 2022) needs the same network to predict without VA:
``drop_va`` replaces the VA part of the embedding by a learned "no VA" vector. Training drops VA
with probability ``DiffusionTrainConfig.label_dropout``; sampling asks both questions.
"""

import math

import torch
from torch import nn
import torch.nn.functional as F

from helpers.config import DiffusionModelConfig


def _groups(channels: int) -> int:
    """GroupNorm groups: the most, up to 32, that divide the channels with at least 4 channels each."""
    return max(g for g in range(1, 33) if channels % g == 0 and channels // g >= min(4, channels))


def time_features(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of the flow time t in [0, 1], (B,) -> (B, dim) (Vaswani et al. 2017, on 1000 t)."""
    half = dim // 2
    frequencies = torch.exp(-math.log(10_000) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = 1000 * t.float()[:, None] * frequencies[None]
    return torch.cat([angles.cos(), angles.sin()], dim=1)


class ResidualBlock(nn.Module):
    """x + conv(SiLU(FiLM(norm(conv(SiLU(norm(x))))))), FiLM = h * (1 + gamma(e)) + beta(e)."""

    def __init__(self, in_channels: int, out_channels: int, embedding_dim: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(in_channels), in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.film = nn.Sequential(nn.SiLU(), nn.Linear(embedding_dim, 2 * out_channels))
        self.norm2 = nn.GroupNorm(_groups(out_channels), out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.skip = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()
        # Start as the identity with no modulation (gamma = beta = 0): like an untrained ERU.
        for layer in (self.film[1], self.conv2):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        gamma, beta = self.film(embedding)[:, :, None, None].chunk(2, dim=1)
        h = torch.addcmul(beta, self.norm2(h), 1 + gamma)  # norm(h) * (1 + gamma) + beta in one pass
        return self.skip(x) + self.conv2(F.silu(h))


class SelfAttention(nn.Module):
    """Multi-head self-attention over the pixels of a feature map, added to it."""

    def __init__(self, channels: int, head_channels: int = 32):
        super().__init__()
        # heads of about head_channels each, as many as divide the channels
        self.heads = next(h for h in range(max(1, channels // head_channels), 0, -1) if channels % h == 0)
        self.norm = nn.GroupNorm(_groups(channels), channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)
        nn.init.zeros_(self.out.weight)  # starts as the identity
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(batch, 3, self.heads, channels // self.heads, height * width).unbind(1)
        h = F.scaled_dot_product_attention(q.transpose(-1, -2), k.transpose(-1, -2), v.transpose(-1, -2))
        return x + self.out(h.transpose(-1, -2).reshape(batch, channels, height, width))


class Level(nn.Module):
    """The residual blocks of one resolution, each followed by self-attention where asked."""

    def __init__(self, in_channels: int, out_channels: int, count: int, embedding_dim: int, attention: bool):
        super().__init__()
        self.blocks = nn.ModuleList(
            ResidualBlock(in_channels if i == 0 else out_channels, out_channels, embedding_dim) for i in range(count))
        self.attention = nn.ModuleList(SelfAttention(out_channels) if attention else nn.Identity() for _ in range(count))

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        for block, attention in zip(self.blocks, self.attention):
            x = attention(block(x, embedding))
        return x


class UNet(nn.Module):
    """v(x_t, t, va): the velocity for noisy images x_t (B, 3, S, S) in about [-1, 1] (pure noise at
    t = 1), flow times t (B,) in [0, 1] and va (B, 2) in [0, 1]; ``drop_va`` (B,) bool: True
    where VA is replaced by the learned "no VA" embedding (all True when ``va`` is None)."""

    def __init__(self, config: DiffusionModelConfig):
        super().__init__()
        self.config = config.check()
        channels, dim = config.channels, config.embedding_dim
        self.va_embedding = nn.Sequential(nn.Linear(2, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.no_va = nn.Parameter(torch.zeros(dim))
        self.embedding = nn.Sequential(nn.Linear(2 * dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        sizes = [config.image_size // 2 ** (level + 1) for level in range(config.levels)]
        attention = [size == config.attention_resolution for size in sizes]
        self.stem = nn.Conv2d(3 * 4, channels[0], 3, padding=1)  # on 2x2 patches: 12 channels at half size
        self.down = nn.ModuleList(
            Level(channels[max(i - 1, 0)], channels[i], config.blocks_per_level, dim, attention[i])
            for i in range(config.levels))
        self.middle = nn.ModuleList([ResidualBlock(channels[-1], channels[-1], dim), SelfAttention(channels[-1]),
                                     ResidualBlock(channels[-1], channels[-1], dim)])
        # On the way up, each level's first block also reads the skip from the same level on the way down.
        self.up = nn.ModuleList(
            Level(channels[min(i + 1, config.levels - 1)] + channels[i], channels[i], config.blocks_per_level, dim,
                  attention[i])
            for i in range(config.levels))
        self.out_norm = nn.GroupNorm(_groups(channels[0]), channels[0])
        self.out = nn.Conv2d(channels[0], 3 * 4, 3, padding=1)  # back to 2x2 patches, then pixel shuffle
        nn.init.zeros_(self.out.weight)  # predicts v = 0 at the start
        nn.init.zeros_(self.out.bias)

    def condition(self, t: torch.Tensor, va: torch.Tensor = None, drop_va: torch.Tensor = None) -> torch.Tensor:
        """The embedding e of (t, va) that every block reads, (B, embedding_dim)."""
        no_va = self.no_va.expand(len(t), -1)
        if va is None:
            va_part = no_va
        else:
            va_part = self.va_embedding(va)
            if drop_va is not None:
                va_part = torch.where(drop_va[:, None], no_va.to(va_part.dtype), va_part)
        return self.embedding(torch.cat([time_features(t, self.config.embedding_dim), va_part.float()], dim=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, va: torch.Tensor = None, drop_va: torch.Tensor = None) -> torch.Tensor:
        embedding = self.condition(t, va, drop_va)
        h = self.stem(F.pixel_unshuffle(x, 2))
        skips = []
        for index, level in enumerate(self.down):
            if index > 0:
                h = F.avg_pool2d(h, 2)
            h = level(h, embedding)
            skips.append(h)
        h = self.middle[2](self.middle[1](self.middle[0](h, embedding)), embedding)
        for index in reversed(range(len(self.up))):
            if index < len(self.up) - 1:
                h = F.interpolate(h, scale_factor=2, mode="nearest")
            h = self.up[index](torch.cat([h, skips[index]], dim=1), embedding)
        return F.pixel_shuffle(self.out(F.silu(self.out_norm(h))), 2)
