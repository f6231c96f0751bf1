"""Time the `quick` preset end to end (default dataset -> VAE -> GAN) on this machine and
print the figures as JSON. Target: at most 20 minutes on 2 CPU cores.

    python benchmarks/quick_preset.py [--out weights/quick-benchmark]
"""

import argparse
import json
import shutil
import time
from pathlib import Path

from helpers.config import DataConfig, model_config_for_size, preset
from helpers.data import ensure_default_dataset, load_dataset
from helpers.training.gan import train_gan
from helpers.training.runs import read_config
from helpers.training.vae import train_vae
from machine import machine_facts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="weights/quick-benchmark")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    times = {}
    started = time.time()
    folder = ensure_default_dataset(2000, progress=False)
    data = load_dataset(folder / "images", folder / "labels.csv", size=args.size, progress=False)
    times["data_seconds"] = time.time() - started
    data_config = DataConfig(images=str(folder / "images"), labels=str(folder / "labels.csv"), size=args.size)
    train, val, test = data.split(data_config)
    clock = time.time()
    vae = train_vae(preset("quick", "vae"), model_config_for_size(args.size, "quick"), train, val, out_dir=out,
                    data_config=data_config, progress=False, test=test)
    times["vae_seconds"] = time.time() - clock
    clock = time.time()
    gan = train_gan(preset("quick", "gan"), train, val, vae.best_path, out_dir=out, data_config=data_config,
                    progress=False, test=test)
    times["gan_seconds"] = time.time() - clock
    times["total_seconds"] = time.time() - started
    full_phase = [r["images_per_second"] for r in gan.history if r.get("phase") == 3 and "images_per_second" in r]
    result = {
        "benchmark": "quick_preset", "size": args.size, "machine": machine_facts(),
        **{k: round(v, 1) for k, v in times.items()},
        "total_minutes": round(times["total_seconds"] / 60, 2),
        "gan_full_phase_images_per_second_median": sorted(full_phase)[len(full_phase) // 2] if full_phase else None,
        "kid_by_epoch": {r["epoch_end"]: r["kid"] for r in gan.history if "kid" in r},
        # what the time budgets allowed on this machine (None: no budget), from the runs' own config.json
        "budgets": {part: read_config(run).get("budget")
                    for part, run in (("vae", vae.run_dir), ("gan", gan.run_dir))},
        "vae_run": str(vae.run_dir), "gan_run": str(gan.run_dir), "generator": str(gan.checkpoints["gen_ema_best"]),
        "target_minutes": 20,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
