"""Exponential moving average of the generator's weights (Karras et al. 2018; Yazici et al. 2019).

The average of the recent weights gives smoother, better images than the last weights
alone. With decay 0.999 it remembers about 1000 steps, so a short run would still be mostly
its initial weights: the decay is warmed up as min(decay, (1 + step) / (10 + step)).
"""

import copy

import torch


def ema_decay(step: int, decay: float) -> float:
    return min(decay, (1 + step) / (10 + step))


def make_ema(model: torch.nn.Module) -> torch.nn.Module:
    ema = copy.deepcopy(model).eval()
    ema.requires_grad_(False)
    return ema


@torch.no_grad()
def update_ema(ema: torch.nn.Module, model: torch.nn.Module, step: int, decay: float) -> float:
    """ema = beta * ema + (1 - beta) * model for parameters; buffers are copied. Returns beta."""
    beta = ema_decay(step, decay)
    ema_params = list(ema.parameters())
    torch._foreach_lerp_(ema_params, [p.detach() for p in model.parameters()], 1.0 - beta)
    for ema_buffer, buffer in zip(ema.buffers(), model.buffers()):
        ema_buffer.copy_(buffer)
    return beta
