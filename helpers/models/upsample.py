"""Nearest-neighbour x2 upsampling followed by a 3x3 convolution, computed 2.25x cheaper.

After nearest upsampling every 2x2 block of the big image copies one input pixel, so each
output pixel sees only a 2x2 window of the small input: 4 instead of 9 multiply-adds per
input channel. One layer does exactly that: a stride-2 transposed convolution whose 4x4
kernel is the 3x3 kernel convolved with nearest upsampling's own 2x2 box. Along one axis
the 3 taps (w0, w1, w2) become the 4 taps (w2, w1 + w2, w0 + w1, w0) (reversed, because a
transposed convolution scatters where a convolution gathers). The result and the parameters
are those of ``nn.Conv2d(cin, cout, 3, padding=1)`` after ``F.interpolate(scale_factor=2)``
(a test checks this). Unlike PixelShuffle with free sub-pixel kernels it cannot make
checkerboards: the 16 taps are tied to one 3x3 kernel.

An earlier version ran four 2x2 convolutions as one and cropped the four output phases out of
it; autograd's backward of those crops zero-filled the whole phase tensor four times. On a
2-core AMD EPYC (Zen 3) the 64 px layer's forward + backward took 22.7 ms that way and 13.0 ms
as one transposed convolution.

``bilinear=True`` computes ``conv3x3(bilinear_upsample_x2(x))`` instead, with the same weights. Bilinear x2
(align_corners=False) is nearest x2 followed by the [1, 2, 1] / 4 filter along each axis (a a b b becomes
.., (3a + b) / 4, (a + 3b) / 4, ..), and two convolutions commute, so the layer filters the cheap form's output:
a fixed depthwise 3x3 filter adds 9 multiply-adds per output value, against 4 per input channel for the layer
itself (128-1,024 in the quick generator). Equal to bilinear x2 followed by the conv away from the image's edge,
where the filter repeats the border pixel.
Why: after nearest x2 every 2x2 block starts as one value, and a generator that draws single-pixel dots (snow,
stars) can put them where the conv sees a block's edge, always the same phase of the 2-pixel grid (the shipped
reference model: 80% of the dots of its dark images on one of the four phases, against 26% for real images;
helpers/metrics/dots.py). StyleGAN2 filters its upsampling against such grids ([1, 3, 3, 1]; Karras et al. 2020,
appendix B). Measured at 60 epochs of the quick recipe (benchmarks/README.md, fourteenth session), the filtered
generator drew softer pictures and scored a worse test KID for every seed (0.082-0.107 against 0.057-0.079), and at
that length no model's dots sat on a lattice yet, so the presets keep nearest. Switched on for the last 50 epochs of
the 600-epoch reference run (``train_gan(upsample=...)``), the last upsampling's filter took the dots partly off the
lattice (66% on one phase against 79%) but not off their fixed pixels, at a worse paired test KID (twenty-fourth session).
"""

import math

import torch
from torch import nn
import torch.nn.functional as F

# The [1, 2, 1] / 4 filter along both axes: after nearest x2 it makes bilinear x2.
_BINOMIAL_3X3 = torch.outer(torch.tensor([1.0, 2.0, 1.0]), torch.tensor([1.0, 2.0, 1.0])) / 16

# Row k of the 4-tap kernel sums these taps of the 3-tap kernel: (w2, w1 + w2, w0 + w1, w0).
_BOX_TAPS = torch.tensor([[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


def _transposed_kernel(weight: torch.Tensor) -> torch.Tensor:
    """(Cout, Cin, 3, 3) -> (Cin, Cout, 4, 4), the weight layout of ``F.conv_transpose2d``."""
    taps = _BOX_TAPS.to(weight)
    return torch.einsum("ky,lx,oiyx->iokl", taps, taps, weight)


def binomial_filter(x: torch.Tensor) -> torch.Tensor:
    """Each channel filtered with [1, 2, 1] x [1, 2, 1] / 16, the border pixels repeated outside the image."""
    channels = x.shape[1]
    kernel = _BINOMIAL_3X3.to(device=x.device, dtype=x.dtype).expand(channels, 1, 3, 3)
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel, groups=channels)


class UpsampleConv3x3(nn.Module):
    """``conv3x3(nearest_upsample_x2(x))`` with an ordinary 3x3 weight and bias; with ``bilinear=True``
    ``conv3x3(bilinear_upsample_x2(x))``, away from the edge (see the module's docstring)."""

    def __init__(self, in_channels: int, out_channels: int, bilinear: bool = False):
        super().__init__()
        self.bilinear = bilinear
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, 3, 3))
        self.bias = nn.Parameter(torch.empty(out_channels))
        # nn.Conv2d's default initialisation, so both forms start from the same distribution.
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        bound = 1 / math.sqrt(in_channels * 9)
        nn.init.uniform_(self.bias, -bound, bound)
        self._cached = None  # (weight version, kernel) for inference, where no gradient is needed

    def _kernel(self) -> torch.Tensor:
        if torch.is_grad_enabled():
            return _transposed_kernel(self.weight)
        key = (self.weight._version, self.weight.data_ptr())
        if self._cached is None or self._cached[0] != key:  # the slider reuses it frame after frame
            self._cached = (key, _transposed_kernel(self.weight))
        return self._cached[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.conv_transpose2d(x, self._kernel(), self.bias, stride=2, padding=1)
        return binomial_filter(x) if self.bilinear else x


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
