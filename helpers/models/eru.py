"""Emotional Residual Units: how valence and arousal steer the generator's features.

Two flavours, chosen by ``ModelConfig.eru``:

* ``"film"`` -- the original project's final form, FiLM-style (Perez et al., AAAI 2018).
  Four small MLPs map valence and arousal to per-channel modulations. The bases are clamped
  to [-0.5, 0.5] and scaled by ``0.8 + 0.4 * v`` (or ``a``), so each gamma lies in
  [0.5 * 0.8, 1.5 * 1.2] = [0.4, 1.8]; beta = 2 * base lies in [-1, 1]. The unbounded first
  version reached gamma = 21 and made training unstable (SEED_DESIGN.md).
* ``"attention"`` -- Park & Lee, "Emotional Landscape Image Generation Using GANs" (ACCV
  2020): sigmoid(conv([V-map, X])) and sigmoid(conv([A-map, X])) attention maps gate X, then
  conv([m, V, A]) and tanh.

Both add their output to the input (a residual unit), so an untrained unit starts near the
identity and the VAE decoder's warm start is not destroyed.
"""

import torch
from torch import nn
import torch.nn.functional as F

GAMMA_RANGE = (0.4, 1.8)  # the bounds the clamped FiLM form guarantees
BETA_RANGE = (-2.0, 2.0)  # valence beta + arousal beta, each in [-1, 1]


def _modulation_mlp(channels: int, hidden: int) -> nn.Sequential:
    mlp = nn.Sequential(nn.Linear(1, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, channels))
    nn.init.zeros_(mlp[2].weight)  # start at base 0: gamma = multiplier, beta = 0
    nn.init.zeros_(mlp[2].bias)
    return mlp


class FiLMERU(nn.Module):
    """out = x + LeakyReLU(gamma(V, A) * conv(x) + beta(V, A)), gamma in [0.4, 1.8]."""

    def __init__(self, channels: int, hidden: int = 32):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.valence_gamma = _modulation_mlp(channels, hidden)
        self.valence_beta = _modulation_mlp(channels, hidden)
        self.arousal_gamma = _modulation_mlp(channels, hidden)
        self.arousal_beta = _modulation_mlp(channels, hidden)
        self.last_stats = None  # filled only while record_stats is True
        self.record_stats = False

    def modulation(self, va: torch.Tensor):
        """Per-channel (gamma, beta), each (B, C), from VA in [0, 1] of shape (B, 2)."""
        valence, arousal = va[:, :1], va[:, 1:2]
        gamma_v = (1 + self.valence_gamma(valence).clamp(-0.5, 0.5)) * (0.8 + 0.4 * valence)
        gamma_a = (1 + self.arousal_gamma(arousal).clamp(-0.5, 0.5)) * (0.8 + 0.4 * arousal)
        beta_v = 2 * self.valence_beta(valence).clamp(-0.5, 0.5)
        beta_a = 2 * self.arousal_beta(arousal).clamp(-0.5, 0.5)
        # The mean of two gammas in [0.4, 1.8] stays in [0.4, 1.8]; a product would not.
        return 0.5 * (gamma_v + gamma_a), beta_v + beta_a

    def forward(self, x: torch.Tensor, va: torch.Tensor, modulation=None) -> torch.Tensor:
        """``modulation``: this unit's (gamma, beta) when already computed (``fused_modulations``)."""
        gamma, beta = self.modulation(va) if modulation is None else modulation
        if self.record_stats:
            self.last_stats = _stats(gamma, beta)
        features = self.conv(x)
        # addcmul computes beta + gamma * conv(x) in one pass over the feature map. In the features' dtype:
        # under bf16 autocast gamma and beta come out fp32 (the VA term), and mixing them in would run this
        # and every element-wise op after it in fp32, with a cast back before the next conv.
        h = torch.addcmul(beta.to(features.dtype)[:, :, None, None], gamma.to(features.dtype)[:, :, None, None], features)
        return x + F.leaky_relu(h, 0.2)


_MODULATIONS = ("valence_gamma", "arousal_gamma", "valence_beta", "arousal_beta")  # the fused output's column order


def _fused_weights(erus: list) -> tuple:
    """The VA MLPs of FiLM ``erus`` as one two-layer MLP on (valence, arousal): the first layer's weight (2, 4 E H) and
    bias, the second layer's block-diagonal weight (4 E H, 4 C) and bias (C: the units' channels in all), and the
    units' channels. Output columns: every unit's valence-gamma bases, then arousal gamma, valence beta, arousal beta."""
    hidden = erus[0].valence_gamma[0].out_features
    sizes = [unit.conv.out_channels for unit in erus]
    total, blocks = sum(sizes), len(_MODULATIONS) * len(erus)
    reference = erus[0].valence_gamma[0].weight
    first, first_bias = reference.new_zeros(2, blocks * hidden), reference.new_zeros(blocks * hidden)
    second, second_bias = reference.new_zeros(blocks * hidden, len(_MODULATIONS) * total), reference.new_zeros(len(_MODULATIONS) * total)
    block = 0
    for kind_index, kind in enumerate(_MODULATIONS):
        offset = kind_index * total
        for unit, size in zip(erus, sizes):
            mlp, rows = getattr(unit, kind), slice(block * hidden, (block + 1) * hidden)
            first[0 if kind.startswith("valence") else 1, rows] = mlp[0].weight[:, 0]
            first_bias[rows] = mlp[0].bias
            second[rows, offset:offset + size] = mlp[2].weight.t()
            second_bias[offset:offset + size] = mlp[2].bias
            offset, block = offset + size, block + 1
    return first, first_bias, second, second_bias, sizes


@torch.no_grad()
def fused_modulations(erus: list, va: torch.Tensor, cache: dict) -> list:
    """Every FiLM unit's (gamma, beta), as ``FiLMERU.modulation`` computes them, in one pass: two matrix products
    and a few element-wise ops instead of 8 linear layers and ~15 element-wise ops per unit. For inference (no
    gradient reaches the MLPs): on a 2-core Zen 3, one 64x64 image 10% faster and the slider's callback 4%
    (benchmarks/slider_latency.py --film; benchmarks/README.md, twentieth session). ``cache`` keeps the fused
    weights until one of the units or of their MLPs' weights changes."""
    if cache.get("units") != erus:  # parameters listed once: Module.parameters() is slow next to a 5 ms forward pass
        cache.clear()
        cache.update(units=erus, parameters=[p for unit in erus for kind in _MODULATIONS for p in getattr(unit, kind).parameters()])
    key = [(p._version, p.data_ptr()) for p in cache["parameters"]]
    if cache.get("key") != key:
        cache.update(key=key, weights=_fused_weights(erus))
    first, first_bias, second, second_bias, sizes = cache["weights"]
    va = va.to(first.dtype)
    bases = torch.addmm(second_bias, F.leaky_relu(torch.addmm(first_bias, va, first), 0.2), second)
    bases = bases.clamp(-0.5, 0.5).view(len(va), len(_MODULATIONS), -1)
    valence, arousal = va[:, :1], va[:, 1:2]
    gamma = 0.5 * ((1 + bases[:, 0]) * (0.8 + 0.4 * valence) + (1 + bases[:, 1]) * (0.8 + 0.4 * arousal))
    beta = 2 * (bases[:, 2] + bases[:, 3])
    return list(zip(gamma.split(sizes, dim=1), beta.split(sizes, dim=1)))


class AttentionERU(nn.Module):
    """Park & Lee (ACCV 2020): VA attention maps gate the features, then a fusing conv."""

    def __init__(self, channels: int, hidden: int = 32):
        super().__init__()
        self.valence_attention = nn.Conv2d(channels + 1, channels, 3, padding=1)
        self.arousal_attention = nn.Conv2d(channels + 1, channels, 3, padding=1)
        self.fuse = nn.Conv2d(channels + 2, channels, 3, padding=1)
        nn.init.zeros_(self.fuse.weight)  # start as the identity: out = x + tanh(0)
        nn.init.zeros_(self.fuse.bias)
        self.last_stats = None
        self.record_stats = False

    def forward(self, x: torch.Tensor, va: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = x.shape
        valence_map = va[:, 0].view(batch, 1, 1, 1).expand(batch, 1, height, width)
        arousal_map = va[:, 1].view(batch, 1, 1, 1).expand(batch, 1, height, width)
        valence_gate = torch.sigmoid(self.valence_attention(torch.cat([valence_map, x], 1)))
        arousal_gate = torch.sigmoid(self.arousal_attention(torch.cat([arousal_map, x], 1)))
        mixed = x * valence_gate + x * arousal_gate
        if self.record_stats:
            gates = (valence_gate + arousal_gate).detach()
            self.last_stats = {"gate_min": gates.min().item(), "gate_max": gates.max().item(), "gate_mean": gates.mean().item()}
        return x + torch.tanh(self.fuse(torch.cat([mixed, valence_map, arousal_map], 1)))


def _stats(gamma: torch.Tensor, beta: torch.Tensor) -> dict:
    gamma, beta = gamma.detach(), beta.detach()
    return {
        "gamma_min": gamma.min().item(), "gamma_max": gamma.max().item(), "gamma_mean": gamma.mean().item(),
        "beta_min": beta.min().item(), "beta_max": beta.max().item(), "beta_mean": beta.mean().item(),
    }


def make_eru(kind: str, channels: int, hidden: int = 32) -> nn.Module:
    if kind == "film":
        return FiLMERU(channels, hidden)
    if kind == "attention":
        return AttentionERU(channels, hidden)
    raise ValueError(f"unknown ERU kind {kind!r}; use 'film' or 'attention'")
