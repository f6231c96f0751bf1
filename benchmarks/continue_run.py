"""A finished GAN run continued with changed settings, paired: every arm starts from a copy of the same run
folder (both models, the EMA, both optimisers, ADA's p, LeCam's anchors, the step) and draws the same batches
and noise, so arms differ only in their settings. This asks what a change does at the end of a long run, where
training from scratch costs hours: a learning-rate decay over the extra epochs, another R1 weight, G's VA
losses at other weights.

An arm is ``name`` (the preset's settings, the control) or ``name:field=value,field=value`` with fields of
``GANTrainConfig``, or ``upsample`` (ModelConfig.upsample: no weight depends on it, so G goes on with the source's
weights and upsamples the new way). ``--epochs`` is the continued run's new total; a learning-rate decay over just
the extra epochs starts at the source's share of it (``lr_decay_start`` = source epochs / ``--epochs``).

Each arm goes to ``<work>/<name>/`` and is skipped once trained and scored, so the script can be stopped and
rerun; the arms run one after another in one process. Scored on the test split like `python -m
helpers evaluate`: the final EMA generator (every arm's is from the same step, unlike a best-by-validation pick);
and from the continued part of the stats, the validation KIDs, D's hinge loss and ADA's p and r_t.

    python benchmarks/continue_run.py --source weights/reference-lecam/g_lr_4e-4-s0-b32-d1.2e-3-lecam0.3-reference \\
        --vae weights/reference-lecam/vae/vae_best.pth --preset reference --epochs 675 \\
        --arm constant --arm decay:lr_decay_start=0.8889,lr_floor=0.1 [--work weights/continue] [--json out.json]
"""

import argparse
import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np

from helpers.config import GANTrainConfig, preset
from helpers.evaluate_checkpoint import evaluate_checkpoint
from helpers.training.gan import CHECKPOINTS, train_gan
from helpers.training.runs import read_config, read_stats
from learning_rate import default_data, scores_on_test_split, training_time, validation_kids
from machine import machine_facts

RUN_FILES = ("config.json", "log.txt", "split.json", "stats.jsonl", "training_state.pt")
BEST_FILES = (CHECKPOINTS["gen_ema_best"], CHECKPOINTS["gen_best"], CHECKPOINTS["dis_best"])
MODEL_SETTINGS = {"upsample": str}  # model settings an arm may change (train_gan's upsample=)


def parse_arm(text: str) -> tuple:
    """"name:field=value,..." -> (name, {field: value}), each value of its GANTrainConfig field's type."""
    name, _, settings = text.partition(":")
    # A field whose default is None (g_va_weight) takes a number.
    types = {field.name: float if field.default is None else type(field.default) for field in dataclasses.fields(GANTrainConfig)}
    types.update(MODEL_SETTINGS)
    overrides = {}
    for item in filter(None, settings.split(",")):
        field, _, value = item.partition("=")
        if field not in types or not value:
            raise SystemExit(f"--arm {text!r}: {item!r} is not field=value with a GANTrainConfig field "
                             f"or {', '.join(MODEL_SETTINGS)} (e.g. lr_floor=0.1, r1_gamma=0.05, upsample=bilinear_last)")
        overrides[field] = value.lower() in ("1", "true") if types[field] is bool else types[field](value)
    return name, overrides


def source_run(source: Path) -> Path:
    runs = sorted((source / "runs").glob("*-gan-*"))
    if not runs:
        raise SystemExit(f"{source} has no runs/*-gan-* folder: pass an arm folder of learning_rate.py or a GAN out_dir")
    return runs[-1]


def copy_source(run: Path, out: Path) -> Path:
    """The source's run folder ``run`` copied into ``out`` (once), with the best checkpoints beside it; the copy's path."""
    source = run.parent.parent
    copy = out / "runs" / run.name
    if not copy.is_dir():
        (copy / "samples").mkdir(parents=True)
        for file in RUN_FILES:
            shutil.copy2(run / file, copy / file)
        for file in BEST_FILES:
            if (source / file).is_file():
                shutil.copy2(source / file, out / file)
    return copy


def continued_part(run: Path, from_step: int, batch_size: int) -> dict:
    """From the stats after ``from_step``: validation KIDs by epoch, D's hinge (mean), ADA's p (range) and r_t (mean),
    and the minutes and median images/s of those steps."""
    records = [r for r in read_stats(run) if r.get("step", 0) > from_step]
    steps = [r for r in records if "d_loss" in r]
    p = [r["ada_p"] for r in steps]
    time = training_time(run, batch_size, from_step)
    return {"validation_kid": validation_kids(records),
            "d_hinge": round(float(np.mean([r["d_loss"] for r in steps])), 3),
            "ada_p": [round(min(p), 2), round(max(p), 2)],
            "ada_rt": round(float(np.mean([r["ada_rt"] for r in steps])), 2),
            "minutes": time["gan_minutes"], "images_per_second": time["phase3_images_per_second"]}


def run_arm(name: str, overrides: dict, args, data, data_config, split) -> dict:
    source = source_run(Path(args.source))
    source_epochs = read_config(source)["gan"]["epochs"]
    if args.epochs <= source_epochs:
        raise SystemExit(f"--epochs {args.epochs}: the source run already has {source_epochs}; ask for more to continue it")
    out = Path(args.work) / name
    run = copy_source(source, out)
    from_step = max(record.get("step", 0) for record in read_stats(source))
    training = {field: value for field, value in overrides.items() if field not in MODEL_SETTINGS}
    config = preset(args.preset, "gan", epochs=args.epochs, **training)
    final = out / CHECKPOINTS["gen_ema_final"]
    if not final.is_file():
        result = train_gan(config, split[0], split[1], Path(args.vae), out_dir=out, data_config=data_config,
                           test=split[2], progress=False, resume=run, upsample=overrides.get("upsample"))
        if not result.finished:  # Ctrl-C: the state is saved at the step it stopped
            raise SystemExit(f"arm {name} stopped before epoch {args.epochs}; rerun the same command to go on "
                             f"(its best generator so far: {out / CHECKPOINTS['gen_ema_best']})")
    metrics_path = out / "metrics_final.json"
    if not metrics_path.is_file() or metrics_path.stat().st_mtime < final.stat().st_mtime:
        evaluate_checkpoint(final, data, data_config, out=metrics_path, progress=False)
    metrics = json.loads(metrics_path.read_text())
    return {"arm": name, "settings": overrides, "epochs": args.epochs, "from_step": from_step,
            "final_ema": {**scores_on_test_split(metrics), "kid_floor": round(metrics["realism"]["floor_kid_mean"], 4)},
            **continued_part(run, from_step, config.batch_size), "run_dir": str(run)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", required=True, help="the finished run's out_dir (holding runs/*-gan-*)")
    parser.add_argument("--vae", required=True, help="the VAE the source run started from")
    parser.add_argument("--preset", choices=["quick", "reference"], default="reference")
    parser.add_argument("--epochs", type=int, required=True, help="the continued run's total epochs")
    parser.add_argument("--arm", action="append", required=True, help="name or name:field=value,field=value")
    parser.add_argument("--work", default="weights/continue")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    arms = [parse_arm(text) for text in args.arm]
    data, data_config, split = default_data()
    result = {"benchmark": "continue_run", "machine": machine_facts(), "source": args.source, "vae": args.vae,
              "preset": args.preset, "arms": [run_arm(name, overrides, args, data, data_config, split)
                                              for name, overrides in arms]}
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
