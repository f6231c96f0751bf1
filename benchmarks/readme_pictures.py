"""The README's model pictures: the shipped reference model's VA grid beside the `quick` model's
(the quick model alone while no reference model is shipped).

    python benchmarks/readme_pictures.py [--quick weights/quick/progressive_gen_ema_best.pth] [--out docs/va_grids.png]

Same seed and VA grid for both; each panel is titled with its model and its KID on the test split
(from the metrics.json beside the weights).
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from helpers.diagnostics import generators_side_by_side_figure  # noqa: E402
from helpers.models.checkpoint import load_generator  # noqa: E402
from helpers.notebook import REFERENCE_GENERATOR  # noqa: E402


def title(name: str, weights: Path) -> str:
    metrics_path = weights.parent / "metrics.json"
    if not metrics_path.is_file():
        return name
    realism = json.loads(metrics_path.read_text())["realism"]
    return f"{name}: KID {realism['kid_mean']:.3f} ± {realism['kid_std']:.3f}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", default="weights/quick/progressive_gen_ema_best.pth")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--out", default="docs/va_grids.png")
    args = parser.parse_args()
    models = {title("quick", Path(args.quick)): load_generator(args.quick)}
    if REFERENCE_GENERATOR.is_file():
        models = {title("reference", REFERENCE_GENERATOR): load_generator(REFERENCE_GENERATOR), **models}
    figure, differences = generators_side_by_side_figure(models, steps=7, seed=args.seed)
    figure.savefig(args.out, dpi=90)
    print(f"wrote {args.out}; corner differences {differences}")


if __name__ == "__main__":
    main()
