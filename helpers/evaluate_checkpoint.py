"""Evaluate a generator checkpoint against a labelled image set (``python -m helpers evaluate``).

The metrics themselves live in ``helpers.metrics`` and know nothing of the model; this file
only loads the checkpoint and the data, splits the data as training did (the VA regressor
and the memorisation check use the training part, KID and the ceiling the held-out part),
and writes ``metrics.json``.
"""

import json
from pathlib import Path

from helpers.data import load_dataset
from helpers.generate import generator_callable
from helpers.metrics import EVAL_PRESETS, evaluate, format_metrics_table
from helpers.models.checkpoint import load_generator


def evaluate_generator(generator, train, val, preset: str = "quick", progress: bool = True) -> dict:
    return evaluate(
        generator_callable(generator), val.images, val.valence, val.arousal,
        train_images=train.images, train_valence=train.valence, train_arousal=train.arousal,
        progress=progress, **EVAL_PRESETS[preset],
    )


def evaluate_checkpoint(weights, images, labels, out="metrics.json", preset: str = "quick", progress: bool = True):
    """(metrics dict, printable table); the dict is also written to ``out`` as JSON."""
    generator = load_generator(weights)
    data = load_dataset(images, labels=labels, size=generator.config.image_size, progress=progress)
    train, val = data.split(0.1, seed=0)
    metrics = evaluate_generator(generator, train, val, preset, progress)
    metrics["checkpoint"] = str(weights)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics, format_metrics_table(metrics)
