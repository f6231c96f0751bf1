"""What blur alone costs in KID, and at which scale a generator's gap lies.

Without ``--weights``: real training images, averaged down to 32x32 or 16x16 and scaled back up to
64x64, scored against the test split exactly as a generator is (200 vs 200, subsets of 50), next to
the same images unblurred (train against test: about the real-vs-real floor). A generator that
draws little detail finer than 32x32 can score at best about as the first blur does; this is the
measurement behind the quick model's full-resolution stage (notebook 03).

With ``--weights``: each generator's images at the first 200 test labels (seeds 0-199), scored
against the test split as they are and with both sides blurred to 32x32 and to 16x16, beside the
training images treated alike (each scale's floor). Where the KID falls to the floor once both
sides are blurred, the gap is in the detail finer than that scale. Each row also gives the power
of the images' finest octave of spatial frequency over the test images' (``top_octave_power_ratio``):
above 1 is grain or a pixel grid, below 1 blur.

    python benchmarks/blur_kid.py [--weights weights/reference/generator.pth ...] [--json out.json]
"""

import argparse
import json
from pathlib import Path

import numpy as np
import torch.nn.functional as F

from helpers.config import DataConfig
from helpers.data import ensure_default_dataset, load_dataset
from helpers.generate import generator_callable
from helpers.image_tensors import to_tensor, to_uint8
from helpers.metrics import generate_images, inception_features, kid, top_octave_power_ratio
from helpers.models.checkpoint import load_generator
from machine import cpu_model

COUNT, SUBSET, SUBSETS = 200, 50, 50  # as `evaluate` with the quick preset scores a generator
FACTORS = {"64x64": 1, "32x32": 2, "16x16": 4}


def blurred(images, factor: int):
    """Average over factor x factor blocks, then bilinear back to the original size."""
    if factor == 1:
        return images
    small = F.avg_pool2d(to_tensor(images), factor)
    return to_uint8(F.interpolate(small, scale_factor=factor, mode="bilinear", align_corners=False))


def score(images, reference_features) -> dict:
    mean, spread = kid(inception_features(images), reference_features, subset_size=SUBSET, subsets=SUBSETS)[:2]
    return {"kid": round(float(mean), 4), "kid_std": round(float(spread), 4)}


def by_scale(name: str, images, test_images, test_features: dict) -> dict:
    """KID against the test split with both sides at each scale, and the finest octave's power ratio."""
    row = {"images": name, "top_octave_power_ratio": round(top_octave_power_ratio(images, test_images), 3)}
    for scale, factor in FACTORS.items():
        row[scale] = score(blurred(images, factor), test_features[scale])
    print(row, flush=True)
    return row


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", nargs="*", default=[], help="generators to place by scale (checkpoints)")
    parser.add_argument("--json", default=str(Path(__file__).parent / "results" / "blur_kid.json"))
    args = parser.parse_args()
    folder = ensure_default_dataset(2000, progress=False)
    split = load_dataset(folder / "images", folder / "labels.csv", size=64, progress=False).split(DataConfig())
    test = split.test
    test_features = inception_features(test.images[:COUNT])
    reals = split.train.images[:COUNT]
    out = {"benchmark": "blur_kid", "compared_with": f"{COUNT} test-split images, 64x64",
           "n": COUNT, "subset_size": SUBSET, "subsets": SUBSETS, "cpu": cpu_model()}
    if not args.weights:
        rows = []
        for name, factor in (("train images as they are", 1), ("blurred to 32x32 and back", 2),
                             ("blurred to 16x16 and back", 4)):
            rows.append({"images": name, **score(blurred(reals, factor), test_features)})
            print(rows[-1], flush=True)
        out["rows"] = rows
    else:
        features = {scale: test_features if factor == 1 else inception_features(blurred(test.images[:COUNT], factor))
                    for scale, factor in FACTORS.items()}
        rows = [by_scale("train images (each scale's floor)", reals, test.images[:COUNT], features)]
        for path in args.weights:
            generate = generator_callable(load_generator(path).eval())
            fakes = generate_images(generate, test.valence[:COUNT], test.arousal[:COUNT], np.arange(COUNT))
            rows.append(by_scale(str(path), fakes, test.images[:COUNT], features))
        out["compared_with"] += ", both sides blurred alike at each scale"
        out["by_scale"] = rows
    Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
