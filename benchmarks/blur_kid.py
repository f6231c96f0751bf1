"""What blur alone costs in KID: real training images, averaged down to 32x32 or 16x16 and scaled
back up to 64x64, scored against the test split exactly as a generator is (200 vs 200, subsets
of 50), next to the same images unblurred (train against test: about the real-vs-real floor).

A generator that draws little detail finer than 32x32 can score at best about as the first blur
does; this is the measurement behind the quick model's full-resolution stage (notebook 03).

    python benchmarks/blur_kid.py [--json benchmarks/results/blur_kid.json]
"""

import argparse
import json
from pathlib import Path

import torch.nn.functional as F

from helpers.config import DataConfig
from helpers.data import ensure_default_dataset, load_dataset
from helpers.image_tensors import to_tensor, to_uint8
from helpers.metrics import inception_features, kid
from machine import cpu_model

COUNT, SUBSET, SUBSETS = 200, 50, 50  # as `evaluate` with the quick preset scores a generator


def blurred(images, factor: int):
    """Average over factor x factor blocks, then bilinear back to the original size."""
    small = F.avg_pool2d(to_tensor(images), factor)
    return to_uint8(F.interpolate(small, scale_factor=factor, mode="bilinear", align_corners=False))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", default=str(Path(__file__).parent / "results" / "blur_kid.json"))
    args = parser.parse_args()
    folder = ensure_default_dataset(2000, progress=False)
    split = load_dataset(folder / "images", folder / "labels.csv", size=64, progress=False).split(DataConfig())
    test_features = inception_features(split.test.images[:COUNT])
    reals = split.train.images[:COUNT]
    rows = []
    for name, images in (("train images as they are", reals), ("blurred to 32x32 and back", blurred(reals, 2)),
                         ("blurred to 16x16 and back", blurred(reals, 4))):
        mean, spread = kid(inception_features(images), test_features, subset_size=SUBSET, subsets=SUBSETS)[:2]
        rows.append({"images": name, "kid": round(float(mean), 4), "kid_std": round(float(spread), 4)})
        print(rows[-1], flush=True)
    out = {"benchmark": "blur_kid", "compared_with": f"{COUNT} test-split images, 64x64",
           "n": COUNT, "subset_size": SUBSET, "subsets": SUBSETS, "cpu": cpu_model(), "rows": rows}
    Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
