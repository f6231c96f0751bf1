"""Why the first version's D sat at chance: D designs and learning rates in short runs.

Two probes, both from one quick VAE (the warm start):
* ``alone``: G frozen (the VAE decoder), D trained alone; can this D tell the fakes at all?
* ``game``: the real training loop (G trains too) for ``--steps`` steps; does D's hinge loss
  leave 2.0 (a constant D) when G can answer every step?

Prints and writes JSON (``benchmarks/results/discriminator_probe.json``) with D's hinge loss
per stats record, its last real and fake scores, images/s and the machine.

    python benchmarks/discriminator_probe.py --vae weights/quick/vae_best.pth [--steps 400]
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from helpers.config import FIRST_VERSION_MODEL, DataConfig, preset
from helpers.data import ensure_default_dataset, load_dataset
from helpers.image_tensors import to_tensor
from helpers.losses import GANLoss
from helpers.models.checkpoint import load_model
from helpers.models.discriminator import Discriminator
from helpers.training.gan import train_gan
from helpers.training.precision import autocast
from helpers.va import va_unit_tensor
from machine import machine_facts

FIRST_D = {key: FIRST_VERSION_MODEL[key] for key in ("d_blocks", "d_spectral_norm", "d_channels", "d_full_resolution_channels")}
NEW_D = dict(d_blocks="residual", d_spectral_norm="head", d_channels=(32, 64, 128, 256), d_full_resolution_channels=0)
# name -> (D settings, GAN config overrides)
VARIANTS = {
    "first_version": (FIRST_D, dict(g_learning_rate=2e-4, d_learning_rate=4e-4, r1_gamma=5.0)),
    "first_version_g_frozen": (FIRST_D, dict(g_learning_rate=0.0, d_learning_rate=4e-4, r1_gamma=5.0)),
    "first_version_g_lr_5e-5": (FIRST_D, dict(g_learning_rate=5e-5, d_learning_rate=4e-4, r1_gamma=5.0)),
    "first_d_sn_head_r1_0.1": (dict(FIRST_D, d_spectral_norm="head"), dict(g_learning_rate=1e-4, d_learning_rate=4e-4, r1_gamma=0.1)),
    "residual_sn_head_r1_0.1_g_2e-4": (NEW_D, dict(g_learning_rate=2e-4, d_learning_rate=4e-4, r1_gamma=0.1)),
    "residual_sn_head_r1_0.1": (NEW_D, dict(g_learning_rate=1e-4, d_learning_rate=4e-4, r1_gamma=0.1)),
    "residual_sn_none_r1_0.1": (dict(NEW_D, d_spectral_norm="none"), dict(g_learning_rate=1e-4, d_learning_rate=4e-4, r1_gamma=0.1)),
}


def alone(vae_path, train, settings: dict, r1_gamma: float, steps: int) -> dict:
    """D against a frozen warm-started G: hinge loss over the first and last 25 steps."""
    from dataclasses import replace

    vae, _ = load_model(vae_path, "vae")
    generator = vae.decoder.eval().requires_grad_(False)
    torch.manual_seed(0)
    discriminator = Discriminator(replace(vae.config, projection=False, **settings))
    optimizer = torch.optim.Adam(discriminator.parameters(), lr=4e-4, betas=(0.0, 0.99))
    loss = GANLoss(generator, discriminator, r1_gamma=r1_gamma, r1_interval=16)
    labels, rng, history = va_unit_tensor(train.valence, train.arousal), np.random.default_rng(0), []
    for step in range(steps):
        rows = np.sort(rng.choice(len(train), 16, replace=False))
        fake_va = labels[rng.integers(0, len(train), 16)]
        with autocast(torch.device("cpu")):
            with torch.no_grad():
                fakes = generator(torch.randn(16, generator.config.input_dim), fake_va)
            optimizer.zero_grad()
            history.append(loss.d_main(to_tensor(train.images[rows]), labels[rows], fakes, fake_va)["d_loss"].item())
            optimizer.step()
    return {"hinge_first_25": round(float(np.mean(history[:25])), 3), "hinge_last_25": round(float(np.mean(history[-25:])), 3)}


def game(vae_path, train, val, settings: dict, overrides: dict, steps: int, out: Path) -> dict:
    config = preset("quick", "gan", epochs=10, eval_every=0, stats_every=25, sample_every=100, **overrides)
    started = time.time()
    result = train_gan(config, train, val, vae_path, out_dir=out, progress=False, lpips_model=None, max_steps=steps,
                       d_settings=dict(settings, projection=False))
    records = [r for r in result.history if "d_loss" in r]
    return {"d_loss": [round(r["d_loss"], 2) for r in records], "real_score": round(records[-1]["d_real_score"], 2),
            "fake_score": round(records[-1]["d_fake_score"], 2), "seconds": round(time.time() - started),
            "images_per_second": round(float(np.median([r["images_per_second"] for r in records])), 1)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vae", required=True, help="a quick vae_best.pth (the warm start)")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--out", default="weights/discriminator-probe")
    args = parser.parse_args()
    folder = ensure_default_dataset(2000, progress=False)
    data = load_dataset(folder / "images", folder / "labels.csv", size=64, progress=False)
    train, val, _ = data.split(DataConfig())
    results = {"machine": machine_facts(), "steps": args.steps, "alone": {}, "game": {}}
    for name in ("first_version", "residual_sn_head_r1_0.1"):
        settings, overrides = VARIANTS[name]
        results["alone"][name] = alone(args.vae, train, settings, overrides["r1_gamma"], 150)
        print(name, "alone", results["alone"][name], flush=True)
    for name, (settings, overrides) in VARIANTS.items():
        results["game"][name] = game(args.vae, train, val, settings, overrides, args.steps, Path(args.out) / name)
        print(name, "game", results["game"][name], flush=True)
    path = Path(__file__).parent / "results" / "discriminator_probe.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
