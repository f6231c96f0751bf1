"""Is one generator more realistic than another beyond what the test split's own noise says?

``evaluate``'s KID spread (about ± 0.006 for the reference model) is the spread over random subsets of 200 fakes and
200 reals, and much of it comes from which reals a subset holds, which is the same for every generator. Here all
generators are asked for the same images (each test label ``--per-label`` times, seeds 0, 1, ...), and each one's KID
against the test split is computed on the same random subsets (``kid_subset_values``: one seed, equal sizes), so the
per-subset differences from the first generator pair up: their mean, their spread, and the share of subsets on which
a generator scores below the first. FID of all the fakes against the test split beside it (200 reals bias every
FID upward alike).

``--split validation`` compares candidates on the validation split instead, as a choice between checkpoints should be
made (the test split only reports the one chosen): the same paired comparison with far more fakes than a training
run's own validation check (128).

    python benchmarks/paired_kid.py --weights weights/reference/generator.pth other.pth [--per-label 5]
        [--split validation] [--json out.json]
"""

import argparse
import json
from pathlib import Path

import numpy as np

from helpers.generate import generator_callable
from helpers.metrics import fid, generate_images, inception_features, kid_subset_size, kid_subset_values
from helpers.models.checkpoint import load_generator
from learning_rate import default_data
from machine import cpu_model

SUBSET, SUBSETS = 100, 200  # 100 of the 200 reals per subset: half, the most that keeps subsets different


def fake_features(path: str, valence, arousal, seeds) -> np.ndarray:
    generate = generator_callable(load_generator(path).eval())
    return inception_features(generate_images(generate, valence, arousal, seeds))


def paired_rows(names: list, features: list, real_features: np.ndarray) -> list:
    """Per generator: KID (mean, spread) on the shared subsets, FID, and its per-subset difference from the first."""
    values = [kid_subset_values(f, real_features, SUBSET, SUBSETS, seed=0) for f in features]
    rows = []
    for name, own, feature in zip(names, values, features):
        difference = own - values[0]
        rows.append({"weights": name, "kid": round(float(own.mean()), 4), "kid_std": round(float(own.std()), 4),
                     "fid": round(fid(feature, real_features), 1),
                     "kid_minus_first": round(float(difference.mean()), 4),
                     "kid_minus_first_std": round(float(difference.std()), 4),
                     "share_of_subsets_below_first": round(float((difference < 0).mean()), 3)})
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", nargs="+", required=True, help="generator checkpoints; the first is the baseline")
    parser.add_argument("--per-label", type=int, default=5, help="images per label of the split and generator")
    parser.add_argument("--split", choices=["test", "validation"], default="test",
                        help="the reals and labels: the test split (to report) or the validation split (to choose)")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    _, _, (_, validation, test) = default_data()
    reals = validation if args.split == "validation" else test
    requests = np.tile(np.arange(len(reals)), args.per_label)  # each label of the split per_label times
    valence, arousal, seeds = reals.valence[requests], reals.arousal[requests], np.arange(len(requests))
    real_features = inception_features(reals.images)
    features = [fake_features(path, valence, arousal, seeds) for path in args.weights]
    out = {"benchmark": "paired_kid", "cpu": cpu_model(), "split": args.split, "real_images": len(reals),
           "fakes_per_generator": len(requests), "subset_size": kid_subset_size(SUBSET, len(requests), len(reals)),
           "subsets": SUBSETS,
           "rows": paired_rows(args.weights, features, real_features)}
    for row in out["rows"]:
        print(row, flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
