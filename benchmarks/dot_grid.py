"""Do a generator's dots (snow, stars) sit on its upsampling's 2-pixel grid? (``helpers.diagnostics.dark_dot_phases``)

The dots live in the dark corner of the VA plane, so the probe is the training split's dark images
(valence below 3.5 and arousal below 4): the reals themselves, and for each generator 512 images requested at
their labels (drawn at random, seeds 0-511). For each: dots per image and the share of the dots on the most
common of the four phases (row and column modulo 2; 0.25 where dots fall anywhere) and of the sixteen modulo 4.

    python benchmarks/dot_grid.py --weights weights/reference/generator.pth [more generators]
        [--json benchmarks/results/dot_grid.json]
"""

import argparse
import json
from pathlib import Path

import numpy as np

from helpers.config import DataConfig
from helpers.data import ensure_default_dataset, load_dataset
from helpers.diagnostics import dark_dot_phases
from helpers.metrics import dot_phases
from helpers.models.checkpoint import load_generator


def phase_row(phases: dict, images: np.ndarray) -> dict:
    return {"images": len(images), "dots_per_image": round(phases["dots_per_image"], 2),
            "top_share_mod_2": round(phases["top_share"], 3), "shares_mod_2": np.round(phases["shares"], 3).tolist(),
            "top_share_mod_4": round(dot_phases(images, period=4)["top_share"], 3)}


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
        numbers = dark_dot_phases(generator, train)
        rows.setdefault("real (training split)", phase_row(numbers["real"], train.images[dark]))
        rows[weights] = {**phase_row(numbers["generated"], numbers["images"]), "upsample": numbers["upsample"]}
    result = {"benchmark": "dot_grid", "probe": "training split, valence < 3.5 and arousal < 4; 512 generated images "
              "at their labels", "rows": rows}
    for name, row in rows.items():
        print(f"{row['dots_per_image']:5.2f} dots per image, top share {row['top_share_mod_2']:.2f} of 4 phases, "
              f"{row['top_share_mod_4']:.2f} of 16  {name}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
