"""What the LPIPS term costs a phase-3 GAN step: images/s with and without it, paired on one machine.

LPIPS needs AlexNet's ImageNet weights, a download; on a machine without them training runs
without the term (every quick figure in benchmarks/README.md was measured that way). A user
online has them, and then each step from ``lpips_start`` on also encodes the reals, runs G a
second time on their latents and passes both images through AlexNet. This script measures that
cost with an untrained AlexNet (``load_lpips(random_backbone=True)``: the same layers and
FLOPs, no download), alternating with and without, repeat after repeat, and keeps the medians.
What the term does to the images needs the real weights and is not measured here.

    python benchmarks/lpips_cost.py [--steps 96] [--repeats 3] [--json out.json]
"""

import argparse
import json
import tempfile
from pathlib import Path

import torch

from helpers.config import preset
from helpers.data.synth import write_dataset
from helpers.perceptual import load_lpips
from helpers.training.precision import uses_bf16
from machine import machine_facts
from throughput import measure, median_run


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=96)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    machine = machine_facts()
    config = preset(args.preset, "gan")
    precision = "bf16" if uses_bf16(torch.device("cpu"), config.precision) else "fp32"
    arms = {"without_lpips": None, "with_lpips": load_lpips(random_backbone=True)}
    runs = {name: [] for name in arms}
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        write_dataset(folder, n=400, size=128, seed=0, progress=False)
        for _ in range(args.repeats):
            for name, lpips_model in arms.items():
                runs[name].append(measure(64, args.steps, config.batch_size, args.preset, precision, folder, lpips_model))
    rows = {name: median_run(measured) for name, measured in runs.items()}
    slowdown = rows["without_lpips"]["images_per_second"] / rows["with_lpips"]["images_per_second"]
    out = {"benchmark": "lpips_cost", "preset": args.preset, "machine": machine, "precision": precision,
           "results": rows, "step_time_with_lpips_over_without": round(slowdown, 2),
           "note": "untrained AlexNet (same FLOPs as the real one); LPIPS at full weight on every phase-3 step"}
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
