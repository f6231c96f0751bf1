"""Evaluate a generator checkpoint against a labelled image set (``python -m helpers evaluate``).

The metrics themselves live in ``helpers.metrics`` and know nothing of the model; this file
only loads the checkpoint, finds the split it was trained with (the VA regressor and the
memorisation reference use the training part; KID, VA control and its ceiling the test part,
which training never saw nor chose a checkpoint by), and writes ``metrics.json``.
"""

from pathlib import Path

from helpers.config import DataConfig
from helpers.data import Split
from helpers.generate import generator_callable
from helpers.metrics import EVAL_PRESETS, evaluate, format_metrics_table, metrics_json
from helpers.models.checkpoint import load_generator, read_checkpoint
from helpers.training.runs import SPLIT_FILE, load_split


def evaluate_generator(generator, train, test, preset: str = "quick", progress: bool = True, regressor=None,
                       real_features=None, train_features=None, **sampling) -> dict:
    """``evaluate`` with the preset's sizes, for a GAN generator or a diffusion model (``sampling``:
    its steps and guidance); ``regressor``: a trained VA regressor to reuse (else one is trained);
    ``real_features``/``train_features``: Inception features to reuse."""
    return evaluate(
        generator_callable(generator, **sampling), test.images, test.valence, test.arousal,
        train_images=train.images, train_valence=train.valence, train_arousal=train.arousal,
        regressor=regressor, real_features=real_features, train_features=train_features, progress=progress,
        **EVAL_PRESETS[preset],
    )


def checkpoint_split(weights, data, data_config: DataConfig = DataConfig()) -> tuple[Split, str]:
    """(split, a sentence saying where it came from) for a checkpoint and its data.

    The split is the one training saved: the checkpoint's ``extra["run_dir"]`` names its run
    folder, whose ``split.json`` lists the file names (a run folder moved along with its
    weights folder is found as ``<checkpoint folder>/runs/<run name>``). Without it, the split
    is derived from ``data_config`` as training would have derived it.
    """
    run_dir = read_checkpoint(weights)["extra"].get("run_dir")
    if run_dir is None:
        reason = f"{weights} names no run folder"
    else:
        reason = f"no {SPLIT_FILE} with a test split in {run_dir}"
        for folder in (Path(run_dir), Path(weights).parent / "runs" / Path(run_dir).name):
            saved = load_split(folder)
            if saved is not None and saved["test"] is not None:
                split = Split(*(data.named(saved[part]) for part in ("train", "val", "test")))
                return split, f"test split from {folder / SPLIT_FILE}: {len(split.test)} images"
    split = data.split(data_config)
    return split, (f"test split derived from the data config (val_fraction {data_config.val_fraction}, "
                   f"test_fraction {data_config.test_fraction}, split_seed {data_config.split_seed}): "
                   f"{len(split.test)} images; {reason}")


def evaluate_checkpoint(weights, data, data_config: DataConfig = DataConfig(), out="metrics.json",
                        preset: str = "quick", progress: bool = True, **sampling):
    """(metrics dict, printable table) for ``data`` (a ``LabelledImages`` at the generator's size);
    the dict is also written to ``out`` as JSON. The table's first line says which split was used.
    ``weights``: a GAN generator or a diffusion checkpoint (``sampling``: steps, guidance)."""
    generator = load_generator(weights)
    split, source = checkpoint_split(weights, data, data_config)
    metrics = evaluate_generator(generator, split.train, split.test, preset, progress, **sampling)
    metrics["checkpoint"] = str(weights)
    metrics["split"] = {"source": source, "train": len(split.train), "val": len(split.val), "test": len(split.test)}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(metrics_json(metrics))
    return metrics, f"{source}\n{format_metrics_table(metrics)}"
