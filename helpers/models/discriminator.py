"""The discriminator: spectral norm everywhere, strided downsampling to 4x4, minibatch
standard deviation, an adversarial output and a VA regression head.

* The downsampling path is shared with the VAE encoder (``DownPath``).
* Spectral normalisation (Miyato et al., ICLR 2018) bounds each layer's Lipschitz constant.
* Minibatch standard deviation (Karras et al., ICLR 2018) lets D see a batch's variety, so a
  generator that collapses to one image is easy to spot.
* The VA head predicts (valence, arousal) in [0, 1]; D learns it on real images and G is
  asked to make images whose predicted VA matches the request (an AC-GAN-style auxiliary
  regressor, Odena et al. 2017).
* ``projection=True`` adds projection conditioning (Miyato & Koyama, ICLR 2018) with a
  linear embedding of the continuous VA: D's score gains <embed(va), features>.
"""

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
    y = (y.var(dim=1, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # (batch / group,)
    y = y.repeat_interleave(group).view(batch, 1, 1, 1).expand(batch, 1, height, width)
    return torch.cat([x, y], dim=1)


class Discriminator(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config.check()
        channels = config.d_channels
        self.down_path = DownPath(channels, layer_wrapper=spectral_norm)
        top = channels[-1]
        self.features = spectral_norm(nn.Linear((top + 1) * 16, top))
        self.adversarial = spectral_norm(nn.Linear(top, 1))
        self.va_head = spectral_norm(nn.Linear(top, 2))
        self.va_embedding = spectral_norm(nn.Linear(2, top)) if config.projection else None

    def forward(self, x: torch.Tensor, va: torch.Tensor = None):
        """(score (B,), predicted VA (B, 2) in [0, 1]). ``va`` is needed only with projection."""
        h = minibatch_stddev(self.down_path(x), self.config.mbstd_group)
        features = F.leaky_relu(self.features(h.flatten(1)), 0.2)
        score = self.adversarial(features).squeeze(1)
        if self.va_embedding is not None:
            if va is None:
                raise ValueError("a projection discriminator needs the VA of the images it scores")
            score = score + (self.va_embedding(va) * features).sum(dim=1)
        return score, torch.sigmoid(self.va_head(features))
