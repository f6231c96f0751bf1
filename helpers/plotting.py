"""Figures for the notebooks. Every axis that shows valence or arousal is in 1-9 units."""

import numpy as np
import matplotlib.pyplot as plt

from helpers.generate import generate, va_grid_ratings
from helpers.image_tensors import grid

VA_TICKS = range(1, 10)


def show_images(images: np.ndarray, columns: int, title: str = "", scale: float = 1.6, labels=None):
    """A uint8 image grid as one figure (labels: one short string per image, drawn below it).

    Each cell is ``scale`` inches wide and as tall as the images' aspect ratio makes it, so a
    wide picture (a reconstruction strip) gets a short figure, not a square one.
    """
    rows = -(-len(images) // columns)
    cell_height = scale * images.shape[1] / images.shape[2] * (1.15 if labels else 1)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * scale, rows * cell_height + (0.4 if title else 0)),
                                squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index < len(images):
            axis.imshow(images[index])
            if labels is not None:
                axis.set_title(labels[index], fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def va_scatter(valence, arousal, title="Labels on the valence-arousal plane", ax=None):
    """Russell's circumplex: valence across, arousal up, quadrants around the neutral (5, 5)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(valence, arousal, s=6, alpha=0.5)
    ax.axhline(5, color="grey", lw=0.8)
    ax.axvline(5, color="grey", lw=0.8)
    for (x, y, text) in [(8.6, 8.6, "excited,\nhappy"), (1.4, 8.6, "angry,\nafraid"), (1.4, 1.4, "sad,\ngloomy"), (8.6, 1.4, "calm,\ncontent")]:
        ax.text(x, y, text, ha="center", va="center", fontsize=8, color="dimgrey")
    ax.set(xlim=(1, 9), ylim=(1, 9), xticks=VA_TICKS, yticks=VA_TICKS, xlabel="valence (1 = unpleasant, 9 = pleasant)",
           ylabel="arousal (1 = calm, 9 = excited)", title=title, aspect="equal")
    return ax


def va_histograms(valence, arousal):
    figure, axes = plt.subplots(1, 2, figsize=(9, 3))
    for axis, values, name in [(axes[0], valence, "valence"), (axes[1], arousal, "arousal")]:
        axis.hist(values, bins=np.linspace(1, 9, 33), color="tab:blue" if name == "valence" else "tab:orange")
        axis.set(xlim=(1, 9), xticks=VA_TICKS, xlabel=f"{name} (1-9)", ylabel="images",
                 title=f"{name}: mean {np.mean(values):.2f}, sd {np.std(values):.2f}")
    figure.tight_layout()
    return figure


def sorted_strip(data, by: str = "valence", count: int = 10):
    """Images at evenly spaced ranks of one rating, lowest to highest."""
    values = getattr(data, by)
    order = np.argsort(values)
    picks = order[np.linspace(0, len(order) - 1, count).round().astype(int)]
    return show_images(data.images[picks], count, f"sorted by {by}, low -> high",
                       labels=[f"{by[0].upper()} {values[i]:.1f}" for i in picks])


def colour_against_va(images, valence, arousal, title_prefix=""):
    """Brightness, saturation and warmth against V and A, each with its Pearson r and the fitted line."""
    from helpers.metrics import colour_stats, pearson

    stats = colour_stats(images)
    figure, axes = plt.subplots(2, 3, figsize=(12, 6.5))
    for row, (ratings, name) in enumerate([(valence, "valence"), (arousal, "arousal")]):
        for column, stat in enumerate(["brightness", "saturation", "warmth"]):
            axis = axes[row, column]
            y = stats[stat]
            axis.scatter(ratings, y, s=4, alpha=0.35)
            slope, intercept = np.polyfit(ratings, y, 1)
            xs = np.array([1, 9])
            axis.plot(xs, slope * xs + intercept, color="crimson")
            axis.set(xlim=(1, 9), xticks=VA_TICKS, xlabel=f"{name} (1-9)", ylabel=stat,
                     title=f"{title_prefix}{stat} vs {name}: r = {pearson(ratings, y):+.2f}")
    figure.tight_layout()
    return figure, stats


def va_grid_figure(generator, steps: int = 5, seed: int = 0, title: str = None):
    """The same z across a V x A grid: valence across 1..9, arousal down 9..1."""
    valence, arousal = va_grid_ratings(steps)
    images = generate(generator, valence, arousal, np.full(steps * steps, seed))
    figure, axis = plt.subplots(figsize=(1.5 * steps + 1, 1.5 * steps + 0.6))
    axis.imshow(grid(images, steps, padding=1))
    size = images.shape[1] + 1
    centres = [1 + size * i + size / 2 for i in range(steps)]
    levels = np.linspace(1, 9, steps)
    axis.set_xticks(centres, [f"{v:g}" for v in levels])
    axis.set_yticks(centres, [f"{a:g}" for a in levels[::-1]])
    axis.set(xlabel="valence", ylabel="arousal", title=title or f"VA grid, seed {seed}")
    figure.tight_layout()
    return figure


def va_window_kid_figure(windows: dict, ax=None):
    """Sliding-window KID as a heatmap: valence across, arousal up, each cell a window centre.

    ``windows``: ``metrics["va_windows"]`` from ``evaluate`` (or ``sliding_window_kid``'s dict).
    Each cell is annotated with its number of real test images; grey cells had too few.
    """
    levels = np.asarray(windows["levels"], dtype=float)
    values = np.array([[np.nan if v is None else v for v in row] for row in windows["kid_mean"]], dtype=float)
    step = levels[1] - levels[0]
    extent = (levels[0] - step / 2, levels[-1] + step / 2, levels[0] - step / 2, levels[-1] + step / 2)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    colours = plt.get_cmap("magma_r").with_extremes(bad="lightgrey")
    shown = ax.imshow(np.ma.masked_invalid(values), origin="lower", extent=extent, cmap=colours, aspect="equal")
    for row, arousal in enumerate(levels):
        for column, valence in enumerate(levels):
            ax.text(valence, arousal, str(windows["n_real"][row][column]), ha="center", va="center", fontsize=7,
                    color="dimgrey" if np.isnan(values[row, column]) else "tab:cyan")
    ax.figure.colorbar(shown, ax=ax, shrink=0.8, label="KID (lower is better)")
    ax.set(xticks=VA_TICKS, yticks=VA_TICKS, xlabel="valence", ylabel="arousal",
           title=f"KID of generated vs real test images within {windows['radius']:g} of each point\n"
                 f"(numbers: real images per window; grey: fewer than {windows['min_images']})")
    return ax


def loss_curves(history, keys, title="", ax=None, x="step"):
    """Curves of the named stats.jsonl keys (records lacking a key are skipped)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    for key in keys:
        points = [(r[x], r[key]) for r in history if key in r and x in r and r[key] is not None]
        if points:
            xs, ys = zip(*points)
            ax.plot(xs, ys, label=key)
    ax.set(xlabel=x, title=title)
    ax.legend(fontsize=8)
    return ax


def phase_schedule_figure(config):
    """The three phases and the LPIPS ramp over the run, as the training loop computes them."""
    from helpers.training.schedule import phase_weights

    progress = np.linspace(0, 1, 801)
    weights = [phase_weights(p, config.recon_fraction, config.ramp_fraction, config.lpips_start,
                             config.lpips_full, config.lpips_weight) for p in progress]
    figure, axes = plt.subplots(1, 2, figsize=(11, 3.2))
    axes[0].plot(progress, [w.adversarial for w in weights], label="adversarial")
    axes[0].plot(progress, [w.reconstruction for w in weights], label="reconstruction")
    axes[0].set(xlabel="fraction of the run", ylabel="weight", title="phases (zoom: first 10%)", xlim=(0, 0.1))
    axes[0].legend()
    axes[1].plot(progress, [w.lpips for w in weights], color="tab:green")
    axes[1].set(xlabel="fraction of the run", ylabel="LPIPS weight", title="LPIPS schedule")
    figure.tight_layout()
    return figure


class LiveTrainingView:
    """An ``on_epoch`` callback that redraws loss curves and the newest VA-grid sample in place."""

    def __init__(self, keys=("g_loss", "d_loss", "g_va_loss", "diversity_loss", "recon_mse")):
        self.keys = keys

    def __call__(self, record, run_dir):
        from IPython.display import clear_output, display
        from PIL import Image

        from helpers.training.runs import read_stats

        history = read_stats(run_dir)
        figure, axes = plt.subplots(1, 2, figsize=(13, 4), gridspec_kw={"width_ratios": [1, 1.3]})
        loss_curves(history, self.keys, f"losses up to epoch {record.get('epoch_end', '?')}", ax=axes[0])
        samples = sorted((run_dir / "samples").glob("va-grid-*.png")) if (run_dir / "samples").is_dir() else []
        if samples:
            axes[1].imshow(np.asarray(Image.open(samples[-1])))
            axes[1].set_title(f"{samples[-1].name}: valence across 1..9, arousal down 9..1 (two seeds)")
        axes[1].axis("off")
        clear_output(wait=True)
        display(figure)
        plt.close(figure)


def upsampling_artifacts_figure(seed: int = 0, channels: int = 16):
    """What four untrained upsampling stacks make of a smooth input (the original's failures).

    4 -> 64 pixels through four x2 stages with random weights: transposed convs leave a
    checkerboard (uneven kernel overlap), PixelShuffle without ICNR leaves coloured blocks,
    bilinear upsampling blurs, nearest + 3x3 conv (ours) stays smooth.
    """
    import torch
    from torch import nn
    import torch.nn.functional as F

    torch.manual_seed(seed)
    start = torch.randn(1, channels, 4, 4)

    transposed = [nn.ConvTranspose2d(channels, channels, 3, stride=2, padding=1, output_padding=1) for _ in range(4)]
    shuffle = [nn.Conv2d(channels, channels * 4, 3, padding=1) for _ in range(4)]
    bilinear = [nn.Conv2d(channels, channels, 3, padding=1) for _ in range(4)]
    nearest = [nn.Conv2d(channels, channels, 3, padding=1) for _ in range(4)]
    to_rgb = nn.Conv2d(channels, 3, 1)
    stacks = {
        "transposed conv: checkerboard": lambda: _stack(start, [lambda x, c=c: c(x) for c in transposed]),
        "PixelShuffle, no ICNR: blocks": lambda: _stack(start, [lambda x, c=c: F.pixel_shuffle(c(x), 2) for c in shuffle]),
        "bilinear + conv: blur": lambda: _stack(start, [lambda x, c=c: c(F.interpolate(x, scale_factor=2, mode="bilinear")) for c in bilinear]),
        "nearest + conv (ours)": lambda: _stack(start, [lambda x, c=c: c(F.interpolate(x, scale_factor=2)) for c in nearest]),
    }
    figure, axes = plt.subplots(1, 4, figsize=(13, 3.6))
    with torch.no_grad():
        for axis, (title, make) in zip(axes, stacks.items()):
            image = to_rgb(make())[0]
            image = (image - image.amin(dim=(1, 2), keepdim=True)) / (image.amax(dim=(1, 2), keepdim=True) - image.amin(dim=(1, 2), keepdim=True) + 1e-8)
            axis.imshow(image.permute(1, 2, 0).numpy())
            axis.set_title(title, fontsize=10)
            axis.axis("off")
    figure.suptitle("Untrained 4 -> 64 upsampling stacks on the same random 4x4 input (contrast stretched)")
    figure.tight_layout()
    return figure


def _stack(x, stages):
    import torch.nn.functional as F

    for stage in stages:
        x = F.leaky_relu(stage(x), 0.2)
    return x


def gamma_clamp_figure():
    """ERU gamma of the unbounded first version against the clamped final form, over v in [0, 1]."""
    v = np.linspace(0, 1, 101)
    figure, axis = plt.subplots(figsize=(6, 3.5))
    for base in (-3, 0, 3, 6):
        axis.plot(v, (1 + base) * (0.1 + 2.9 * v), "--", label=f"first version, base {base}")
    for base in (-0.5, 0.5):
        axis.plot(v, (1 + base) * (0.8 + 0.4 * v), lw=2.5, label=f"final (clamped), base {base:+.1f}")
    axis.axhspan(0.4, 1.8, color="green", alpha=0.1)
    axis.set(xlabel="valence in [0, 1]", ylabel="gamma", title="ERU gamma: unbounded vs clamped [0.4, 1.8]", ylim=(-10, 22))
    axis.legend(fontsize=7)
    figure.tight_layout()
    return figure
