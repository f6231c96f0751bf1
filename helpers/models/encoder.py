"""The VAE encoder and the VAE (encoder + the generator as decoder).

beta-VAE (Higgins et al., ICLR 2017): loss = reconstruction + beta * KL(q(z|x) || N(0, I)).
The reparameterisation trick (Kingma & Welling, 2014) writes z = mu + sigma * eps so the
gradient flows through mu and sigma.
"""

import torch
from torch import nn
import torch.nn.functional as F

from helpers.config import ModelConfig
from helpers.models.generator import Generator

LOGVAR_RANGE = (-10.0, 5.0)  # clamped so exp(logvar) can neither vanish nor explode


def _identity(layer: nn.Module) -> nn.Module:
    return layer


class DownPath(nn.Module):
    """Image (B, 3, S, S) -> features (B, channels[-1], 4, 4), shared by the encoder and D.

    First space-to-depth (each 2x2 pixel block becomes 12 channels at S/2), then a 3x3 conv;
    after that, per stage, 2x2 average pooling and a 3x3 conv at the lower resolution. Every
    pixel is seen with the same weight, as with a 4x4 stride-2 conv (a strided 3x3 conv
    covers pixels unevenly and sends checkerboard gradients back to the generator), and no
    wide feature map is ever held at full resolution.
    """

    def __init__(self, channels: tuple, layer_wrapper=_identity):
        super().__init__()
        self.from_rgb = layer_wrapper(nn.Conv2d(12, channels[0], 3, padding=1))
        self.downs = nn.ModuleList(
            layer_wrapper(nn.Conv2d(channels[i], channels[i + 1], 3, padding=1)) for i in range(len(channels) - 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.from_rgb(F.pixel_unshuffle(x, 2)), 0.2)
        for down in self.downs:
            h = F.leaky_relu(down(F.avg_pool2d(h, 2)), 0.2)
        return h


class Encoder(nn.Module):
    """x (B, 3, S, S) in [-1, 1] -> (mu, logvar), each (B, latent_dim), through a DownPath."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.down_path = DownPath(config.check().encoder_channels)
        self.to_latent = nn.Linear(config.encoder_channels[-1] * 16, 2 * config.latent_dim)

    def forward(self, x: torch.Tensor):
        mu, logvar = self.to_latent(self.down_path(x).flatten(1)).chunk(2, dim=1)
        return mu, logvar.clamp(*LOGVAR_RANGE)


class VAE(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Generator(config)

    def forward(self, x: torch.Tensor, va: torch.Tensor):
        mu, logvar = self.encoder(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.decoder(z, va), mu, logvar


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, I)), summed over latent dims, averaged over the batch."""
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)).mean()
