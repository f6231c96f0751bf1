"""Do a generator's dots (snow, stars) sit on a 2-pixel grid, or on the same pixels in every image?
(``helpers.diagnostics.dark_dots``)

The dots live in the dark corner of the VA plane, so the probe is the training split's dark images
(valence below 3.5 and arousal below 4): the reals themselves, and for each generator 512 images requested at
their labels (drawn at random, seeds 0-511). For each: dots per image, the share of the dots on the most
common of the four phases (row and column modulo 2; 0.25 where dots fall anywhere) and of the sixteen modulo 4,
and how many times more often two images have a dot on the same pixel than dots placed at random would.
``--noise-maps``: where the dots come from. The same for each generator with one of its noise maps set to zero at a
time (dots from the per-pixel noise move or vanish, dots from z's latent and VA through the convolutions stay), and
with one input shared by all 512 images: one latent with each image's own noise maps (dots drawn from the noise still
fall anywhere; dots drawn from the latent repeat on every image), and each image's own latent with one set of noise maps.

    python benchmarks/dot_grid.py --weights weights/reference/generator.pth [more generators] [--noise-maps]
        [--json benchmarks/results/dot_grid.json]
"""

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from helpers.config import DataConfig
from helpers.data import ensure_default_dataset, load_dataset
from helpers.diagnostics import dark_dots
from helpers.generate import starting_points
from helpers.image_tensors import to_uint8
from helpers.metrics import dot_positions, phase_shares
from helpers.models.checkpoint import load_generator, read_checkpoint
from helpers.va import va_unit_tensor


def phase_row(phases: dict) -> dict:
    """A results row from ``dot_positions``: its period-2 figures and the top share modulo 4."""
    return {"images": phases["images"], "dots_per_image": round(phases["dots_per_image"], 2),
            "top_share_mod_2": round(phases["top_share"], 3), "shares_mod_2": np.round(phases["shares"], 3).tolist(),
            "top_share_mod_4": round(float(phase_shares(phases["positions"], 4).max()), 3),
            "repeat_ratio": round(phases["repeat_ratio"], 2)}


def noise_map_columns(config, index: int) -> slice:
    """Where noise map ``index`` (smallest first) lies in the generator's input z."""
    start = config.latent_dim + sum(size * size for size in config.noise_sizes[:index])
    return slice(start, start + config.noise_sizes[index] ** 2)


def changed_inputs(z: torch.Tensor, config, change: str) -> torch.Tensor:
    """A copy of the inputs z (N, input_dim) with one change: "noise N" zeroes noise map N; "one latent" gives every
    image the first row's latent (each keeps its noise maps); "one noise" every image the first row's noise maps."""
    z = z.clone()
    if change.startswith("noise "):
        z[:, noise_map_columns(config, int(change.split()[1]))] = 0
    elif change == "one latent":
        z[:, :config.latent_dim] = z[0, :config.latent_dim]
    elif change == "one noise":
        z[:, config.latent_dim:] = z[0, config.latent_dim:]
    else:
        raise ValueError(f"unknown change {change!r}")
    return z


@torch.inference_mode()
def images_with(generator, valence, arousal, change: str, batch_size: int = 128) -> np.ndarray:
    """The images of seeds 0, 1, ... at these ratings with their inputs changed (``changed_inputs``)."""
    va = va_unit_tensor(valence, arousal)
    z = changed_inputs(starting_points(generator, range(len(va))), generator.config, change)
    return np.concatenate([to_uint8(generator(z[first:first + batch_size], va[first:first + batch_size]))
                           for first in range(0, len(va), batch_size)])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", nargs="+", required=True, help="generator checkpoints")
    parser.add_argument("--noise-maps", action="store_true", help="also with each noise map zeroed in turn")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    folder = ensure_default_dataset(2000, progress=False)
    train = load_dataset(folder / "images", folder / "labels.csv", size=64, progress=False).split(DataConfig()).train
    rows = {}
    for weights in args.weights:
        generator = load_generator(weights)
        numbers = dark_dots(generator, train)
        rows.setdefault("real (training split)", phase_row(numbers["real"]))
        rows[weights] = {**phase_row(numbers["generated"]), "upsample": numbers["upsample"],
                         "step": read_checkpoint(weights)["extra"].get("step")}
        if args.noise_maps:
            requested = numbers["requested"]
            changes = {f"noise {index}": f"noise map {size}x{size} zeroed" for index, size in enumerate(generator.config.noise_sizes)}
            changes.update({"one latent": "one latent for all images, their own noise maps",
                            "one noise": "their own latents, one set of noise maps for all"})
            for change, name in changes.items():
                images = images_with(generator, train.valence[requested], train.arousal[requested], change)
                rows[f"{weights}, {name}"] = phase_row(dot_positions(images))
    result = {"benchmark": "dot_grid", "probe": "training split, valence < 3.5 and arousal < 4; 512 generated images "
              "at their labels", "rows": rows}
    for name, row in rows.items():
        print(f"{row['dots_per_image']:5.2f} dots per image, top share {row['top_share_mod_2']:.2f} of 4 phases, "
              f"{row['top_share_mod_4']:.2f} of 16, repeats {row['repeat_ratio']:5.2f}x chance  {name}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
