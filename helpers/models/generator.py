"""The generator, which is also the VAE's decoder.

z (latent_dim) -> 4x4 (+ ERU, ``eru_at_start``) -> [nearest-neighbour x2 + 3x3 conv, ERU] per
stage -> RGB -> tanh. At 64x64: 4 -> 8 -> 16 -> 32 with an ERU after each of the three feature
upsamplings (the original's first version), then to 64x64 in one of two ways:

* ``full_resolution_channels > 0`` (the quick model's default): one more nearest x2 + 3x3 conv
  to a feature map at 64x64, then a 3x3 conv to RGB, so each output pixel has features of its own;
* ``full_resolution_channels = 0``: straight to 64x64 RGB, through the first version's nearest
  x2 + 3x3 conv (``rgb_output="tied"``) or an ICNR-initialised sub-pixel conv ("subpixel").

``noise_inputs`` adds StyleGAN's per-pixel noise after each stage's conv (``NoiseInput``); the
noise maps follow the latent in z, so a seed fixes them too. Measured at the full quick budget
(benchmarks/results/ablations_full_budget.json): the full-resolution stage alone did not lower
the test-split KID (0.096, against 0.073 and 0.091 for two seeds of neither), nor did the noise
alone (0.073); both together did (0.059 for two seeds).

Nearest-neighbour upsampling followed by a 3x3 conv avoids the checkerboard of transposed
convolutions (Odena et al., Distill 2016), the blur of bilinear upsampling compounding over
the stages, and the coloured blocks of an un-ICNR-initialised PixelShuffle: all three
failed in the original project (SEED_DESIGN.md). ``UpsampleConv3x3`` computes the same
function 2.25x cheaper.

Four more options, set by ``ModelConfig``:

* ``eru_at_start``: one more ERU on the 4x4 block, so VA shapes the layout (where the horizon
  and the light are), not only the textures of 8x8 and finer.
* ``rgb_output`` (without a full-resolution stage): ``"tied"`` makes the 64x64 image with nearest x2 + a 3x3 conv,
  so the four pixels of each 2x2 output block share one 3x3 kernel. ``"subpixel"`` uses a
  sub-pixel convolution instead (a 3x3 conv to 4 x 3 channels at 32x32, then PixelShuffle; Shi
  et al. 2016) initialised with ICNR (Aitken et al. 2017): all four sub-pixel kernels start
  equal (no coloured blocks) and training can then give each output pixel its own kernel.
  That freedom was meant to sharpen the images; measured, it drew a fine grid texture and
  scored about 1.6-2x the KID of the tied layer at equal budget (benchmarks/results/
  ablations*.json), so the tied layer is the default.
* ``upsample``: ``"bilinear"`` low-pass filters every upsampling (``UpsampleConv3x3``), as StyleGAN2 does, which
  leaves G no 2-pixel grid of nearest copies to draw its dots on; ``"bilinear_last"`` only the one to the output's size.
  Measured at 60 epochs, both scored a worse KID than nearest (ModelConfig says by how much), so it is nearest.
* ``rgb_skips``: StyleGAN2's skip generator; each stage also draws an RGB image with a 1x1 conv,
  and the output adds them up, each bilinearly upsampled. Measured at the full quick budget, it
  did not lower the KID (ModelConfig says by how much), so it is off.
"""

from dataclasses import replace

import torch
from torch import nn
import torch.nn.functional as F

from helpers.config import ModelConfig
from helpers.models.eru import FiLMERU, fused_modulations, make_eru
from helpers.models.upsample import UpsampleConv3x3, icnr_


class NoiseInput(nn.Module):
    """x + strength * noise: one noise map (B, 1, H, W) for all channels, each channel with its own
    learned strength (StyleGAN, section 3.2). The strengths start at 0, so a new noise input
    changes nothing until training finds a use for it."""

    def __init__(self, channels: int):
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, noise: torch.Tensor = None) -> torch.Tensor:
        if noise is None:
            return x
        return x + self.strength.to(x.dtype).view(1, -1, 1, 1) * noise.to(x.dtype)


def _upsample(image: torch.Tensor) -> torch.Tensor:
    """x2 bilinear: the skip images add up smoothly, without the blocks of nearest-neighbour copies."""
    return F.interpolate(image, scale_factor=2, mode="bilinear", align_corners=False)


class UpStage(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, eru_kind: str, eru_hidden: int, noise_input: bool = False,
                 bilinear: bool = False):
        super().__init__()
        self.up_conv = UpsampleConv3x3(in_channels, out_channels, bilinear)  # nearest (or bilinear) x2, then 3x3 conv
        self.noise = NoiseInput(out_channels) if noise_input else None
        self.eru = make_eru(eru_kind, out_channels, eru_hidden)

    def forward(self, x: torch.Tensor, va: torch.Tensor, noise: torch.Tensor = None, modulation=None) -> torch.Tensor:
        x = self.up_conv(x)
        if self.noise is not None:
            x = self.noise(x, noise)
        x = F.leaky_relu(x, 0.2)
        return self.eru(x, va) if modulation is None else self.eru(x, va, modulation)


class SubPixelRGB(nn.Module):
    """features (B, C, S, S) -> RGB (B, 3, 2S, 2S): 3x3 conv to 12 channels, PixelShuffle(2), ICNR init."""

    def __init__(self, in_channels: int):
        super().__init__()
        self.conv = icnr_(nn.Conv2d(in_channels, 3 * 4, 3, padding=1))  # the 4 sub-pixel kernels start equal

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(self.conv(x), 2)


class Generator(nn.Module):
    """G(z, va) -> image in [-1, 1]; va holds (valence, arousal) in [0, 1], shape (B, 2).

    z is (B, latent_dim), or (B, input_dim) with ``noise_inputs``: the latent, then the noise
    maps, flattened, smallest first. A latent alone (the VAE encoder's) draws without noise."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config.check()
        channels = config.g_channels
        bilinear = config.upsample == "bilinear"
        bilinear_last = config.upsample in ("bilinear", "bilinear_last")  # the upsampling to the output's size
        self.start = nn.Linear(config.latent_dim, channels[0] * 16)
        self.start_eru = make_eru(config.eru, channels[0], config.eru_hidden) if config.eru_at_start else None
        self.stages = nn.ModuleList(
            UpStage(channels[i], channels[i + 1], config.eru, config.eru_hidden, config.noise_inputs, bilinear)
            for i in range(config.stages)
        )
        self.fuse_film = True  # at inference, every FiLM ERU's (gamma, beta) in one pass (``modulations``)
        self._fused_film = {}  # fused_modulations' cache (not a parameter, not saved)
        self.skip_rgbs = nn.ModuleList(nn.Conv2d(channels[i + 1], 3, 1) for i in range(config.stages)) if config.rgb_skips else None
        # The last upsampling goes straight to RGB: a full-resolution feature map would cost
        # more than the rest of the generator on a CPU (memory traffic, not arithmetic).
        if config.full_resolution_channels:
            # One feature stage at the output's size, then RGB (ModelConfig.full_resolution_channels).
            self.to_full_resolution = UpsampleConv3x3(channels[-1], config.full_resolution_channels, bilinear_last)
            self.full_resolution_noise = NoiseInput(config.full_resolution_channels) if config.noise_inputs else None
            self.to_rgb = nn.Conv2d(config.full_resolution_channels, 3, 3, padding=1)
        else:
            self.to_full_resolution = None
            self.to_rgb = SubPixelRGB(channels[-1]) if config.rgb_output == "subpixel" else UpsampleConv3x3(channels[-1], 3, bilinear_last)

    def noise_maps(self, z: torch.Tensor) -> list:
        """The noise maps (B, 1, S, S) that follow the latent in z, one per noise input; None without."""
        sizes = self.config.noise_sizes
        if not sizes or z.shape[1] == self.config.latent_dim:
            return [None] * (self.config.stages + 1)
        if z.shape[1] != self.config.input_dim:
            raise ValueError(f"z has {z.shape[1]} numbers per image; this generator takes {self.config.latent_dim} "
                             f"(a latent alone) or {self.config.input_dim} (a latent and its noise maps)")
        flat = torch.split(z[:, self.config.latent_dim:], [size * size for size in sizes], dim=1)
        maps = [part.reshape(-1, 1, size, size) for part, size in zip(flat, sizes)]
        return maps + [None] * (self.config.stages + 1 - len(maps))

    def modulations(self, va: torch.Tensor) -> list:
        """Each ERU's (gamma, beta) from one fused pass at inference (FiLM ERUs), or Nones where each ERU computes
        its own: while training, so that the gradient reaches every MLP, and for attention ERUs."""
        erus = self.erus()
        if not self.fuse_film or torch.is_grad_enabled() or not erus or not all(isinstance(unit, FiLMERU) for unit in erus):
            return [None] * len(erus)
        return fused_modulations(erus, va, self._fused_film)

    def forward(self, z: torch.Tensor, va: torch.Tensor) -> torch.Tensor:
        noise = self.noise_maps(z)
        modulations = self.modulations(va)
        if self.start_eru is None:
            modulations = [None] + modulations  # the stages' come after the start's place
        x = F.leaky_relu(self.start(z[:, :self.config.latent_dim]), 0.2).view(z.shape[0], -1, 4, 4)
        # The first feature map in the layout of the weights, which every later layer keeps: a conv whose input
        # and weight layouts differ converts one of them (and the gradient) on every call. Training converts the
        # models to channels-last (25 ms of a 64 px step went to such conversions), and so does load_generator; a
        # generator with NCHW weights and channels-last feature maps made the slider's batch of 4 about 1.4x slower.
        x = x.contiguous(memory_format=self._layout())
        if self.start_eru is not None:
            x = self.start_eru(x, va) if modulations[0] is None else self.start_eru(x, va, modulations[0])
        skip = None  # with rgb_skips: the sum of the stages' RGB images so far, at the current size
        for index, (stage, stage_noise) in enumerate(zip(self.stages, noise)):
            x = stage(x, va, stage_noise, modulations[index + 1])
            if self.skip_rgbs is not None:
                rgb = self.skip_rgbs[index](x)
                skip = rgb if skip is None else _upsample(skip) + rgb
        if self.to_full_resolution is not None:
            x = self.to_full_resolution(x)
            if self.full_resolution_noise is not None:
                x = self.full_resolution_noise(x, noise[self.config.stages])
            x = F.leaky_relu(x, 0.2)
        image = self.to_rgb(x)
        return torch.tanh(image if skip is None else image + _upsample(skip))

    def _layout(self) -> torch.memory_format:
        channels_last = self.stages[0].up_conv.weight.is_contiguous(memory_format=torch.channels_last)
        return torch.channels_last if channels_last else torch.contiguous_format

    def erus(self) -> list:
        return ([self.start_eru] if self.start_eru is not None else []) + [stage.eru for stage in self.stages]

    def eru_stats(self, z: torch.Tensor, va: torch.Tensor) -> list:
        """Gamma/beta min, max and mean of each ERU for this batch (one extra forward pass)."""
        for eru in self.erus():
            eru.record_stats = True
        try:
            with torch.no_grad():
                self(z, va)
            return [eru.last_stats for eru in self.erus()]
        finally:
            for eru in self.erus():
                eru.record_stats = False


def with_upsample(generator: Generator, upsample: str) -> Generator:
    """A copy of ``generator`` that upsamples with ``upsample`` (ModelConfig.upsample) and keeps every weight: no
    parameter depends on the mode, so a trained generator can go on training, or be looked at, with another."""
    other = Generator(replace(generator.config, upsample=upsample))
    other.load_state_dict(generator.state_dict())
    device = next(generator.parameters()).device
    return other.to(device, memory_format=generator._layout()).train(generator.training)
