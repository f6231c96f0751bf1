"""Ablations of the original's ideas at equal budget, on the default dataset's test split.

Each row trains a VAE warm start (unless the row drops it) and a GAN with the `quick` recipe
scaled by ``--budget`` (a fraction of its epochs), then scores the EMA generator with the
quick evaluation: KID on the test split with its spread, V and A Spearman against the
regressor's ceiling (both scored at the test images' own labels), D's phase-3 hinge loss and
wall time. One VA regressor is trained once and shared by every row.

Results go to ``benchmarks/results/ablations.json`` row by row (a finished row is never run
again, so the script can be stopped and restarted across sessions) and a figure to
``benchmarks/results/ablations.png``, which notebook 03 shows without re-running (``--name`` gives
another budget its own results and run folders).

    python benchmarks/ablations.py [--budget 0.4] [--rows new_recipe-s0 ...] [--list] [--name ablations]
"""

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from helpers.config import FIRST_VERSION_MODEL, DataConfig, model_config_for_size, preset
from helpers.data import ensure_default_dataset, load_dataset
from helpers.data.synth import dataset_version
from helpers.evaluate_checkpoint import evaluate_generator
from helpers.metrics.regressor import VARegressor, train_va_regressor
from helpers.models.checkpoint import load_generator, load_model, save_model
from helpers.models.encoder import VAE
from helpers.training.gan import DISCRIMINATOR_SETTINGS, train_gan
from helpers.training.vae import train_vae
from machine import cpu_model, machine_facts

RESULTS = Path(__file__).parent / "results"
FIRST_VERSION_GAN = dict(g_learning_rate=2e-4, d_learning_rate=4e-4, r1_gamma=5.0, xflip=False)
DECAY = dict(lr_floor=0.1)  # a cosine decay of both learning rates over the last quarter, to 0.1x
# Every row here ran 95 epochs (times --budget) at batch 16 with G at 1e-4 and D at 4e-4, the quick preset's settings
# until 2026-12-05 (since then G at 2e-4, then 126 epochs at batch 32 with G at 4e-4 and D at 8e-4, then 1.2e-3:
# benchmarks/learning_rate.py); a row's own overrides (the first version's 2e-4) come on top.
TABLE_GAN = dict(epochs=95, batch_size=16, g_learning_rate=1e-4, d_learning_rate=4e-4)

# name -> (model overrides, GAN config overrides, VAE warm start?)
ROWS = {
    "new_recipe": ({}, {}, True),
    "first_version": ({**FIRST_VERSION_MODEL, "projection": False}, FIRST_VERSION_GAN, True),
    # The first version's G and D and rates, with the new recipe's projection conditioning.
    "first_version_with_projection": (FIRST_VERSION_MODEL, FIRST_VERSION_GAN, True),
    "no_vae_warm_start": ({}, dict(recon_fraction=0.0, ramp_fraction=0.0), False),
    "no_va_sensitivity_loss": ({}, dict(va_sensitivity_weight=0.0), True),
    "projection_instead_of_g_va_head": (dict(projection=True), dict(g_va_weight=0.0), True),
    "attention_eru": (dict(eru="attention"), {}, True),
    "ada_off": ({}, dict(ada="off"), True),
    # An ICNR sub-pixel RGB layer instead of the first version's nearest x2 + 3x3 conv (the default
    # until these rows showed it behind the fine grid texture and a higher KID).
    "subpixel_rgb_output": (dict(rgb_output="subpixel", full_resolution_channels=0), {}, True),
    # The quick model's full-resolution stage and noise inputs (the recipe since 2026-12-01), each removed
    # and both removed (the recipe before), and G at twice its learning rate. These rows ran with the cosine
    # learning-rate decay over the last quarter (lr_floor 0.1), the default until the lr_decay rows below.
    "no_noise_no_full_resolution_stage_lr_decay": (dict(full_resolution_channels=0, noise_inputs=False), DECAY, True),
    "no_noise_inputs_lr_decay": (dict(noise_inputs=False), DECAY, True),
    "no_full_resolution_stage_lr_decay": (dict(full_resolution_channels=0), DECAY, True),
    "g_learning_rate_2e-4_lr_decay": ({}, dict(DECAY, g_learning_rate=2e-4), True),
    # The recipe with that decay: ADA's p climbed to its cap as the rates fell, and the KID rose.
    "lr_decay": ({}, DECAY, True),
    # A 32-channel full-resolution stage instead of 16 (+4% of the step's FLOPs).
    "full_resolution_32": (dict(full_resolution_channels=32), {}, True),
    # R1 at 5x its weight (a smoother D, against the speckled texture of the quick images), and at half
    # (StyleGAN2-ADA's heuristic 0.0002 * 64^2 / 16 = 0.05).
    "r1_gamma_0.5": ({}, dict(r1_gamma=0.5), True),
    "r1_gamma_0.05": ({}, dict(r1_gamma=0.05), True),
    # The quick images follow arousal better than the regressor does on photos (0.87-0.90 against 0.81) by
    # exaggerating colour: would less pull from G's VA losses (its VA-head loss and the VA-sensitivity loss) look
    # more real? Both losses at half and at double their weights: KID 0.077 and 0.074 (seed 0), above the recipe.
    "va_losses_halved": ({}, dict(g_va_weight=0.25, va_sensitivity_weight=0.15), True),
    "va_losses_doubled": ({}, dict(g_va_weight=1.0, va_sensitivity_weight=0.6), True),
    # StyleGAN2's skip outputs, each stage adding an RGB image of its own (ModelConfig.rgb_skips): KID 0.056.
    "rgb_skips": (dict(rgb_skips=True), {}, True),
    # D 1.5x wider in its first three blocks (222 MFLOP per image against 116): KID 0.051 and 0.058 (seeds 0, 1),
    # no different from the recipe's 0.053-0.063, in 17.3 min against 14.5-15.0 (ADA's p 0.45-0.56 against 0.1-0.4).
    "d_channels_48": (dict(d_channels=(48, 96, 192, 256)), {}, True),
}
SEEDS = {"new_recipe": (0, 1, 2), "d_channels_48": (0, 1), "first_version": (0, 1), "lr_decay": (0, 1), "no_noise_no_full_resolution_stage_lr_decay": (0, 1)}


def row_gan_overrides(name: str) -> dict:
    """The GAN settings row ``name`` changes: the table's, then the row's own overrides."""
    return {**TABLE_GAN, **ROWS[name][1]}


def row_names() -> list:
    return [f"{name}-s{seed}" for name in ROWS for seed in SEEDS.get(name, (0,))]


def phase3_d_loss(history: list) -> float:
    """D's mean hinge loss over the second half of phase 3 (chance: 2.0)."""
    records = [r["d_loss"] for r in history if r.get("phase") == 3 and "d_loss" in r]
    return float(np.mean(records[len(records) // 2:])) if records else float("nan")


def run_row(row: str, budget: float, work: Path, split, data_config, regressor) -> dict:
    name, seed = row.rsplit("-s", 1)
    seed = int(seed)
    model_overrides, _, warm_start = ROWS[name]
    out = work / row
    started = time.time()
    model_config = model_config_for_size(64, "quick", **model_overrides)
    vae_config = preset("quick", "vae", seed=seed)
    # Equal budget means equal images, on any machine: the preset's wall-clock budgets (minutes) are off here.
    vae_config = replace(vae_config, epochs=max(1, round(vae_config.epochs * budget)), minutes=0.0)
    if warm_start:
        vae_path = out / "vae_best.pth"
        if (out / "vae_final.pth").is_file() and load_model(vae_path, "vae")[0].config != model_config:
            raise SystemExit(f"{out} holds a VAE of another model config; delete the folder to rerun row {row}")
        if not (out / "vae_final.pth").is_file():
            train_vae(vae_config, model_config, split.train, split.val, out_dir=out, data_config=data_config,
                      test=split.test, progress=False)
    else:  # G from scratch: an untrained VAE's decoder (and encoder) as the starting point
        vae_path = save_model(VAE(model_config), out / "vae_untrained.pth", "vae")
    gan_config = preset("quick", "gan", seed=seed, **row_gan_overrides(name))
    gan_config = replace(gan_config, epochs=max(2, round(gan_config.epochs * budget)), minutes=0.0)
    runs = sorted((out / "runs").glob("*-gan-*")) if (out / "runs").is_dir() else []
    unfinished = [r for r in runs if (r / "training_state.pt").is_file() and not (out / "progressive_gen_ema_final.pth").is_file()]
    d_settings = {name: getattr(model_config, name) for name in DISCRIMINATOR_SETTINGS}  # the row's D, not the VAE's
    result = train_gan(gan_config, split.train, split.val, vae_path, out_dir=out, data_config=data_config,
                       test=split.test, progress=False, resume=unfinished[-1] if unfinished else None,
                       d_settings=d_settings)
    if not result.finished:
        raise KeyboardInterrupt
    train_seconds = time.time() - started
    metrics = evaluate_generator(load_generator(result.checkpoints["gen_ema_best"]), split.train, split.test,
                                 "quick", progress=False, regressor=regressor)
    realism, control = metrics["realism"], metrics["va_control"]
    return {"row": row, "name": name, "seed": seed, "budget": budget, "gan_epochs": gan_config.epochs,
            "vae_epochs": vae_config.epochs if warm_start else 0,
            "kid": realism["kid_mean"], "kid_std": realism["kid_std"], "kid_floor": realism["floor_kid_mean"],
            "n_fake": realism["n_fake"], "n_real": realism["n_real"],
            "valence_spearman": control["valence_spearman"], "arousal_spearman": control["arousal_spearman"],
            "ceiling_valence_spearman": control["ceiling_valence_spearman"],
            "ceiling_arousal_spearman": control["ceiling_arousal_spearman"],
            "d_phase3_loss": phase3_d_loss(result.history), "train_seconds": round(train_seconds, 1),
            "rgb_output": model_config.rgb_output, "full_resolution_channels": model_config.full_resolution_channels,
            "noise_inputs": model_config.noise_inputs, "lr_floor": gan_config.lr_floor,
            "g_learning_rate": gan_config.g_learning_rate, "cpu": cpu_model(),
            "run_dir": str(result.run_dir)}


def draw(rows: list, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["row"] for r in rows]
    figure, axes = plt.subplots(1, 3, figsize=(15, 0.45 * len(rows) + 1.5), sharey=True)
    y = np.arange(len(rows))
    axes[0].barh(y, [r["kid"] for r in rows], xerr=[r["kid_std"] for r in rows], color="tab:blue")
    axes[0].axvline(rows[0]["kid_floor"], color="k", ls=":", label="real-vs-real floor")
    axes[0].set(xlabel="KID on the test split\n(lower is better)", yticks=y, yticklabels=names)
    for axis, key, title in ((axes[1], "valence", "valence"), (axes[2], "arousal", "arousal")):
        axis.barh(y, [np.nan if r[f"{key}_spearman"] is None else r[f"{key}_spearman"] for r in rows], color="tab:orange")
        axis.axvline(rows[0][f"ceiling_{key}_spearman"], color="k", ls=":", label="regressor ceiling")
        axis.set(xlabel=f"{title} Spearman, requested vs read\n(higher is better)", xlim=(0, 1))
    for axis in axes:  # above the bars, never over them
        axis.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    axes[0].invert_yaxis()
    figure.suptitle(f"Ablations at equal budget ({rows[0]['gan_epochs']} GAN epochs each, quick recipe)", y=0.99)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=0.4, help="fraction of the quick preset's epochs per row")
    parser.add_argument("--rows", nargs="*", default=None)
    parser.add_argument("--draw", action="store_true", help="only redraw the figure from the saved rows")
    parser.add_argument("--name", default="ablations",
                        help="results in benchmarks/results/<name>.json and .png, runs in weights/<name>/ "
                             "(another name for another budget)")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    if args.list:
        print("\n".join(row_names()))
        return
    RESULTS.mkdir(exist_ok=True)
    results_path, figure_path, work = RESULTS / f"{args.name}.json", RESULTS / f"{args.name}.png", Path("weights") / args.name
    saved = json.loads(results_path.read_text()) if results_path.is_file() else {"rows": []}
    if not saved["rows"]:  # the machine that runs the rows (an older table stays under "earlier")
        saved["machine"] = machine_facts()
    done = {r["row"] for r in saved["rows"]}
    if args.draw:
        draw(saved["rows"], figure_path)
        return
    folder = ensure_default_dataset(2000, progress=False)
    data_config = DataConfig(images=str(folder / "images"), labels=str(folder / "labels.csv"))
    data = load_dataset(folder / "images", folder / "labels.csv", size=64, progress=False)
    split = data.split(data_config)
    regressor_path = work / "va_regressor.pt"
    if regressor_path.is_file():
        regressor = VARegressor.load(regressor_path)
    else:
        regressor = train_va_regressor(split.train.images, split.train.valence, split.train.arousal, epochs=10, progress=False)
        work.mkdir(parents=True, exist_ok=True)
        regressor.save(regressor_path)
    for row in args.rows or row_names():
        if row in done:
            continue
        print(f"{row}: training", flush=True)
        saved["rows"].append({**run_row(row, args.budget, work, split, data_config, regressor),
                              "dataset_version": dataset_version(folder)})
        results_path.write_text(json.dumps(saved, indent=2) + "\n")
        print(json.dumps(saved["rows"][-1]), flush=True)
        draw(saved["rows"], figure_path)


if __name__ == "__main__":
    main()
