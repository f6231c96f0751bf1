"""Nearest-neighbour x2 upsampling followed by a 3x3 convolution, computed 2.25x cheaper.

After nearest upsampling every 2x2 block of the big image copies one input pixel, so each
of the four output phases (even/odd row, even/odd column) sees only a 2x2 window of the
small input. Summing the 3x3 kernel's taps that land on the same input pixel turns the
3x3 conv on the big image into four 2x2 convs on the small one: 4 instead of 9
multiply-adds per input channel, with exactly the same result and the same parameters as
``nn.Conv2d(cin, cout, 3, padding=1)`` after ``F.interpolate(scale_factor=2)`` (a test
checks this). Unlike PixelShuffle with free sub-pixel kernels it cannot make checkerboards:
the four phase kernels are tied to one 3x3 kernel.
"""

import math

import torch
from torch import nn
import torch.nn.functional as F

# For output phase 0 (even rows), input row i-1 gets kernel row 0 and row i gets rows 1+2;
# for phase 1 (odd rows), row i gets kernel rows 0+1 and row i+1 gets row 2.
_ROW_TAPS = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]],   # phase 0: [2 taps, 3 kernel rows]
                          [[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]])  # phase 1


def _phase_kernels(weight: torch.Tensor) -> torch.Tensor:
    """(Cout, Cin, 3, 3) -> (4 * Cout, Cin, 2, 2), phases ordered (0,0), (0,1), (1,0), (1,1)."""
    taps = _ROW_TAPS.to(weight)
    # kernel[p, q, o, i, a, b] = sum_y,x taps[p, a, y] * taps[q, b, x] * weight[o, i, y, x]
    kernels = torch.einsum("pay,qbx,oiyx->pqoiab", taps, taps, weight)
    return kernels.reshape(-1, *kernels.shape[3:])


class UpsampleConv3x3(nn.Module):
    """``conv3x3(nearest_upsample_x2(x))`` with an ordinary 3x3 weight and bias."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, 3, 3))
        self.bias = nn.Parameter(torch.empty(out_channels))
        # nn.Conv2d's default initialisation, so both forms start from the same distribution.
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        bound = 1 / math.sqrt(in_channels * 9)
        nn.init.uniform_(self.bias, -bound, bound)
        self._cached = None  # (weight version, kernels, biases) for inference, where no gradient is needed

    def _kernels(self):
        if torch.is_grad_enabled():
            return _phase_kernels(self.weight), self.bias.repeat(4)
        key = (self.weight._version, self.weight.data_ptr(), self.bias._version)
        if self._cached is None or self._cached[0] != key:  # the slider reuses them frame after frame
            self._cached = (key, _phase_kernels(self.weight), self.bias.repeat(4))
        return self._cached[1], self._cached[2]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = x.shape
        channels = self.weight.shape[0]
        kernels, biases = self._kernels()
        phases = F.conv2d(F.pad(x, (1, 1, 1, 1)), kernels, biases)
        # phases: (B, 4C, H+1, W+1); phase (dy, dx) starts at offset (dy, dx).
        phases = phases.view(batch, 2, 2, channels, height + 1, width + 1)
        rows = [torch.stack([phases[:, dy, dx, :, dy:dy + height, dx:dx + width] for dx in (0, 1)], dim=-1) for dy in (0, 1)]
        out = torch.stack(rows, dim=3)  # (B, C, H, 2, W, 2)
        return out.reshape(batch, channels, 2 * height, 2 * width)


def icnr_(conv: nn.Conv2d, scale: int = 2) -> nn.Conv2d:
    """ICNR (Aitken et al. 2017): initialise the conv before ``pixel_shuffle(., scale)`` so that
    its scale**2 sub-pixel kernels are copies of one kernel; the pair then starts out as
    nearest-neighbour upsampling followed by a conv, which cannot make a checkerboard."""
    out_channels = conv.out_channels // scale**2
    base = nn.Conv2d(conv.in_channels, out_channels, conv.kernel_size, padding=conv.padding)
    with torch.no_grad():
        # pixel_shuffle takes output channel c * scale**2 + k to sub-pixel k of channel c.
        conv.weight.copy_(base.weight.repeat_interleave(scale**2, dim=0))
        if conv.bias is not None:
            conv.bias.copy_(base.bias.repeat_interleave(scale**2))
    return conv
