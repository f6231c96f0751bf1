"""Figures for the notebooks. Every axis that shows valence or arousal is in 1-9 units."""

import numpy as np
import matplotlib.pyplot as plt

from helpers.config import GANTrainConfig
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


def rating_label(value: float) -> str:
    """A rating for a tick or a title: 1, 2.3, 5, 7.7 (at most one decimal, no trailing zero)."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def draw_va_grid(axis, generator, steps: int = 5, seed: int = 0, title: str = ""):
    """One z over a steps x steps VA grid on ``axis``: valence across 1..9, arousal down 9..1."""
    valence, arousal = va_grid_ratings(steps)
    images = generate(generator, valence, arousal, np.full(steps * steps, seed))
    axis.imshow(grid(images, steps, padding=1))
    size = images.shape[1] + 1
    centres = [1 + size * i + size / 2 for i in range(steps)]
    levels = np.linspace(1, 9, steps)
    axis.set_xticks(centres, [rating_label(v) for v in levels])
    axis.set_yticks(centres, [rating_label(a) for a in levels[::-1]])
    axis.set(xlabel="valence", ylabel="arousal", title=title)
    return axis


def va_grid_figure(generator, steps: int = 5, seed: int = 0, title: str = None, cell_inches: float = 1.5):
    """The same z across a V x A grid: valence across 1..9, arousal down 9..1."""
    figure, axis = plt.subplots(figsize=(cell_inches * steps + 1, cell_inches * steps + 0.6))
    draw_va_grid(axis, generator, steps, seed, title or f"VA grid, seed {seed}")
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


# Stats keys with a name that says more than the key. The original called its VA-sensitivity
# loss a "diversity loss"; runs logged before the rename have it as ``diversity_loss``.
KEY_LABELS = {"diversity_loss": "VA-sensitivity loss (logged as diversity_loss)", "va_sensitivity_loss": "VA-sensitivity loss",
              "d_loss": "D hinge loss", "g_loss": "G hinge loss", "d_va_loss": "D VA loss (reals)",
              "g_va_loss": "G VA loss (fakes)", "recon_mse": "reconstruction MSE"}


def loss_curves(history, keys, title="", ax=None, x="step"):
    """Curves of the named stats.jsonl keys (records lacking a key are skipped)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    for key in keys:
        points = [(r[x], r[key]) for r in history if key in r and x in r and r[key] is not None]
        if points:
            xs, ys = zip(*points)
            ax.plot(xs, ys, label=KEY_LABELS.get(key, key))
    ax.set(xlabel=x, title=title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    return ax


def _series(history, key, x="step"):
    points = [(r[x], r[key]) for r in history if x in r and r.get(key) is not None and np.isfinite(r[key])]
    return (np.array([p[0] for p in points]), np.array([p[1] for p in points])) if points else (np.array([]), np.array([]))


def phase_schedule_figure(config, lpips_note: str = None):
    """The run's schedule as the training loop computes it: the three phases, the LPIPS ramp on
    its own axis, and both learning rates. ``lpips_note``: why LPIPS will not run (drawn in red)."""
    import textwrap

    from helpers.training.schedule import learning_rate_scale, phase_weights

    if config.lpips_weight <= 0:
        lpips_note = None  # whether AlexNet's weights are here does not matter to a run without the term
    progress = np.linspace(0, 1, 2001)
    weights = [phase_weights(p, config.recon_fraction, config.ramp_fraction, config.lpips_start,
                             config.lpips_full, config.lpips_weight) for p in progress]
    figure, axes = plt.subplots(1, 3, figsize=(15, 3.6 if not lpips_note else 4.3))
    zoom = min(1.0, 2 * (config.recon_fraction + config.ramp_fraction))
    axes[0].plot(progress, [w.adversarial for w in weights], label="adversarial")
    axes[0].plot(progress, [w.reconstruction for w in weights], label="reconstruction")
    for start, end, phase in [(0, config.recon_fraction, 1), (config.recon_fraction, config.recon_fraction + config.ramp_fraction, 2)]:
        axes[0].axvspan(start, end, color="grey", alpha=0.08 * phase)
        axes[0].text((start + end) / 2, 1.05, f"phase {phase}", ha="center", fontsize=8)
    axes[0].text(min(zoom * 0.8, 0.95), 1.05, "phase 3", ha="center", fontsize=8)
    axes[0].set(xlabel="fraction of the run", ylabel="weight", ylim=(-0.05, 1.15), xlim=(0, zoom),
                title=f"phases (zoom: first {zoom:.0%} of the run)")
    axes[0].legend(fontsize=8, loc="center right")
    lpips = [w.lpips for w in weights]
    if config.lpips_weight <= 0:  # the preset leaves LPIPS out: draw the original's schedule (the full preset's) to compare
        original = GANTrainConfig()
        axes[1].plot(progress, [phase_weights(p, lpips_start=original.lpips_start, lpips_full=original.lpips_full,
                                              lpips_weight=original.lpips_weight).lpips for p in progress],
                     color="grey", ls=":", label="the original's (preset full)")
        axes[1].plot(progress, lpips, color="tab:green", label="this preset: 0")
        axes[1].legend(fontsize=8, loc="center right")
        axes[1].set(ylim=(-0.05 * original.lpips_weight, 1.15 * original.lpips_weight),
                    title="LPIPS weight: off in this preset (lpips_weight 0)")
    else:
        axes[1].plot(progress, lpips, color="tab:green", ls="--" if lpips_note else "-")
        axes[1].set(ylim=(0, 1.15 * config.lpips_weight),
                    title=f"LPIPS weight: 0 until {config.lpips_start:.0%}, {config.lpips_weight:g} from {config.lpips_full:.0%}")
    axes[1].set(xlabel="fraction of the run", ylabel="LPIPS weight")
    if lpips_note:
        axes[1].text(0.5, 0.45, "scheduled, but NOT used on this machine:\nLPIPS cannot be loaded (note below)", color="crimson",
                     ha="center", va="center", transform=axes[1].transAxes, fontsize=9)
    scale = np.array([learning_rate_scale(p, config.lr_decay_start, config.lr_floor) for p in progress])
    for rate, name in ((config.g_learning_rate, "G"), (config.d_learning_rate, "D")):
        axes[2].plot(progress, rate * scale, label=f"{name}: {rate:.1e} -> {rate * config.lr_floor:.1e}")
    if config.lr_floor == 1:
        title = "learning rates: constant (lr_floor = 1, no decay)"
    else:
        axes[2].axvline(config.lr_decay_start, color="grey", lw=0.8)
        title = f"learning rates: cosine decay from {config.lr_decay_start:.0%} to {config.lr_floor:g}x"
    axes[2].set(xlabel="fraction of the run", ylabel="learning rate", ylim=(0, None), title=title)
    axes[2].legend(fontsize=8)
    if lpips_note:
        figure.text(0.01, 0.01, "\n".join(textwrap.wrap(lpips_note, 190)), fontsize=7, color="crimson", va="bottom")
    figure.tight_layout(rect=(0, 0.1 if lpips_note else 0, 1, 1))
    return figure


def adversarial_game_figure(history, grad_clip: float = None):
    """From stats.jsonl: D's mean score on reals and fakes, the R1 penalty, and the gradient norms
    before clipping, each averaged over the steps between two records."""
    figure, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    for key, label, colour in (("d_real_score", "D(real)", "tab:blue"), ("d_fake_score", "D(generated)", "tab:red")):
        steps, values = _series(history, key)
        axes[0].plot(steps, values, label=label, color=colour)
    for level in (-1, 1):
        axes[0].axhline(level, color="grey", ls="--", lw=0.8)
    axes[0].axhline(0, color="black", lw=0.8)
    axes[0].set(xlabel="step", ylabel="mean score", title="D's scores (hinge margins at +-1)")
    steps, values = _series(history, "r1_penalty")
    axes[1].plot(steps, values, color="tab:purple")
    axes[1].set(xlabel="step", ylabel="||grad_x D(real)||^2", title="R1 penalty (before its weight)")
    if len(values) and values.min() > 0:
        axes[1].set_yscale("log")
    for key, label in (("d_grad_norm", "D, before clipping"), ("g_grad_norm", "G, before clipping"),
                       ("r1_grad_norm", "D's R1 step (never clipped)")):
        steps, values = _series(history, key)
        if len(values):
            axes[2].plot(steps, values, label=label)
    if grad_clip:
        axes[2].axhline(grad_clip, color="black", ls="--", lw=0.8, label=f"clip limit {grad_clip:g}")
    axes[2].set(xlabel="step", ylabel="gradient norm", title="gradient norms", yscale="log")
    for axis in (axes[0], axes[2]):
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def ada_figure(history, target: float):
    """ADA's p and the overfitting signal r_t = E[sign D(real)] it follows, on separate axes."""
    from helpers.augment import NON_LEAKING_P

    figure, axes = plt.subplots(1, 2, figsize=(12, 3.4))
    steps, values = _series(history, "ada_p")
    axes[0].plot(steps, values, color="tab:orange")
    axes[0].axhline(NON_LEAKING_P, color="grey", ls="--", lw=0.8, label=f"cap {NON_LEAKING_P:g} (non-leaking)")
    axes[0].set(xlabel="step", ylabel="p", ylim=(-0.02, 1), title="augmentation probability p")
    axes[0].legend(fontsize=8)
    steps, values = _series(history, "ada_rt")
    axes[1].plot(steps, values, color="tab:blue", label="r_t")
    axes[1].axhline(target, color="crimson", ls="--", lw=1, label=f"target {target:g}: p rises above it, falls below")
    axes[1].set(xlabel="step", ylabel="r_t", ylim=(-1.05, 1.05), title="r_t = mean sign of D(real), last interval\n(about the anchors' midpoint with LeCam)")
    axes[1].legend(fontsize=8)
    figure.tight_layout()
    return figure


def sample_grid_tiles(image: np.ndarray, steps: int = 7, seeds: int = 2, padding: int = 2, gap: int = 8) -> np.ndarray:
    """Cut a training sample grid (``seeds`` panels of steps x steps tiles, ``padding`` pixels
    around tiles, ``gap`` between panels) into tiles: (seeds, steps, steps, H, W, 3)."""
    panel_width = (image.shape[1] - gap * (seeds - 1)) / seeds
    size = (panel_width - padding) / steps - padding
    if size != int(size) or size <= 0 or image.shape[0] != steps * (size + padding) + padding:
        raise ValueError(f"a {image.shape[1]}x{image.shape[0]} image is not {seeds} grids of {steps}x{steps} tiles")
    size, step = int(size), int(size) + padding
    panels = [image[:, int(index * (panel_width + gap)):] for index in range(seeds)]
    return np.stack([[[panel[padding + row * step:][:size, padding + column * step:][:, :size] for column in range(steps)]
                      for row in range(steps)] for panel in panels])


class LiveTrainingView:
    """An ``on_epoch`` callback that redraws loss curves and the newest samples in place, and
    keeps notes that must stay visible (LPIPS off) under the figure, since each redraw clears
    the cell's output."""

    def __init__(self, keys=("g_loss", "d_loss", "g_va_loss", "va_sensitivity_loss", "diversity_loss", "recon_mse"),
                 steps: int = 7, shown=(0, 3, 6)):
        self.keys, self.steps, self.shown = keys, steps, shown

    def __call__(self, record, run_dir):
        from IPython.display import clear_output, display
        from PIL import Image

        from helpers.readings import read_lpips
        from helpers.training.runs import read_stats

        history = read_stats(run_dir)
        figure, axes = plt.subplots(1, 3, figsize=(15, 4.2), gridspec_kw={"width_ratios": [1.5, 1, 1]})
        epoch = record.get("epoch_end", "?")
        loss_curves(history, self.keys, f"losses up to epoch {epoch}", ax=axes[0])
        samples = sorted((run_dir / "samples").glob("va-grid-*.png")) if (run_dir / "samples").is_dir() else []
        for seed_index, axis in enumerate(axes[1:]):
            axis.axis("off")
            if not samples:
                continue
            tiles = sample_grid_tiles(np.asarray(Image.open(samples[-1]).convert("RGB")), self.steps)
            chosen = np.array([tiles[seed_index, row, column] for row in self.shown for column in self.shown])
            axis.imshow(grid(chosen, len(self.shown), padding=1))
            levels = np.linspace(1, 9, self.steps)
            size = chosen.shape[1] + 1
            centres = [1 + size * i + size / 2 for i in range(len(self.shown))]
            axis.axis("on")
            axis.set_xticks(centres, [rating_label(levels[i]) for i in self.shown])
            axis.set_yticks(centres, [rating_label(levels[::-1][i]) for i in self.shown])
            axis.set(xlabel="valence", ylabel="arousal",
                     title=f"EMA generator, sample epoch {int(samples[-1].stem.split('-')[-1])}, z seed {seed_index + 1}")
        figure.tight_layout()
        clear_output(wait=True)
        display(figure)
        plt.close(figure)
        note = read_lpips(run_dir)
        if note:
            print(note)


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
