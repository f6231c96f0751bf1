"""Small demonstrations of the techniques the notebooks name, each reproducing its effect on
purpose-built inputs: a number to check, and a ``*_figure`` to look at.

Nothing here trains the landscape model; each function says what it does and does not show.

* upsampling: Odena et al.'s overlap pattern of a stride-2 transposed conv, ICNR against plain
  initialisation of a sub-pixel conv, bilinear against nearest-neighbour interpolation;
* spectral norm, minibatch standard deviation, Adam's beta1 = 0, the (x - 1) / 8 scaling;
* ADA: real images as D sees them at several p;
* LPIPS: two distortions with the same MSE.
"""

import numpy as np
import matplotlib.pyplot as plt
import torch
from torch import nn
import torch.nn.functional as F

from helpers.models.upsample import icnr_

# ---------------------------------------------------------------------------------------------
# Upsampling (Odena, Dumoulin & Olah, "Deconvolution and Checkerboard Artifacts", Distill 2016;
# Aitken et al., "Checkerboard artifact free sub-pixel convolution", arXiv:1707.02937, 2017)


def transposed_conv_overlap(kernel_size: int = 3, stride: int = 2, size: int = 4) -> np.ndarray:
    """How many kernel taps land on each output pixel of a transposed conv: all-one weights on an
    all-one input (Odena et al. 2016). A kernel size not divisible by the stride overlaps unevenly."""
    layer = nn.ConvTranspose2d(1, 1, kernel_size, stride=stride, bias=False)
    nn.init.ones_(layer.weight)
    with torch.no_grad():
        return layer(torch.ones(1, 1, size, size))[0, 0].numpy()


class _SubPixel(nn.Module):
    def __init__(self, channels: int, icnr: bool):
        super().__init__()
        self.conv = nn.Conv2d(channels, 4 * channels, 3, padding=1)
        if icnr:
            icnr_(self.conv)

    def forward(self, x):
        return F.pixel_shuffle(self.conv(x), 2)


def _upsampler(kind: str, channels: int) -> nn.Module:
    from helpers.models.upsample import UpsampleConv3x3

    if kind == "transposed":
        return nn.ConvTranspose2d(channels, channels, 3, stride=2, padding=1, output_padding=1)
    if kind == "subpixel":
        return _SubPixel(channels, icnr=False)
    if kind == "subpixel_icnr":
        return _SubPixel(channels, icnr=True)
    if kind == "nearest_conv":
        return UpsampleConv3x3(channels, channels)
    raise ValueError(f"unknown upsampler {kind!r}; use one of {', '.join(UPSAMPLERS)}")


UPSAMPLERS = {
    "transposed": "transposed conv 3x3, stride 2",
    "subpixel": "sub-pixel conv (PixelShuffle), plain init",
    "subpixel_icnr": "sub-pixel conv, ICNR init",
    "nearest_conv": "nearest x2 + 3x3 conv (UpsampleConv3x3)",
}


@torch.no_grad()
def constant_input_response(kind: str, stages: int = 3, channels: int = 8, size: int = 8, seed: int = 0) -> np.ndarray:
    """Channel mean after ``stages`` untrained x2 upsamplers (LeakyReLU between) fed a constant
    image, cropped to its central half, away from the zero-padded borders.

    A constant input carries no pattern, so any variation in the output is the upsampler's own.
    """
    torch.manual_seed(seed)
    x = torch.ones(1, channels, size, size)
    for _ in range(stages):
        x = F.leaky_relu(_upsampler(kind, channels)(x), 0.2)
    side = x.shape[-1]
    return x[0, :, side // 4: 3 * side // 4, side // 4: 3 * side // 4].mean(0).double().numpy()


def pattern_strength(response: np.ndarray) -> float:
    """Spatial std of a map relative to its mean magnitude: 0 for a flat map."""
    return float(response.std() / (np.abs(response).mean() + 1e-12))


def upsampling_artifacts_figure(stages: int = 3, seed: int = 0):
    """Odena et al.'s overlap count, then a constant image through four untrained upsamplers.

    What it shows: which upsamplers make a pattern out of nothing at initialisation (before any
    training). What it does not show: how training changes that (a network can learn to cancel
    a checkerboard, or to amplify one).
    """
    figure, axes = plt.subplots(1, 5, figsize=(15, 3.6), gridspec_kw={"width_ratios": [1, 1, 1, 1, 1]})
    overlap = transposed_conv_overlap()
    axes[0].imshow(overlap, cmap="Blues", vmin=0)
    for (row, column), count in np.ndenumerate(overlap):
        axes[0].text(column, row, f"{count:.0f}", ha="center", va="center", fontsize=8)
    axes[0].set_title("overlap count: transposed conv\n3x3, stride 2, ones in, ones out", fontsize=9)
    for axis, (kind, name) in zip(axes[1:], UPSAMPLERS.items()):
        response = constant_input_response(kind, stages, seed=seed)
        deviation = response / response.mean() - 1  # 0 where the output is as flat as the input
        axis.imshow(deviation, cmap="RdBu_r", vmin=-0.5, vmax=0.5)
        axis.set_title(f"{name}\nvariation {pattern_strength(response):.0%}", fontsize=9)
    for axis in axes:
        axis.set_xticks([])
        axis.set_yticks([])
    figure.suptitle(f"A constant image through {stages} untrained x2 stages (centre crop; colour: deviation from the "
                    "mean, +-50%): any pattern is the upsampler's own", fontsize=10)
    figure.tight_layout(rect=(0, 0, 1, 0.9))
    return figure


@torch.no_grad()
def interpolate_impulse(mode: str, stages: int = 3, size: int = 8) -> np.ndarray:
    """One bright pixel on a dark ``size`` x ``size`` image, upsampled x2 ``stages`` times."""
    x = torch.zeros(1, 1, size, size)
    x[0, 0, size // 2, size // 2] = 1.0
    for _ in range(stages):
        x = F.interpolate(x, scale_factor=2, mode=mode, **({"align_corners": False} if mode == "bilinear" else {}))
    return x[0, 0].numpy()


def interpolation_blur_figure(stages: int = 3):
    """Bilinear against nearest-neighbour interpolation of one bright pixel, with no learned weights.

    What it shows: bilinear's blur compounds stage after stage (the pixel becomes a wide soft
    blob); nearest copies it into a sharp block that the following 3x3 conv can shape. What it
    does not show: the X-shaped artifacts the original met, which came with training.
    """
    figure, axes = plt.subplots(1, 3, figsize=(12, 3.8), gridspec_kw={"width_ratios": [1, 1, 1.4]})
    for axis, mode in zip(axes[:2], ("bilinear", "nearest")):
        image = interpolate_impulse(mode, stages)
        axis.imshow(image, cmap="magma", vmin=0, vmax=1)
        width = int((image > 0.05 * image.max()).any(axis=0).sum())
        axis.set(xticks=[], yticks=[], title=f"{mode}: one pixel after {stages} x2 stages\n{width} pixels wide above 5% of its peak")
        row = image[np.unravel_index(image.argmax(), image.shape)[0]]
        axes[2].plot(row / row.max(), label=mode, drawstyle="steps-mid" if mode == "nearest" else "default")
    axes[2].set(xlabel="column", ylabel="brightness / peak", title="cross-section through the pixel")
    axes[2].legend()
    figure.tight_layout()
    return figure


# ---------------------------------------------------------------------------------------------
# Spectral normalisation (Miyato et al., ICLR 2018) and minibatch standard deviation (Karras et al., ICLR 2018)


def largest_singular_value(weight: torch.Tensor) -> float:
    """The spectral norm of a weight as spectral_norm sees it: a conv kernel reshaped to (out, in * k * k)."""
    return float(torch.linalg.matrix_norm(weight.detach().float().reshape(weight.shape[0], -1), ord=2))


def spectral_norms(model: nn.Module) -> list:
    """For each layer under ``torch.nn.utils.parametrizations.spectral_norm``: its name, the
    largest singular value of the weight it learns (without the norm) and of the weight it uses."""
    rows = []
    for name, module in model.named_modules():
        parametrizations = getattr(module, "parametrizations", None)
        if parametrizations is None or "weight" not in parametrizations:
            continue
        with torch.no_grad():
            used = module.weight
        rows.append({"layer": name, "without": largest_singular_value(parametrizations.weight.original),
                     "with": largest_singular_value(used)})
    return rows


def spectral_norm_figure(model: nn.Module, title: str = "discriminator"):
    rows = spectral_norms(model)
    figure, axis = plt.subplots(figsize=(max(6, 0.7 * len(rows) + 2), 3.6))
    if not rows:
        axis.text(0.5, 0.5, f"no layer of the {title} has spectral norm", ha="center", va="center")
        axis.axis("off")
        return figure
    positions = np.arange(len(rows))
    axis.bar(positions - 0.2, [row["without"] for row in rows], 0.4, label="learned weight (without the norm)")
    axis.bar(positions + 0.2, [row["with"] for row in rows], 0.4, label="weight used (with the norm)")
    axis.axhline(1, color="black", lw=0.8)
    axis.set_ylim(0, 1.3 * max(1.0, *(row["without"] for row in rows)))
    axis.set_xticks(positions, [row["layer"].replace("parametrizations.", "") for row in rows], rotation=30, ha="right", fontsize=8)
    axis.set(ylabel="largest singular value", title=f"spectral norm of each layer of the {title}")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def minibatch_stddev_value(images: np.ndarray, group_size: int = 4) -> np.ndarray:
    """The extra feature ``minibatch_stddev`` appends, computed on the images themselves (in
    [-1, 1]): one number per group, the mean over pixels of the std across the group."""
    from helpers.image_tensors import to_tensor
    from helpers.models.discriminator import minibatch_stddev

    x = to_tensor(images)
    extra = minibatch_stddev(x, group_size)[:, -1]  # the appended map; constant within each group
    return extra[::group_size, 0, 0].numpy()


def minibatch_stddev_figure(images: np.ndarray, group_size: int = 4):
    """A group of different real images beside a group of one image repeated (a collapsed G)."""
    different = images[:group_size]
    collapsed = np.repeat(images[:1], group_size, axis=0)
    values = minibatch_stddev_value(np.concatenate([different, collapsed]), group_size)
    figure, axes = plt.subplots(2, group_size, figsize=(1.6 * group_size, 3.8))
    for row, (group, label) in enumerate([(different, "different images"), (collapsed, "one image, repeated")]):
        for column, image in enumerate(group):
            axes[row, column].imshow(image)
            axes[row, column].axis("off")
        axes[row, 0].set_title(f"{label}: minibatch std = {values[row]:.3f}", loc="left", fontsize=9)
    figure.tight_layout()
    return figure, values


# ---------------------------------------------------------------------------------------------
# Adam's beta1 = 0 in a two-player game


def adam_bilinear_game(beta1: float, steps: int = 400, learning_rate: float = 0.05, start=(1.0, 1.0)) -> np.ndarray:
    """The simplest GAN-like game, min over x, max over y of x * y (equilibrium at 0, 0), played by
    two Adam optimisers that take turns, as D and G do. Returns the (steps + 1, 2) path.

    Momentum keeps pushing in the direction that helped against the opponent's *old* position;
    in a game the opponent has moved on, so the players overshoot and spiral outwards.
    """
    x = torch.tensor([start[0]], requires_grad=True)
    y = torch.tensor([start[1]], requires_grad=True)
    x_optimizer = torch.optim.Adam([x], lr=learning_rate, betas=(beta1, 0.99))
    y_optimizer = torch.optim.Adam([y], lr=learning_rate, betas=(beta1, 0.99))
    path = [start]
    for _ in range(steps):
        y_optimizer.zero_grad()
        (-x.detach() * y).sum().backward()  # the "discriminator" y maximises x * y
        y_optimizer.step()
        x_optimizer.zero_grad()
        (x * y.detach()).sum().backward()  # the "generator" x minimises it
        x_optimizer.step()
        path.append((x.item(), y.item()))
    return np.array(path)


def adam_beta1_figure(betas=(0.0, 0.9), steps: int = 400):
    figure, axis = plt.subplots(figsize=(5.2, 5))
    for beta1 in betas:
        path = adam_bilinear_game(beta1, steps)
        axis.plot(path[:, 0], path[:, 1], lw=1, label=f"beta1 = {beta1:g}: ends {np.hypot(*path[-1]):.2f} from (0, 0)")
    axis.plot(0, 0, "k*", markersize=10, label="equilibrium")
    axis.plot(1, 1, "ko", markersize=5, label=f"start, {np.hypot(1, 1):.2f} from (0, 0)")
    axis.set(xlabel="x (the generator's move)", ylabel="y (the discriminator's move)", aspect="equal",
             title=f"min_x max_y x*y, alternating Adam steps, {steps} rounds")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


# ---------------------------------------------------------------------------------------------
# The rating scale


def va_scaling_figure():
    """1-9 ratings mapped to the model's [0, 1] by the original's x / 9 and by (x - 1) / 8, and the
    range of the ERU's fixed multiplier 0.8 + 0.4 v that follows from each."""
    from helpers.va import rating_to_unit

    ratings = np.linspace(1, 9, 81)
    figure, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for values, label in [(ratings / 9, "x / 9 (the original)"), (rating_to_unit(ratings), "(x - 1) / 8 (helpers.va)")]:
        axes[0].plot(ratings, values, label=f"{label}: 1 -> {values[0]:.2f}, 9 -> {values[-1]:.2f}")
        multiplier = 0.8 + 0.4 * values
        axes[1].plot(ratings, multiplier, label=f"{label}: {multiplier[0]:.3f} to {multiplier[-1]:.3f}")
    axes[0].set(xlabel="rating (1-9)", ylabel="model input", title="the rating as the model sees it", xticks=range(1, 10))
    axes[1].axhspan(0.8, 1.2, color="green", alpha=0.1)
    axes[1].set(xlabel="rating (1-9)", ylabel="0.8 + 0.4 v", title="the ERU's fixed multiplier (designed range 0.8-1.2 shaded)",
                xticks=range(1, 10))
    for axis in axes:
        axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


# ---------------------------------------------------------------------------------------------
# ADA (Karras et al., NeurIPS 2020): what the discriminator sees


def ada_views(images: np.ndarray, probabilities=(0.2, 0.5, 0.8), seed: int = 0) -> dict:
    """{p: (uint8 images as D sees them at augmentation probability p, bool mask of the images
    whose VA cues an augmentation changed)}, through ``helpers.augment.AdaptiveAugment`` itself."""
    from helpers.augment import AdaptiveAugment
    from helpers.image_tensors import to_tensor, to_uint8

    views = {}
    for p in probabilities:
        noise = torch.Generator().manual_seed(seed)
        augmented, va_changed = AdaptiveAugment(p=p)(to_tensor(images), noise)
        views[p] = (to_uint8(augmented), va_changed.numpy())
    return views


def ada_views_figure(images: np.ndarray, probabilities=(0.2, 0.5, 0.8), seed: int = 0):
    views = ada_views(images, probabilities, seed)
    rows = 1 + len(views)
    figure, axes = plt.subplots(rows, len(images), figsize=(1.5 * len(images), 1.65 * rows), squeeze=False)
    for column, image in enumerate(images):
        axes[0, column].imshow(image)
    axes[0, 0].set_title("the real images", loc="left", fontsize=9)
    for row, (p, (augmented, va_changed)) in enumerate(views.items(), start=1):
        for column, image in enumerate(augmented):
            axes[row, column].imshow(image)
            if va_changed[column]:
                axes[row, column].set_xlabel("cutout: no VA loss", fontsize=7, color="crimson", labelpad=1)
        axes[row, 0].set_ylabel(f"p = {p:g}", fontsize=9)
    for axis in axes.flat:
        axis.set_xticks([])
        axis.set_yticks([])
    figure.suptitle("Real images as the discriminator sees them under ADA: shifts and cutout, each applied with probability p\n"
                    "(the same random draws in every row, so what is augmented at one p is also augmented at a larger one)",
                    fontsize=9)
    figure.tight_layout()
    return figure


# ---------------------------------------------------------------------------------------------
# LPIPS (Zhang et al., CVPR 2018): equal pixel error, different perceptual distance


def equal_mse_distortions(image: np.ndarray, seed: int = 0) -> dict:
    """Two distortions of one uint8 image with the same mean squared error (on [-1, 1]): a
    one-pixel shift (the same scene, moved) and Gaussian noise scaled to match its MSE.

    Returns {"shifted": uint8 image, "noisy": uint8 image, "mse": {"shifted": float, "noisy": float}}.
    """
    reference = image.astype(np.float64) / 127.5 - 1
    shifted = np.roll(reference, 1, axis=1)
    shifted[:, 0] = reference[:, 0]  # no wrap-around: repeat the edge column
    target = np.mean((shifted - reference) ** 2)
    noise = np.random.default_rng(seed).standard_normal(reference.shape)
    # Clipping to [-1, 1] removes some noise; find the scale whose clipped noise has the target MSE.
    low, high = 0.0, 4.0
    for _ in range(60):
        scale = (low + high) / 2
        error = np.mean((np.clip(reference + scale * noise, -1, 1) - reference) ** 2)
        low, high = (scale, high) if error < target else (low, scale)
    noisy = np.clip(reference + scale * noise, -1, 1)
    to_uint8 = lambda x: np.round((x + 1) * 127.5).astype(np.uint8)  # noqa: E731
    shifted_uint8, noisy_uint8 = to_uint8(shifted), to_uint8(noisy)
    mse = {name: float(np.mean((picture.astype(np.float64) / 127.5 - 1 - reference) ** 2))
           for name, picture in (("shifted", shifted_uint8), ("noisy", noisy_uint8))}
    return {"shifted": shifted_uint8, "noisy": noisy_uint8, "mse": mse}


def lpips_or_message():
    """(LPIPS model, "") when its AlexNet weights are on this machine, else (None, the message
    that says how to get them); never tries a download."""
    from helpers.perceptual import PerceptualWeightsMissing, load_lpips, lpips_available, missing_weights_message

    if not lpips_available():
        return None, missing_weights_message()
    try:
        return load_lpips(), ""
    except PerceptualWeightsMissing as missing:
        return None, str(missing)


def lpips_distance(lpips_model, first: np.ndarray, second: np.ndarray) -> float:
    from helpers.image_tensors import to_tensor

    with torch.no_grad():
        return float(lpips_model(to_tensor(first[None]), to_tensor(second[None])).item())


def equal_mse_figure(image: np.ndarray, lpips_model=None, message: str = ""):
    """The image, its shifted and its noisy copy, each titled with its MSE and (given a model) LPIPS.
    Without a model, ``message`` (why LPIPS is missing) is written under the pictures."""
    pair = equal_mse_distortions(image)
    figure, axes = plt.subplots(1, 3, figsize=(9, 3.6 if not message else 4.4))
    distances = {}
    axes[0].imshow(image)
    axes[0].set_title("original", fontsize=9)
    for axis, name in zip(axes[1:], ("shifted", "noisy")):
        axis.imshow(pair[name])
        lpips_text = "LPIPS: not computed"
        if lpips_model is not None:
            distances[name] = lpips_distance(lpips_model, image, pair[name])
            lpips_text = f"LPIPS {distances[name]:.3f}"
        axis.set_title(f"{'shifted one pixel' if name == 'shifted' else 'Gaussian noise'}\nMSE {pair['mse'][name]:.4f}, {lpips_text}",
                       fontsize=9)
    for axis in axes:
        axis.axis("off")
    if message:
        import textwrap

        figure.text(0.01, 0.01, "\n".join(textwrap.wrap(message, 150)), fontsize=7, color="crimson", va="bottom")
    figure.tight_layout(rect=(0, 0.12 if message else 0, 1, 1))
    return figure, {"mse": pair["mse"], "lpips": distances}
