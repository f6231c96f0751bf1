"""Training throughput of the full adversarial phase (R1 steps included), in images/s, with the
model FLOPs per image and the share of this CPU's measured peak (machine.py: the faster of a
matmul and a 3x3 convolution) they reach.

Runs the real training loop (ADA, EMA, VA and VA-sensitivity losses, gradient clipping, stats)
with the warm-up phases set to zero length, so every measured step is a phase-3 step, once in
fp32 and once with bf16 autocast where the CPU runs bf16 natively. The FLOPs of one step (G
forward, D on reals and fakes, G's pass through D, all backward passes; not the lazy R1 step, one
in 16) are counted by torch's FlopCounterMode.

    python benchmarks/throughput.py [--sizes 64 128] [--steps 96] [--repeats 3] [--preset quick] [--batch-size N] [--json out.json]
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from helpers.config import GANTrainConfig, model_config_for_size, preset
from helpers.data import load_dataset
from helpers.data.synth import write_dataset
from helpers.losses import GANLoss
from helpers.models.checkpoint import save_model
from helpers.models.discriminator import Discriminator
from helpers.models.encoder import VAE
from helpers.models.generator import Generator
from helpers.training.gan import train_gan
from helpers.training.precision import cpu_has_native_bf16
from helpers.training.schedule import phase_weights
from machine import machine_facts


def flops_per_image(model_config, batch_size: int) -> float:
    """Model FLOPs of one phase-3 training step, per image (multiply-add = 2 FLOPs). The lazy R1
    step (one step in 16; FlopCounterMode cannot follow its double backward) is not counted, so
    the utilisation below is a slight underestimate."""
    generator, discriminator = Generator(model_config), Discriminator(model_config)
    loss = GANLoss(generator, discriminator)
    reals, va = torch.randn(batch_size, 3, model_config.image_size, model_config.image_size), torch.rand(batch_size, 2)
    z = torch.randn(batch_size, model_config.input_dim)
    weights = phase_weights(1.0)
    with FlopCounterMode(display=False) as main:
        fakes = generator(z, va)
        loss.d_main(reals, va, fakes, va)
        loss.g_main(fakes, va, batch_size // 2, reals, va, weights)
    return main.get_total_flops() / batch_size


def measure(size: int, steps: int, batch_size: int, preset_name: str, precision: str, folder: Path,
            lpips_model=None) -> dict:
    """Phase-3 images/s of the real training loop; with ``lpips_model``, LPIPS at the original's weight (the full
    preset's) from the first step."""
    data = load_dataset(folder / "images", labels=folder / "labels.csv", size=size, progress=False)
    train, val, _ = data.split()
    model_config = model_config_for_size(size, preset_name)
    vae_path = save_model(VAE(model_config), folder / f"vae-{size}.pth", "vae")
    config = preset(preset_name, "gan", recon_fraction=0.0, ramp_fraction=0.0, eval_every=0, sample_every=10**6,
                    checkpoint_every=10**6, stats_every=steps // 4, batch_size=batch_size, epochs=10**3,
                    precision=precision, lpips_start=0.0, lpips_full=0.0,
                    lpips_weight=GANTrainConfig.lpips_weight if lpips_model is not None else 0.0)
    started = time.time()
    result = train_gan(config, train, val, vae_path, out_dir=folder / f"out-{size}-{precision}", progress=False,
                       lpips_model=lpips_model, max_steps=steps)
    wall = time.time() - started
    rates = [r["images_per_second"] for r in result.history if "images_per_second" in r]
    return {"size": size, "precision": precision, "batch_size": batch_size, "steps": steps,
            "images_per_second": round(sum(rates[1:]) / max(1, len(rates[1:])), 1),
            "images_per_second_wall": round(steps * batch_size / wall, 1), "r1_every": config.r1_interval,
            "lpips_term_ran": any(r.get("lpips", 0) > 0 for r in result.history)}


def median_run(runs: list) -> dict:
    """The run with the median images/s, and every run's images/s beside it."""
    ordered = sorted(runs, key=lambda run: run["images_per_second"])
    return {**ordered[len(ordered) // 2], "images_per_second_each": [run["images_per_second"] for run in runs]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--steps", type=int, default=96)
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--batch-size", type=int, help="default: the preset's GAN batch size")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per precision, alternating; the median is kept")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    args.batch_size = args.batch_size or preset(args.preset, "gan").batch_size
    machine = machine_facts()
    precisions = ["fp32", "bf16"] if cpu_has_native_bf16() or torch.cuda.is_available() else ["fp32"]
    results = []
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        write_dataset(folder, n=400, size=128, seed=0, progress=False)
        for size in args.sizes:
            flops = flops_per_image(model_config_for_size(size, args.preset), args.batch_size)
            # Precisions alternate, repeat after repeat, and each row keeps the median: on a shared 2-core VM
            # one measurement can be 20% off the next, and alternating spreads that over both precisions.
            runs = {p: [] for p in precisions}
            for _ in range(args.repeats):
                for precision in precisions:
                    runs[precision].append(measure(size, args.steps, args.batch_size, args.preset, precision, folder))
            rows = {p: median_run(measured) for p, measured in runs.items()}
            for precision, row in rows.items():
                peak = machine["peak_bf16_gflops" if precision == "bf16" else "peak_fp32_gflops"] * 1e9
                row["model_gflop_per_image"] = round(flops / 1e9, 3)
                row["achieved_gflops"] = round(flops * row["images_per_second"] / 1e9, 1)
                row["share_of_fp32_peak"] = round(flops * row["images_per_second"] / (machine["peak_fp32_gflops"] * 1e9), 3)
                row["share_of_own_precision_peak"] = round(flops * row["images_per_second"] / peak, 3)
            if "bf16" in rows:
                rows["bf16"]["speedup_over_fp32"] = round(rows["bf16"]["images_per_second"] / rows["fp32"]["images_per_second"], 2)
            results.extend(rows.values())
    out = {"benchmark": "throughput_full_adversarial", "preset": args.preset, "machine": machine,
           "device": "cuda" if torch.cuda.is_available() else "cpu", "results": results,
           "targets": {"share_of_fp32_peak_64px": 0.6, "bf16_speedup": 1.6}}
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
