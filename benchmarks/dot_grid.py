"""Do a generator's dots (snow, stars) sit on a 2-pixel grid, or on the same pixels in every image?
(``helpers.diagnostics.dark_dots``)

The dots live in the dark corner of the VA plane, so the probe is the training split's dark images
(valence below 3.5 and arousal below 4): the reals themselves, and for each generator 512 images requested at
their labels (drawn at random, seeds 0-511). For each: dots per image, the share of the dots on the most
common of the four phases (row and column modulo 2; 0.25 where dots fall anywhere) and of the sixteen modulo 4,
and how many times more often two images have a dot on the same pixel than dots placed at random would.

    python benchmarks/dot_grid.py --weights weights/reference/generator.pth [more generators]
        [--json benchmarks/results/dot_grid.json]
"""

import argparse
import json
from pathlib import Path

import numpy as np

from helpers.config import DataConfig
from helpers.data import ensure_default_dataset, load_dataset
from helpers.diagnostics import dark_dots
from helpers.metrics import dot_positions
from helpers.models.checkpoint import load_generator, read_checkpoint


def phase_row(phases: dict, images: np.ndarray) -> dict:
    return {"images": len(images), "dots_per_image": round(phases["dots_per_image"], 2),
            "top_share_mod_2": round(phases["top_share"], 3), "shares_mod_2": np.round(phases["shares"], 3).tolist(),
            "top_share_mod_4": round(dot_positions(images, period=4)["top_share"], 3),
            "repeat_ratio": round(phases["repeat_ratio"], 2)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", nargs="+", required=True, help="generator checkpoints")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    folder = ensure_default_dataset(2000, progress=False)
    train = load_dataset(folder / "images", folder / "labels.csv", size=64, progress=False).split(DataConfig()).train
    dark = (train.valence < 3.5) & (train.arousal < 4)
    rows = {}
    for weights in args.weights:
        generator = load_generator(weights)
        numbers = dark_dots(generator, train)
        rows.setdefault("real (training split)", phase_row(numbers["real"], train.images[dark]))
        rows[weights] = {**phase_row(numbers["generated"], numbers["images"]), "upsample": numbers["upsample"],
                         "step": read_checkpoint(weights)["extra"].get("step")}
    result = {"benchmark": "dot_grid", "probe": "training split, valence < 3.5 and arousal < 4; 512 generated images "
              "at their labels", "rows": rows}
    for name, row in rows.items():
        print(f"{row['dots_per_image']:5.2f} dots per image, top share {row['top_share_mod_2']:.2f} of 4 phases, "
              f"{row['top_share_mod_4']:.2f} of 16, repeats {row['repeat_ratio']:5.2f}x chance  {name}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
