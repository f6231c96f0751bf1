"""Training throughput of the full adversarial phase (R1 steps included), in images/s.

Runs the real training loop (ADA, EMA, VA and diversity losses, gradient clipping, stats)
with the warm-up phases set to zero length, so every measured step is a phase-3 step.
The original implementation, once fixed, ran at 4.5 (64 px) and 1.6 (128 px) images/s on a
2-core CPU (SEED_DESIGN.md); the target is 10x that: 45 and 16.

    python benchmarks/throughput.py [--sizes 64 128] [--steps 96]
"""

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import torch

from helpers.config import model_config_for_size, preset
from helpers.data.synth import write_dataset
from helpers.data import load_dataset
from helpers.models.checkpoint import save_model
from helpers.models.encoder import VAE
from helpers.training.gan import train_gan


def measure(size: int, steps: int, batch_size: int, folder: Path) -> dict:
    data = load_dataset(folder / "images", labels=folder / "labels.csv", size=size, progress=False)
    train, val, _ = data.split()
    vae_path = save_model(VAE(model_config_for_size(size)), folder / f"vae-{size}.pth", "vae")
    config = preset("quick", "gan", recon_fraction=0.0, ramp_fraction=0.0, eval_every=0, sample_every=10**6,
                    checkpoint_every=10**6, stats_every=steps // 4, batch_size=batch_size, epochs=10**3)
    started = time.time()
    result = train_gan(config, train, val, vae_path, out_dir=folder / f"out-{size}", progress=False,
                       lpips_model=None, max_steps=steps)
    wall = time.time() - started
    rates = [r["images_per_second"] for r in result.history if "images_per_second" in r]
    return {"size": size, "batch_size": batch_size, "steps": steps,
            "images_per_second_after_warmup": round(sum(rates[1:]) / max(1, len(rates[1:])), 1),
            "images_per_second_wall": round(steps * batch_size / wall, 1), "r1_every": config.r1_interval}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--steps", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        write_dataset(folder, n=400, size=128, seed=0, progress=False)
        results = [measure(size, args.steps, args.batch_size, folder) for size in args.sizes]
    targets = {64: 45, 128: 16}
    for r in results:
        r["target"] = targets.get(r["size"])
    print(json.dumps({"benchmark": "throughput_full_adversarial", "machine": platform.machine(),
                      "cpu_threads": torch.get_num_threads(), "device": "cuda" if torch.cuda.is_available() else "cpu",
                      "results": results}, indent=2))


if __name__ == "__main__":
    main()
