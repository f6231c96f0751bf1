"""Readings of a run's own numbers, for the notebooks' interpretation cells.

Each ``read_*`` function returns text that states the numbers it talks about and says what they
mean whichever way they came out, so a notebook never prints a generic reading that its own
output contradicts. The thresholds are rules of thumb, named where they are used.
"""

import json
import math
from pathlib import Path

import numpy as np

from helpers.metrics.correlation import correlation_text


def procedural_data(images_folder) -> bool:
    """True when ``images_folder`` holds the default procedural landscapes (``helpers.data.synth``),
    whose labels were computed from the images' colours."""
    from helpers.data import DEFAULT_DATA_ROOT

    folder = Path(images_folder).resolve().parent
    return folder.parent == Path(DEFAULT_DATA_ROOT).resolve() and folder.name.startswith("landscapes")


def preset_note(preset: str) -> str:
    """A sentence for the `ci` preset, whose runs only prove that the code runs; empty otherwise."""
    if preset == "ci":
        return ("This is the `ci` preset: a few training steps on 96 images, to prove that every cell runs. "
                "It is not meant to look good; read its numbers as a smoke test, not as a result.")
    return ""


def _with_note(text: str, preset: str = None) -> str:
    note = preset_note(preset) if preset else ""
    return f"{note}\n{text}" if note else text


def _last_quarter(history, key) -> np.ndarray:
    values = np.array([r[key] for r in history if r.get(key) is not None and math.isfinite(r[key])], dtype=float)
    return values[len(values) - max(1, len(values) // 4):] if len(values) else values


# ---------------------------------------------------------------------------------------------
# Notebook 01


def read_colour_correlations(correlations: dict, procedural: bool = True) -> str:
    """``correlations``: {(statistic, rating): Pearson r}. Says how much of each rating's variance
    the strongest colour cue explains, and why agreement with Valdez & Mehrabian is circular on
    the procedural set."""
    lines = []
    for rating in ("valence", "arousal"):
        stat, r = max(((s, v) for (s, name), v in correlations.items() if name == rating), key=lambda item: abs(item[1]))
        lines.append(f"The strongest colour cue of {rating} is {stat} (r = {r:+.2f}): alone it explains {r * r:.0%} "
                     f"of the {rating} variance in this set.")
    warmth = correlations.get(("warmth", "valence"))
    if warmth is not None:
        if warmth < -0.05:
            lines.append(f"Warmth falls with valence here (r = {warmth:+.2f}) although warm light reads as pleasant: a "
                         "confound. Other things that go with warmth (dim dusks against bright blue daytime skies, say) "
                         "outweigh it; a correlation alone cannot separate them.")
        elif warmth > 0.05:
            lines.append(f"Warmth rises with valence (r = {warmth:+.2f}), as warm light reading as pleasant predicts.")
        else:
            lines.append(f"Warmth hardly moves with valence (r = {warmth:+.2f}).")
    if procedural:
        lines.append("These labels were computed by helpers.data.synth from each scene's brightness and saturation with "
                     "Valdez & Mehrabian's own weights (0.69 B + 0.22 S, -0.31 B + 0.60 S), plus warmth, gloom, weather "
                     "and rating noise. So agreement with Valdez & Mehrabian here is circular: it checks the label formula, "
                     "not how people feel.")
    lines.append("On real, crowd-rated photos, low-level colour statistics explain only 6-20% of the rated variance "
                 "(Redies et al., 2020), that is |r| of about 0.25-0.45 at best: expect weaker, noisier relations "
                 f"there{', and signs that may differ' if procedural else ''}.")
    return "\n".join(lines)


def read_label_bounds(valence, arousal, bound_width: float = 0.25) -> str:
    """Whether ratings pile up at the ends of the 1-9 scale: crowd averages rarely reach 1 or 9,
    so a spike at a bound means clipped (or single-rater) labels."""
    lines = []
    for name, values in (("valence", np.asarray(valence, dtype=float)), ("arousal", np.asarray(arousal, dtype=float))):
        at_bounds = int(np.sum((values <= 1.0) | (values >= 9.0)))
        near = int(np.sum((values < 1 + bound_width) | (values > 9 - bound_width)))
        lines.append(f"{name}: from {values.min():.2f} to {values.max():.2f}; {at_bounds} of {len(values)} images at exactly "
                     f"1 or 9, {near} within {bound_width:g} of a bound.")
    total = sum(int(np.sum((np.asarray(v, dtype=float) <= 1.0) | (np.asarray(v, dtype=float) >= 9.0))) for v in (valence, arousal))
    share = total / max(2 * len(valence), 1)
    if share > 0.01:
        lines.append(f"{share:.1%} of the ratings sit exactly on a bound: a spike like that comes from clipping (or from "
                     "single raters), not from averaging a crowd; a model trained on these labels learns the bound as a common value.")
    else:
        lines.append("No spike at the bounds, as expected of averaged ratings: averages of many people rarely reach the ends "
                     "of the scale.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Notebook 02


def read_vae_samples(kl_nats: float, latent_dim: int, prior_spread: float, posterior_spread: float, real_spread: float) -> str:
    """Prior samples against posterior reconstructions: the KL per image and how varied each set is
    (pixel spreads, ``helpers.diagnostics.pixel_spread``)."""
    lines = [f"KL(q(z|x) || N(0, I)) at the end: {kl_nats:.1f} nats per image ({kl_nats / latent_dim:.2f} per latent "
             f"dimension). Pixel spread (how different images are from each other, 16x16): real {real_spread:.2f}, "
             f"reconstructions {posterior_spread:.2f}, decoded N(0, I) samples {prior_spread:.2f}."]
    if posterior_spread < 0.5 * real_spread:
        lines.append(f"Even the reconstructions are far less varied than the real images ({posterior_spread / real_spread:.2f}x): "
                     "the decoder has not yet learned to draw the variety of the data, so comparing its random-z samples "
                     "with its reconstructions says little here.")
    elif prior_spread < 0.6 * posterior_spread:
        lines.append(f"The random-z samples are much less varied than the reconstructions ({prior_spread / posterior_spread:.2f}x): "
                     "the encoder's codes do not fill N(0, I), and much of the prior decodes to similar, vague images. The "
                     "GAN must close this gap, since it draws its z from N(0, I).")
    else:
        lines.append("The random-z samples are about as varied as the reconstructions: the codes fill the prior well, "
                     "so the decoder is a reasonable generator for z ~ N(0, I) already.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Notebook 03


def rate_text(rate: float) -> str:
    """A learning rate as 2e-4 or 1.2e-3: two significant digits, so that rates that differ read differently
    (``f"{1.2e-3:.0e}"`` says 1e-03)."""
    mantissa, exponent = f"{rate:.1e}".split("e")
    return f"{mantissa.removesuffix('.0')}e{int(exponent)}"


def read_ttur(config) -> str:
    g, d = config.g_learning_rate, config.d_learning_rate
    relation = f"{d / g:.3g}x G's rate" if d != g else "the same rate as G"
    return (f"In this preset G learns at {rate_text(g)} and D at {rate_text(d)}: D at {relation}. TTUR (Heusel et al., 2017) means two "
            "time scales, one learning rate per network, chosen so that the pair converges; it does not mean that D is "
            "slower. The original ran D at half G's rate (5e-5 against 1e-4).")


def read_budget(run_dir) -> str:
    """What the time budget did in the run at ``run_dir`` (its config.json's ``budget``); "" without a config.json."""
    from helpers.training.runs import CONFIG_FILE, read_config

    if not (Path(run_dir) / CONFIG_FILE).is_file():
        return ""
    budget = read_config(run_dir).get("budget")
    if not budget:
        return "No time budget (minutes=0): the run trained the epochs it was asked for."
    text = (f"Time budget: {budget['minutes']:g} minutes for the whole stage (set-up, steps, grids, checks and checkpoints). "
            f"The probe measured {budget['measured_images_per_second']:g} images/s, so {budget['epochs_fitted']} of "
            f"{budget['epochs_asked']} epochs")
    if "epochs_refitted" not in budget:
        text += "; the run kept that count."
    else:
        text += (f". The run re-fits that count after each epoch from its own steps' time (the GAN's in phase 3): its last "
                 f"change, after epoch {budget['refitted_after_epoch']} ({budget['seconds_used'] / 60:.1f} minutes used, "
                 f"steps at {budget['refit_images_per_second']:g} images/s), set it to {budget['epochs_refitted']} epochs.")
    if "stage_seconds" in budget:
        text += f" In all the stage took {budget['stage_seconds'] / 60:.1f} minutes."
    return text


def read_lpips(run_dir) -> str:
    """Why LPIPS is off in the run at ``run_dir`` (its config.json says), or "" when it ran."""
    from helpers.perceptual import lpips_available, missing_weights_message
    from helpers.training.runs import CONFIG_FILE, read_config

    if not (Path(run_dir) / CONFIG_FILE).is_file():
        return ""
    config = read_config(run_dir)
    if config.get("lpips", True):
        return ""
    if config.get("gan", {}).get("lpips_weight", 1) <= 0:
        return "This run trains without LPIPS: its preset's lpips_weight is 0 (notebook 03 says why)."
    reason = missing_weights_message() if not lpips_available() else "LPIPS could not be loaded."
    return ("LPIPS is OFF in this run: its scheduled weight multiplies nothing, and the logged `lpips` values stay at 0. "
            + reason)


def read_adversarial_game(history, scores: dict = None) -> str:
    """D's mean scores over the last quarter of the logged run, its hinge loss against the 2.0 of
    a constant D, and (given end-of-run ``scores``) how many images D puts on the right side of 0."""
    real, fake, loss = (_last_quarter(history, key) for key in ("d_real_score", "d_fake_score", "d_loss"))
    if not len(real):
        return "No discriminator scores were logged (the run ended before D switched on)."
    real, fake, loss = real.mean(), fake.mean(), loss.mean() if len(loss) else float("nan")
    gap = real - fake
    lines = [f"Over the last quarter of the run D scored real images {real:+.2f} and generated ones {fake:+.2f} on average "
             f"(gap {gap:.2f}); its hinge loss was {loss:.2f}. A D that outputs one constant scores 2.00 or more (no game at "
             "all); one that puts every image beyond its margin (reals above +1, fakes below -1) scores 0: D wins outright."]
    if gap < 0.2:
        lines.append("D barely tells them apart. A finished game looks like this, and so does a D that has not learned "
                     "anything yet: the samples decide which (landscape structure, or mush).")
    elif real >= 1 and fake <= -1:
        lines.append("D separates them beyond both margins: D is winning, and G learns only from D's slope at its fakes. "
                     "Expect grey or repetitive samples; lower D's learning rate or raise R1's gamma.")
    elif -1 < fake and real < 1:
        lines.append(f"D separates them by {gap:.2f}, inside the margins: it tells real from generated without running "
                     "away, so G still gets a useful gradient. This is the game working.")
    else:
        beyond = "real images above +1" if real >= 1 else "generated images below -1"
        lines.append(f"D separates them by {gap:.2f}, with the {beyond} on average: it is winning on that side, and the "
                     "hinge no longer pushes there. Watch the samples for grey or repeated images.")
    if scores is not None:
        right_real, right_fake = (scores["real"] > 0).mean(), (scores["fake"] < 0).mean()
        lines.append(f"In the histograms, {right_real:.0%} of held-out real images score above 0 and {right_fake:.0%} of "
                     "generated ones below 0 (50% and 50%: D cannot tell them apart; 100% and 100%: it always can).")
        if "train" in scores:
            memorised = scores["train"].mean() - scores["real"].mean()
            separation = abs(scores["real"].mean() - scores["fake"].mean())
            if memorised > max(0.1, 0.5 * separation):
                lines.append(f"D scores training images {memorised:.2f} higher than held-out real ones: it has learned "
                             "these particular images, not only what real looks like. This is the memorising that ADA's "
                             "r_t (measured on training images) watches for.")
            else:
                lines.append(f"D scores training and held-out real images alike (difference {memorised:+.2f}): no sign "
                             "that it memorised the training set.")
    return "\n".join(lines)


def read_gradient_clipping(history, grad_clip: float) -> str:
    """How often the logged pre-clip gradient norms exceeded the clip limit, for D and for G."""
    lines = []
    for key, name in (("d_grad_norm", "D"), ("g_grad_norm", "G")):
        norms = np.array([r[key] for r in history if r.get(key) is not None], dtype=float)
        if not len(norms):
            continue
        above = (norms > grad_clip).mean()
        lines.append(f"{name}: median gradient norm before clipping {np.median(norms):.2f}; the interval mean was above "
                     f"the limit {grad_clip:g} in {above:.0%} of the {len(norms)} logged intervals.")
    if not lines:
        return "No gradient norms were logged."
    share = max((np.array([r[k] for r in history if r.get(k) is not None]) > grad_clip).mean()
                for k in ("d_grad_norm", "g_grad_norm") if any(r.get(k) is not None for r in history))
    if share > 0.5:
        lines.append("Mostly above the limit: clipping rescaled most steps to norm "
                     f"{grad_clip:g}, so the step length was set by the clip and the learning rate, not by the loss's scale.")
    elif share > 0:
        lines.append("Mostly below the limit: clipping only cut the occasional spike, which is its job.")
    else:
        lines.append("Never above the limit on average: clipping can only have cut single steps, which these averages hide.")
    return "\n".join(lines)


def read_ada(history, target: float, run_dir=None) -> str:
    """What ADA's p did in this run, and what that means (``run_dir``: to read whether ADA was on)."""
    config_path = Path(run_dir) / "config.json" if run_dir is not None else None
    if config_path is not None and config_path.is_file() and not json.loads(config_path.read_text()).get("ada", True):
        return "ADA was off in this run (config `ada`): D saw the images unaugmented."
    p = np.array([r["ada_p"] for r in history if r.get("ada_p") is not None], dtype=float)
    rt = _last_quarter(history, "ada_rt")
    if not len(p):
        return "ADA logged nothing (the run ended before D switched on)."
    rt_text = f"r_t averaged {rt.mean():+.2f} over the last quarter" if len(rt) else "r_t was never measured"
    lines = [f"p ended at {p[-1]:.2f} (highest {p.max():.2f}); {rt_text}, against the target {target:g}."]
    if p.max() < 0.01:
        lines.append(f"p never rose above {p.max():.3f}: D was never overconfident on real images (r_t stayed at or below the target), so "
                     "no image was augmented and ADA did nothing in this run. That says D was not memorising yet; it "
                     "does not say it never would in a longer run.")
    elif p[-1] >= 0.79:
        lines.append(f"p ended at its cap of {p[-1]:.2f}: D stays overconfident on reals even with heavy augmentation, so "
                     "the set is small for this D (or D strong for it). The cap is there because above about 0.8 the "
                     "augmentations start to leak into G's images (Karras et al., 2020).")
    else:
        lines.append(f"p rose to {p.max():.2f}: D became overconfident on reals (a sign of memorising), and ADA answered by "
                     f"augmenting each image with probability {p[-1]:.2f} at the end.")
    return "\n".join(lines)


def read_corner_differences(differences: dict, reference: float = None) -> str:
    """``differences``: {name: corner difference of 255}; the first entry is the baseline (the VAE)."""
    names = list(differences)
    text = "; ".join(f"{name} {value:.1f}" for name, value in differences.items())
    lines = [f"Corner difference (how much one z's image changes from V=A=1 to V=A=9, of 255): {text}."]
    if reference is not None:
        lines.append(f"For scale: two unrelated real images differ by {reference:.1f} on average.")
    if max(differences.values()) < 5:
        lines.append("All are below 5 / 255: valence and arousal barely change the images.")
    elif len(names) >= 2:
        base, new = differences[names[0]], differences[names[-1]]
        ratio = new / max(base, 1e-9)
        if ratio > 1.5:
            lines.append(f"The {names[-1]} changes {ratio:.1f}x as much as the {names[0]}: training made VA matter.")
        elif ratio > 2 / 3:
            lines.append(f"The {names[-1]} changes about as much as the {names[0]} ({ratio:.1f}x): training has not (yet) "
                         "made VA matter more than it did in the VAE.")
        else:
            lines.append(f"The {names[-1]} changes less than the {names[0]} ({ratio:.1f}x): training has made it ignore VA "
                         "more; the VA losses are losing to the others.")
    return "\n".join(lines)


def read_ema(numbers: dict, steps: int = None, decay: float = None) -> str:
    """EMA against raw G on the same z: ``numbers`` from ``diagnostics.ema_vs_raw_figure``."""
    raw, ema, difference = numbers["raw_high_frequency"], numbers["ema_high_frequency"], numbers["difference"]
    lines = [f"The EMA's images differ from the raw G's by {difference:.1f} / 255 on average. Neighbour-pixel difference "
             f"(fine texture and noise): raw {raw:.1f}, EMA {ema:.1f}."]
    if steps is not None and decay is not None:
        from helpers.training.ema import ema_decay

        window = 1 / (1 - ema_decay(steps, decay))
        lines.append(f"After {steps} steps, the EMA (decay {decay:g}, warmed up as (1 + step) / (10 + step)) averages "
                     f"roughly the last {window:.0f} steps.")
    if difference < 2:
        lines.append("The two nearly agree: G changed little over the averaging window (or the run was too short for "
                     "an average to differ).")
    elif ema < 0.9 * raw:
        lines.append("The EMA's images are smoother: averaging the weights cancels the step-to-step jitter of the raw G.")
    elif ema > 1.1 * raw:
        lines.append("The EMA's images have more fine detail than the raw G's: the average sits in a sharper place "
                     "than the latest weights.")
    else:
        lines.append("They differ in content, not in fine texture: the EMA lags behind the raw G's latest changes.")
    return "\n".join(lines)


def read_spectral_norms(rows: list, setting: str = None) -> str:
    """``rows`` from ``teaching.spectral_norms``; ``setting``: ``ModelConfig.d_spectral_norm``, if known."""
    where = f" (d_spectral_norm={setting!r})" if setting else ""
    if not rows:
        return f"No layer of this discriminator has spectral norm{where}."
    without = np.array([row["without"] for row in rows])
    used = np.array([row["with"] for row in rows])
    text = (f"{len(rows)} layers have spectral norm{where}. The weights they learned have largest singular values from "
            f"{without.min():.2f} to {without.max():.2f}; the weights they use, {used.min():.2f} to {used.max():.2f} "
            "(1 up to the error of the one power-iteration step per forward pass). So each of these layers stretches no "
            "input by more than about 1, whatever its learned weight.")
    if setting in (None, "all"):
        return text + " With every layer bounded, so is D's slope, the gradient G learns from."
    return text + (" The layers without it can stretch freely, so D as a whole is not bounded by spectral norm; R1 keeps "
                   "its slope at real images small instead.")


def _mean_correlation(values: list):
    """The mean of seeds' correlations; None if any seed's is undefined (null in the JSON)."""
    return None if any(value is None for value in values) else float(np.mean(values))


def read_ablations(rows: list) -> str:
    """The committed ablation rows (``benchmarks/results/ablations.json``) read against the new recipe:
    KID (mean over its seeds, each row with its own spread), D's phase-3 hinge loss, V and A Spearman,
    and how many seeds stand behind each number. A row whose name ends in ``_lr_decay`` ran with the
    learning-rate decay of the recipe before, so it is read against the ``lr_decay`` rows when there are any."""
    if not rows:
        return "No ablation rows yet."
    by_name = {}
    for row in rows:
        by_name.setdefault(row["name"], []).append(row)
    lines = [f"{len(rows)} rows committed, at {rows[0]['gan_epochs']} GAN epochs each: "
             + ", ".join(f"{name} ({len(group)} seed{'s' if len(group) > 1 else ''})" for name, group in by_name.items()) + "."]
    if "new_recipe" not in by_name:
        return "\n".join(lines + ["No new_recipe row to compare with yet."])

    def summary(group):
        """KID mean, lowest and highest seed, the largest spread, and D's mean phase-3 hinge loss."""
        kids = np.array([row["kid"] for row in group])
        return (kids.mean(), kids.min(), kids.max(), max(row["kid_std"] for row in group),
                np.mean([row["d_phase3_loss"] for row in group]))

    base_kid, base_low, base_high, base_std, base_hinge = summary(by_name["new_recipe"])
    seeds_text = (f"KID {base_kid:.3f} (seeds {base_low:.3f} to {base_high:.3f})" if len(by_name["new_recipe"]) > 1
                  else f"KID {base_kid:.3f} ± {base_std:.3f} (one seed)")
    lines.append(f"new_recipe: {seeds_text}, D's phase-3 hinge {base_hinge:.2f}.")
    for name, group in by_name.items():
        if name == "new_recipe":
            continue
        baseline = "lr_decay" if name.endswith("_lr_decay") and "lr_decay" in by_name else "new_recipe"
        _, base_low, base_high, base_std, base_hinge = summary(by_name[baseline])
        kid, low, high, std, hinge = summary(group)
        valence, arousal = (_mean_correlation([row[f"{axis}_spearman"] for row in group]) for axis in ("valence", "arousal"))
        margin = 2 * max(std, base_std)
        if kid < base_low - margin:
            verdict = f"a lower KID than every {baseline} seed, by more than two spreads"
        elif kid > base_high + margin:
            verdict = f"a higher KID than every {baseline} seed, by more than two spreads"
        else:
            verdict = f"a KID within two spreads of the {baseline} seeds: no difference at this N"
        lines.append(f"{name} ({len(group)} seed{'s' if len(group) > 1 else ''}): KID {kid:.3f}, {verdict}; "
                     f"V {correlation_text(valence)}, A {correlation_text(arousal)}; D's phase-3 hinge {hinge:.2f}"
                     + (" (near 2.0: D near chance)." if hinge > 1.7 else "."))
        if kid < base_low - margin and hinge > 1.7 > base_hinge:
            lines.append(f"The warning: {name} reached a lower KID with its D near chance, while {baseline}'s D plays "
                         f"(hinge {base_hinge:.2f}). A D that plays is what a GAN needs to keep improving, but at this budget "
                         "it has not yet paid off in realism.")
    lines.append("Few seeds per row: read a difference as a question for more seeds and longer runs, not a verdict.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Notebook 04


def read_fixed_va(numbers: dict) -> str:
    generated, real = numbers["generated_spread"], numbers["real_spread"]
    if real is None:
        return (f"Pixel spread of the generated images: {generated:.2f}; too few real images near this VA to compare "
                "with: judge by eye (64 near-identical tiles = mode collapse).")
    ratio = generated / max(real, 1e-9)
    text = (f"Pixel spread (mean distance between two images at 16x16): generated {generated:.2f}, real images near "
            f"this VA {real:.2f} (N {numbers['n_real']}): {ratio:.2f}x. (The real images' labels differ a little from each "
            "other, the generated ones' not at all, so the real set is somewhat more varied by construction.)")
    if ratio < 0.3:
        return text + " Far less varied than real images: mode collapse at this VA."
    if ratio < 0.7:
        return text + " Less varied than real images: a partial collapse (few layouts or colours)."
    return text + " About as varied as real images at this VA: no sign of collapse here."


def read_spectrum(numbers: dict) -> str:
    """Whether the generator's finest detail carries the real images' energy: soft, matched, or grainy."""
    ratio, size = numbers["top_octave_ratio"], numbers["size"]
    text = (f"In the finest octave ({size // 4}-{size // 2} cycles per image, detail of 2-4 pixels) the generated "
            f"images carry {ratio:.2f}x the real images' power (N {numbers['n']} each).")
    # 0.9 and 1.1: training images against test images scored 1.04; the quick model of the README picture 0.70 (soft);
    # the shipped reference model 1.06 (benchmarks/README.md, seventeenth session).
    if ratio < 0.9:
        return text + (" They are softer than the real images: detail finer than about 4 pixels is missing, which"
                       " alone costs KID (real images blurred to 32x32 and back score about 0.03).")
    if ratio > 1.1:
        return text + (" They have more fine detail than the real images: grain, or a pattern on the pixel grid"
                       " (see the dots above).")
    # 1.3: between two sets of 256 real images no radius of the octave differed by more than 1.14x.
    if numbers["peak_ratio"] >= 1.3:
        return text + (f" About as much overall, but {numbers['peak_ratio']:.2f}x at {numbers['peak_radius']} cycles per"
                       " image: a faint pattern at the scale of single pixels that the real images do not have.")
    return text + (" About as much as the real images at every radius: neither blurred nor grainy. Whatever KID still"
                   " separates them at this scale is in what the detail looks like, not in how much of it there is.")


def read_dot_grid(numbers: dict) -> str:
    """Whether the generator's dots (snow, stars) sit on a 2-pixel grid or on the same pixels in every image,
    against the real images'."""
    if numbers is None:
        return "Fewer than 2 real images with valence below 3.5 and arousal below 4: no dark images to look for dots in."
    real, generated = numbers["real"], numbers["generated"]
    text = (f"Dots per dark image: real {real['dots_per_image']:.1f} (N {numbers['n_real']}), generated "
            f"{generated['dots_per_image']:.1f}. On the most common of the four phases of the 2-pixel grid: real "
            f"{real['top_share']:.0%}, generated {generated['top_share']:.0%} (25% where dots fall anywhere). Two "
            f"images with a dot on the same pixel: real {real['repeat_ratio']:.1f}x, generated "
            f"{generated['repeat_ratio']:.1f}x as often as dots placed at random would.")
    if generated["dots"] < 20:
        return text + " Too few generated dots to tell where they sit: this generator barely draws snow or stars."
    lattice = generated["top_share"] >= 0.4
    # 5x: the shipped reference model repeats its dots 13x; quick-recipe models after 60 epochs 4-16.5x (nearest) and
    # 2.8-4.5x (bilinear, whose few dots gather in the sky); real dark images 0.8x (benchmarks/README.md, fourteenth
    # session).
    sticking = generated["repeat_ratio"] >= max(5.0, 2 * real["repeat_ratio"])
    clustered = generated["repeat_ratio"] >= 2 * max(1.0, real["repeat_ratio"])
    if lattice and sticking:
        verdict = (" The generated dots sit on a lattice and on the same pixels image after image: the generator draws "
                   "its snow and stars as a fixed pattern glued to the pixel grid, not where each image needs them.")
    elif sticking:
        verdict = (" The generated dots fall on every phase, but on the same pixels image after image: a fixed pattern "
                   "glued to the pixel grid.")
    elif lattice:
        verdict = " The generated dots sit on a lattice: most of them on one phase of the 2-pixel grid."
    elif clustered:
        return text + (" The generated dots fall on every phase but gather on fewer pixels or regions than real ones "
                       "do; short of a fixed pattern.")
    else:
        return text + " The generated dots fall anywhere, as real ones do."
    return text + verdict + f" (This generator upsamples with {numbers['upsample']!r}; ModelConfig.upsample.)"


def read_nearest(numbers: dict) -> str:
    generated, held_out = numbers["generated_median"], numbers["held_out_median"]
    text = (f"Median distance to the nearest training image (16x16 pixels): generated {generated:.2f}, held-out real "
            f"images {held_out:.2f}.")
    if generated < 0.5 * held_out:
        return text + (" The generated images lie much closer to training images than new real images do: signs of "
                       "copying; compare the pairs above.")
    return text + (" No closer than new real images: no sign of copying in pixel space (the copy fraction in the table "
                   "checks the same in Inception features).")


def read_eru(result: dict, threshold: float = 0.05) -> str:
    """How much of each ERU's modulation training moved away from 0, and how much sits at the clamp."""
    lines = []
    moved_any = 0.0
    for index, unit in enumerate(result["units"]):
        bases = np.concatenate([unit[part] for part in ("valence_gamma", "arousal_gamma", "valence_beta", "arousal_beta")])
        pinned = np.concatenate([unit[part + "_pinned"] for part in ("valence_gamma", "arousal_gamma", "valence_beta", "arousal_beta")])
        moved = (np.abs(bases) > threshold).mean()
        moved_any = max(moved_any, moved)
        lines.append(f"ERU {index + 1}: {moved:.0%} of channel-levels moved more than {threshold:g} from 0; "
                     f"{pinned.mean():.0%} are pinned at the clamp.")
    if moved_any < 0.05:
        lines.append("The ERUs have learned almost nothing: gamma is still the fixed multiplier 0.8 + 0.4 v, so valence "
                     "and arousal only scale all channels alike.")
    else:
        lines.append("Where a row of a panel changes colour from left to right, that channel's modulation depends on the "
                     "rating: this is what the ERU learned.")
    if max(np.mean([unit[p + "_pinned"].mean() for p in ("valence_gamma", "arousal_gamma", "valence_beta", "arousal_beta")])
           for unit in result["units"]) > 0.2:
        lines.append("Many channel-levels sit at the clamp, where no gradient flows: those can no longer learn.")
    return "\n".join(lines)


def read_regressor_grid(readings: dict) -> str:
    """The regressor's reading of generated images against the request, per axis: slope and Spearman."""
    from helpers.metrics import least_squares_slope, spearman

    lines = []
    for column, name in enumerate(("valence", "arousal")):
        requested, predicted = readings["requested"][:, column], readings["predicted"][:, column]
        slope = least_squares_slope(requested, predicted)
        rho = spearman(requested, predicted)
        if slope > 0.5:
            verdict = "follows the request"
        elif slope > 0.1:
            verdict = "follows it weakly"
        elif slope > -0.1 and abs(rho) >= 0.5:  # a tiny change, but in one direction: the order is there, the size is not
            verdict = (f"hardly changes with it: a consistent but tiny {'rise' if rho > 0 else 'fall'} (the Spearman sees "
                       "the order, the slope says the size)")
        elif slope > -0.1:
            verdict = "ignores it"
        else:
            verdict = "moves against it"
        lines.append(f"{name}: the regressor's reading rises {slope:+.2f} points per requested point (1 = exactly, "
                     f"0 = not at all), Spearman {rho:+.2f}: the {name} of the images {verdict}.")
    return "\n".join(lines)


def read_brightness_shortcut(result: dict, procedural: bool = True) -> str:
    factors = result["factors"]
    base = int(np.argmin(np.abs(factors - 1)))
    changes = {name: result[name][-1] - result[name][base] for name in ("valence", "arousal")}
    darker = {name: result[name][0] - result[name][base] for name in ("valence", "arousal")}
    lines = [f"Brightening the same {result['n_images']} real images by x{factors[-1]:g} moved the regressor's mean valence "
             f"by {changes['valence']:+.2f} and its arousal by {changes['arousal']:+.2f} (1-9 scale); darkening them to "
             f"x{factors[0]:g} moved them by {darker['valence']:+.2f} and {darker['arousal']:+.2f}."]
    if changes["valence"] > 0.3:
        lines.append("The regressor reads brightness as valence." + (
            " On the procedural set that is the labels' own rule (valence was computed from brightness), so it is right "
            "here; on real photos it would be a shortcut, and a generator could score 'valence' by brightness alone."
            if procedural else " A generator could then score 'valence' by brightness alone: read VA control with that in mind."))
    elif changes["valence"] < -0.3:
        lines.append("Brighter images read as less pleasant: the regressor has learned a cue that runs against the "
                     "labels' colour rule; treat its valence readings with care.")
    else:
        lines.append("Predicted valence barely moves with brightness alone: the regressor relies on other cues, or (see its "
                     "ceiling in the table) it has learned little at all.")
    return "\n".join(lines)


def read_metrics(metrics: dict, preset: str = None) -> str:
    """The evaluation table read line by line, each sentence conditional on its own numbers."""
    realism, control = metrics["realism"], metrics["va_control"]
    lines = []
    kid, floor = realism["kid_mean"], realism["floor_kid_mean"]
    spread = max(realism.get("kid_std") or 0.0, realism.get("floor_kid_std") or 0.0)
    kid_text = f"KID {kid:.4f} against the real-vs-real floor {floor:.4f}"
    if kid <= floor + 2 * spread:
        lines.append(f"{kid_text}: within two spreads of the floor, so at this N Inception cannot tell the generated images "
                     "from real test images.")
    elif floor > 0:
        lines.append(f"{kid_text}: {kid / floor:.0f}x the floor, so Inception tells generated from real images easily.")
    else:
        lines.append(f"{kid_text}: above the floor by {(kid - floor) / max(spread, 1e-12):.0f} spreads, so Inception tells "
                     "generated from real images apart.")
    for axis in ("valence", "arousal"):
        generated, ceiling = control[f"{axis}_spearman"], control[f"ceiling_{axis}_spearman"]
        text = (f"{axis} Spearman {correlation_text(generated)} against the regressor's ceiling {correlation_text(ceiling)} "
                "on real test images")
        if generated is None or ceiling is None:
            lines.append(f"{text}: the regressor reads the same {axis} off every image of one side, so there is no ranking "
                         f"to correlate; for generated images, the generator draws one image whatever {axis} is asked for.")
        elif generated < -0.1:
            lines.append(f"{text}: the images move *against* the requested {axis}.")
        elif generated < 0.1:
            lines.append(f"{text}: the regressor finds almost no trace of the requested {axis}.")
        elif generated > ceiling + 0.05:
            lines.append(f"{text}: above the ceiling. The generated images follow the requested labels more closely than "
                         "the photos follow their own noisy ratings; that is possible for a generator that exaggerates "
                         "the colour cues, and says nothing about realism.")
        elif generated >= ceiling - 0.05:
            lines.append(f"{text}: within 0.05 of the ceiling, about as readable as real images.")
        else:
            lines.append(f"{text}: {ceiling - generated:.2f} below it.")
    generated_slopes, real_slopes = metrics["colour_affect"]["generated"], metrics["colour_affect"]["real"]
    same, flat, opposite = [], [], []
    for stat in ("brightness", "saturation"):
        for axis in ("valence", "arousal"):
            g, r = generated_slopes[stat][f"{axis}_slope"], real_slopes[stat][f"{axis}_slope"]
            entry = f"{stat}/{axis} ({g:+.4f} vs real {r:+.4f})"
            # under a tenth of the real slope counts as flat: its sign says nothing
            (flat if abs(g) < 0.1 * abs(r) else same if np.sign(g) == np.sign(r) else opposite).append(entry)
    if same:
        lines.append("Colour slopes with the real images' sign: " + ", ".join(same) + ".")
    if flat:
        lines.append("Colour slopes under a tenth of the real ones (flat: the generator ignores this cue): " + ", ".join(flat) + ".")
    if opposite:
        lines.append("Colour slopes of the opposite sign to the real images': " + ", ".join(opposite)
                     + ". The generator has learned these colour cues backwards.")
    diversity = metrics["diversity"]
    ratio = diversity["value"] / max(diversity["real_reference"], 1e-12)
    measure = {"lpips": "LPIPS", "feature_l2": "Inception-feature distance"}.get(diversity.get("measure"), "distance")
    lines.append(f"Variety across seeds at V = A = {diversity['valence']:g} (mean pairwise {measure}): {diversity['value']:.3g} "
                 f"against {diversity['real_reference']:.3g} for real images of mixed VA ({ratio:.2f}x; the real set spans all "
                 "VA, so it is an upper reference).")
    memorisation = metrics["memorisation"]
    if "copy_fraction" in memorisation:
        fraction, expected = memorisation["copy_fraction"], memorisation["expected_without_copying"]
        n = memorisation["n_generated"]
        noise = 2 * math.sqrt(expected * (1 - expected) / max(n, 1))  # two binomial standard errors
        if fraction > expected + noise:
            verdict = f"above the {expected:g} of a generator that does not copy (by more than two standard errors at N {n}): some images are near-copies of training images."
        else:
            verdict = f"within two standard errors of the {expected:g} of a generator that does not copy (N {n}): no sign of copying."
        lines.append(f"Copy fraction {fraction:.3f}: {verdict}")
    return _with_note("\n".join(lines), preset)


def read_va_windows(windows: dict) -> str:
    """Where on the VA plane KID is best and worst (``metrics["va_windows"]``), with each window's
    N and spread, and which windows had too few images to score."""
    levels = np.asarray(windows["levels"], dtype=float)
    kid = np.array([[np.nan if v is None else v for v in row] for row in windows["kid_mean"]], dtype=float)
    spread = np.array([[np.nan if v is None else v for v in row] for row in windows["kid_std"]], dtype=float)
    n_real = np.asarray(windows["n_real"])
    scored = np.isfinite(kid)
    if not scored.any():
        return (f"No window held {windows['min_images']} or more real and generated images: the test split is too small "
                "at this preset to score the VA plane locally.")
    lines = [f"{scored.sum()} of {kid.size} windows scored (the others hold fewer than {windows['min_images']} real or generated images)."]
    for name, index in (("lowest", np.nanargmin(kid)), ("highest", np.nanargmax(kid))):
        row, column = np.unravel_index(index, kid.shape)
        lines.append(f"KID is {name} at V {levels[column]:g}, A {levels[row]:g}: {kid[row, column]:.3f} ± "
                     f"{spread[row, column]:.3f} (N {n_real[row, column]} real).")
    low, high = np.nanmin(kid), np.nanmax(kid)
    worst_spread = np.nanmax(spread[scored]) if np.isfinite(spread[scored]).any() else 0.0
    if high - low > 2 * worst_spread:
        lines.append("The model is measurably better in some regions of the VA plane than in others (the darker a cell, the "
                     "higher its KID: the worse the model there).")
    else:
        lines.append("The windows differ by less than two spreads: at these N, no region is measurably better than another.")
    lines.append("Windows overlap (neighbouring cells share images), and the corners hold few test images: a window's KID "
                 "is noisier than the whole-plane KID of the table.")
    return "\n".join(lines)


def read_gan_vs_diffusion(metrics: dict, costs: dict, preset: str = None) -> str:
    """Which model wins on which measure, from ``compare.evaluate_models`` and the costs, each
    sentence conditional on its own numbers; ``metrics`` and ``costs`` keyed "GAN" and "diffusion"."""
    gan, diffusion = metrics["GAN"], metrics["diffusion"]
    lines = []
    kids = {name: (m["realism"]["kid_mean"], m["realism"]["kid_std"] or 0.0) for name, m in metrics.items()}
    (gan_kid, gan_std), (diffusion_kid, diffusion_std) = kids["GAN"], kids["diffusion"]
    gap, spread = abs(gan_kid - diffusion_kid), 2 * max(gan_std, diffusion_std)
    if gap <= spread:
        lines.append(f"Realism: KID {gan_kid:.4f} (GAN) against {diffusion_kid:.4f} (diffusion), within two spreads "
                     f"({spread:.4f}) of each other: a tie at this N.")
    else:
        winner, loser = ("GAN", "diffusion") if gan_kid < diffusion_kid else ("diffusion", "GAN")
        lines.append(f"Realism: the {winner} wins, KID {kids[winner][0]:.4f} against {kids[loser][0]:.4f} "
                     f"({kids[loser][0] / max(kids[winner][0], 1e-12):.1f}x), more than two spreads apart.")
    for axis in ("valence", "arousal"):
        g, d = gan["va_control"][f"{axis}_spearman"], diffusion["va_control"][f"{axis}_spearman"]
        ceiling = gan["va_control"][f"ceiling_{axis}_spearman"]
        if g is None or d is None:
            lines.append(f"{axis.capitalize()} control: {correlation_text(g)} (GAN) and {correlation_text(d)} (diffusion) "
                         f"against the ceiling {correlation_text(ceiling)}; undefined means that model draws the same image "
                         f"whatever {axis} is asked for.")
        elif max(g, d) < 0.1:
            lines.append(f"{axis.capitalize()} control: {g:+.2f} (GAN) and {d:+.2f} (diffusion) against the ceiling "
                         f"{ceiling:+.2f}: neither model follows the requested {axis}.")
        elif abs(g - d) < 0.05:
            lines.append(f"{axis.capitalize()} control: {g:+.2f} (GAN) and {d:+.2f} (diffusion) against the ceiling "
                         f"{ceiling:+.2f}: about the same.")
        else:
            winner = "GAN" if g > d else "diffusion"
            lines.append(f"{axis.capitalize()} control: the {winner} follows the request better, {g:+.2f} (GAN) against "
                         f"{d:+.2f} (diffusion); the ceiling is {ceiling:+.2f}.")
    g, d = gan["diversity"]["value"], diffusion["diversity"]["value"]
    real = gan["diversity"]["real_reference"]
    more = "diffusion" if d > g else "GAN"
    lines.append(f"Variety across seeds at V = A = 5: {g:.3f} (GAN), {d:.3f} (diffusion), real images of mixed VA "
                 f"{real:.3f}: the {more} model varies more ({max(g, d) / max(min(g, d), 1e-12):.2f}x).")
    copies = {name: m["memorisation"].get("copy_fraction") for name, m in metrics.items()}
    if all(value is not None for value in copies.values()):
        expected = gan["memorisation"]["expected_without_copying"]

        def above_chance(memorisation):  # more than two binomial standard errors above `expected`
            n = max(memorisation["n_generated"], 1)
            return memorisation["copy_fraction"] > expected + 2 * math.sqrt(expected * (1 - expected) / n)

        copying = [name for name, m in metrics.items() if above_chance(m["memorisation"])]
        lines.append(f"Copy fraction: {copies['GAN']:.3f} (GAN), {copies['diffusion']:.3f} (diffusion) against "
                     f"{expected:g} without copying: " + (f"{' and '.join(copying)} above it by more than two standard errors."
                                                         if copying else "neither shows signs of copying."))
    g_ms, d_ms = costs["GAN"]["ms_per_image"], costs["diffusion"]["ms_per_image"]
    lines.append(f"Cost of an image: {g_ms:.1f} ms (GAN, one pass) against {d_ms:.1f} ms (diffusion, "
                 f"{costs['diffusion'].get('passes', 'several')} passes of its U-Net): {d_ms / max(g_ms, 1e-9):.0f}x.")
    slow = [name for name in ("GAN", "diffusion") if costs[name]["slider_ms"] > 100]
    lines.append(f"Slider update (4 images): {costs['GAN']['slider_ms']:.0f} ms (GAN), {costs['diffusion']['slider_ms']:.0f} ms "
                 f"(diffusion); " + (f"{' and '.join(slow)} above the 100 ms a drag needs to feel live; fewer steps help the "
                                     "diffusion model, at a cost in quality." if slow else "both within the 100 ms a drag needs."))
    g_min, d_min = costs["GAN"].get("train_minutes"), costs["diffusion"].get("train_minutes")
    if g_min is not None and d_min is not None:
        lines.append(f"Training: {g_min:.1f} min (VAE + GAN) against {d_min:.1f} min (diffusion) of wall clock; "
                     + ("about the same budget." if abs(g_min - d_min) <= 0.2 * max(g_min, d_min)
                        else "not the same budget, so read the comparison with that in mind."))
    return _with_note("\n".join(lines), preset)


def read_guidance_sweep(sweep: dict, real_saturation: float = None) -> str:
    """What the guidance scale did to VA control, variety and colour, from ``compare.guidance_sweep``;
    answers whether guidance makes the images greyer or less varied (the original's complaint)."""
    scales = list(sweep["scales"])
    lines = []
    for axis in ("valence", "arousal"):
        values = sweep[f"{axis}_spearman"]
        pairs = ", ".join(f"{value:+.2f} at {scale:g}" for scale, value in zip(scales, values))
        best = scales[int(np.nanargmax(values))]
        lines.append(f"{axis.capitalize()} Spearman {pairs}: strongest at guidance {best:g}.")
    if 1.0 in scales:
        base = scales.index(1.0)
        top = int(np.argmax(scales))
        spread_ratio = sweep["spread"][top] / max(sweep["spread"][base], 1e-12)
        saturation_ratio = sweep["saturation"][top] / max(sweep["saturation"][base], 1e-12)
        variety = ("less varied" if spread_ratio < 0.9 else "more varied" if spread_ratio > 1.1 else "about as varied")
        colour = ("greyer (less saturated)" if saturation_ratio < 0.9 else
                  "more saturated" if saturation_ratio > 1.1 else "about as saturated")
        lines.append(f"From guidance 1 to {scales[top]:g} the images become {variety} (pixel spread x{spread_ratio:.2f}) "
                     f"and {colour} (mean saturation x{saturation_ratio:.2f}).")
        alike = ("Stronger guidance makes the images more alike, one half of what the original saw."
                 if spread_ratio < 0.9 else "Stronger guidance does not make the images noticeably more alike here.")
        grey = ("It also makes them greyer, the other half." if saturation_ratio < 0.9 else
                "It makes them more colourful, not greyer: guidance is not what makes images grey here." if saturation_ratio > 1.1
                else "It leaves their saturation about where it was.")
        lines.append(f"{alike} {grey}")
    if real_saturation is not None:
        greyest = int(np.argmin(sweep["saturation"]))
        if sweep["saturation"][greyest] < 0.75 * real_saturation:
            unpushed = (": a grey, washed-out picture is what this model draws where guidance does not push it, the look "
                        "of a model that has not learned the data's colours yet") if scales[greyest] <= 1 else ""
            lines.append(f"At guidance {scales[greyest]:g} the grids are greyer than real images (saturation "
                         f"{sweep['saturation'][greyest]:.3f} against {real_saturation:.3f}){unpushed}.")
    if real_saturation is not None:
        lines.append(f"Real training images have a mean saturation of {real_saturation:.3f}; the grids range "
                     f"{min(sweep['saturation']):.3f}-{max(sweep['saturation']):.3f}.")
    return "\n".join(lines)


def read_trajectory(path: dict) -> str:
    """Where along the sampling path the expected image settled, from ``compare.sampling_trajectory``:
    the mean change of the expected image (of 255) from one step to the next."""
    predictions = path["predictions"].astype(np.float64)
    changes = np.abs(np.diff(predictions, axis=0)).mean(axis=(1, 2, 3))
    times = path["times"]
    if changes.sum() < 1.0:
        return (f"The expected image hardly changes from step to step ({changes.sum():.2f} of 255 in all): the model "
                "expects about the same image from pure noise as near the end, so it has not learned to denoise yet.")
    largest = int(np.argmax(changes))
    half = int(np.searchsorted(np.cumsum(changes), changes.sum() / 2))
    return (f"The expected image changes by {', '.join(f'{c:.1f}' for c in changes)} (of 255) from step to step: most "
            f"between t = {times[largest]:.2f} and {times[largest + 1]:.2f}, and half of its total change is done by "
            f"t = {times[half + 1]:.2f}.")
