"""How the `quick` generator's weights are averaged, measured after the fact: one quick run per seed keeps its raw
generator at the end of every epoch, and generators averaged over those snapshots with other profiles are scored
on the test split beside the run's own EMA. The training is the same for every profile (averaging never feeds back
into training), so the profiles are compared on one trajectory, at no extra training cost.

Profiles (a weight per epoch snapshot, summing to 1):
* ``run_ema``: the run's own per-step EMA (training/ema.py: decay min(0.999, (1 + t) / (10 + t)));
* ``run_ema_from_epochs``: the same per-step weights summed per epoch and put on that epoch's snapshot: how well the
  snapshots stand in for the steps (it should score like ``run_ema``);
* ``last``: the raw generator at the end;
* ``power_<s>``: a power-function EMA (Karras et al. 2024, "Analyzing and Improving the Training Dynamics of
  Diffusion Models", section 3.1): weight proportional to t^gamma over the run's steps t, with gamma chosen so that
  the profile's relative standard deviation (its width as a fraction of the run) is s. The run's EMA is close to
  gamma 8, s 0.09, while its decay stays below 0.999 (the first 8,991 steps).

``--continue-run FOLDER`` asks the same of a long run whose quality has stopped improving: the finished GAN run in
FOLDER (e.g. the reference recipe's) trains ``--extra-epochs`` more with its own recipe, in a copy, and its EMA at the
end (decay 0.999 there: about the last 1,000 steps) is scored beside uniform averages over its last 10-100 epochs.

    python benchmarks/weight_averaging.py [--vae weights/quick-benchmark/vae_best.pth] [--seeds 0 1] [--epochs 100]
        [--work weights/weight-averaging] [--json out.json]
    python benchmarks/weight_averaging.py --continue-run weights/reference_run [--extra-epochs 100] [--json out.json]

Resumable: a run resumes from its training state, a profile is scored once (``<work>/<run>/profiles/``). Two seeds
may train at once in two processes (``--seeds 0`` and ``--seeds 1``, one thread each); a last call with every seed
gathers the table.
"""

import argparse
import json
import math
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from helpers.config import GANTrainConfig, from_dict, preset
from helpers.data import Split
from helpers.evaluate_checkpoint import evaluate_checkpoint
from helpers.metrics import correlation_text
from helpers.models.checkpoint import load_model, save_model
from helpers.training.ema import ema_decay
from helpers.training.gan import DISCRIMINATOR_SETTINGS, train_gan
from helpers.training.run_state import STATE_FILE
from helpers.training.runs import load_split, read_config
from learning_rate import default_data, last_quarter, shared_vae, scores_on_test_split, training_time
from machine import machine_facts

POWER_WIDTHS = (0.05, 0.10, 0.15, 0.25)
CONTINUED_WINDOWS = (10, 25, 50, 100)  # epochs in the uniform averages of a continued run


def relative_width(gamma: float) -> float:
    """The relative standard deviation of a profile proportional to t^gamma on [0, 1] (Karras et al. 2024, eq. 3)."""
    return math.sqrt((gamma + 1) / ((gamma + 2) ** 2 * (gamma + 3)))


def gamma_for_width(width: float) -> float:
    """The exponent (>= 0; 0 is a uniform average) whose profile has relative standard deviation ``width`` (bisection:
    the width falls as gamma grows)."""
    if not 0 < width <= relative_width(0):
        raise ValueError(f"a power profile's relative width must be in (0, {relative_width(0):.3f}] (gamma >= 0); got {width}")
    low, high = 0.0, 1e6
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if relative_width(middle) > width else (low, middle)
    return (low + high) / 2


def power_weights(epochs: int, width: float) -> np.ndarray:
    """Each epoch snapshot's share of a profile proportional to t^gamma over the run: the integral over its epoch."""
    edges = np.arange(epochs + 1) / epochs
    cumulative = edges ** (gamma_for_width(width) + 1)
    return np.diff(cumulative)


def run_ema_weights(epochs: int, steps_per_epoch: int, decay: float) -> np.ndarray:
    """The run's per-step EMA as weights on its steps, summed per epoch. update_ema(step=s) mixes in the weights after
    step s with 1 - beta_s; every later step multiplies that share by its beta. The initial weights' share (the
    product of all betas) is below 1e-15 after 200 steps and is left out."""
    steps = epochs * steps_per_epoch
    betas = np.array([ema_decay(s, decay) for s in range(steps)])
    later = np.concatenate([np.cumsum(np.log(betas)[::-1])[::-1][1:], [0.0]])  # sum of log beta over steps after s
    per_step = (1 - betas) * np.exp(later)
    return per_step.reshape(epochs, steps_per_epoch).sum(axis=1)


def snapshot_path(arm: Path, epoch: int) -> Path:
    return arm / "snapshots" / f"generator-epoch-{epoch:04d}.pt"


def keep_snapshot(arm: Path):
    """An ``on_epoch`` callback: the raw generator of the state train_gan has just saved, kept for this epoch."""
    def on_epoch(record: dict, run_dir: Path) -> None:
        state = torch.load(run_dir / STATE_FILE, map_location="cpu", weights_only=True)
        path = snapshot_path(arm, record["epoch_end"])
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(state["generator"], path)
    return on_epoch


def averaged_generator(arm: Path, weights: np.ndarray, template: Path, out: Path, first_epoch: int = 1) -> Path:
    """Save the snapshots averaged with ``weights`` (one per epoch from ``first_epoch`` on) as a generator checkpoint
    like ``template``."""
    generator, checkpoint = load_model(template, "generator")
    total = None
    for epoch, weight in enumerate(weights / weights.sum(), start=first_epoch):
        if weight < 1e-9:
            continue
        state = torch.load(snapshot_path(arm, epoch), map_location="cpu", weights_only=True)
        if total is None:
            total = {key: torch.zeros_like(value, dtype=torch.float64) for key, value in state.items() if value.is_floating_point()}
        for key in total:
            total[key] += float(weight) * state[key].double()
    last = torch.load(snapshot_path(arm, first_epoch + len(weights) - 1), map_location="cpu", weights_only=True)
    generator.load_state_dict({key: total[key].float() if key in total else value for key, value in last.items()})
    return save_model(generator, out, "generator", {**checkpoint["extra"], "averaged": True})


def score_profiles(arm: Path, final_ema: Path, profiles: dict, data, data_config, first_epoch: int = 1) -> list:
    """One row per profile (and the run's own EMA, ``run_ema``): test-split KID, FID, V/A Spearman, and the epoch by
    which half the profile's weight is in. Each averaged generator and its scores are kept in ``<arm>/profiles/``."""
    checkpoints = {"run_ema": final_ema}
    for name, weights in profiles.items():
        path = arm / "profiles" / f"{name}.pth"
        checkpoints[name] = path if path.is_file() else averaged_generator(arm, weights, final_ema, path, first_epoch)
    rows = []
    for name, checkpoint in checkpoints.items():
        scores = arm / "profiles" / f"{name}.metrics.json"
        if not scores.is_file():
            evaluate_checkpoint(checkpoint, data, data_config, out=scores, progress=False)
        metrics = json.loads(scores.read_text())
        weights = profiles.get(name)
        median = None if weights is None else first_epoch + int(np.searchsorted(np.cumsum(weights) / weights.sum(), 0.5))
        rows.append({"profile": name, **scores_on_test_split(metrics), "median_epoch": median})
    return rows


def run_seed(seed: int, epochs: int, vae_path: Path, arm: Path, split, data, data_config) -> dict:
    final_ema = arm / "progressive_gen_ema_final.pth"
    if not final_ema.is_file():
        runs = sorted((arm / "runs").glob("*-gan-*")) if (arm / "runs").is_dir() else []
        train_gan(preset("quick", "gan", epochs=epochs, seed=seed), split[0], split[1], vae_path, out_dir=arm,
                  data_config=data_config, test=split[2], progress=False, resume=runs[-1] if runs else None,
                  on_epoch=keep_snapshot(arm))
    run = sorted((arm / "runs").glob("*-gan-*"))[-1]
    config = read_config(run)
    steps_per_epoch = config["train_images"] // config["gan"]["batch_size"]
    profiles = {"run_ema_from_epochs": run_ema_weights(epochs, steps_per_epoch, config["gan"]["ema_decay"]),
                "last": np.eye(epochs)[-1]}
    profiles.update({f"power_{width:.2f}": power_weights(epochs, width) for width in POWER_WIDTHS})
    return {"epochs": epochs, "vae": str(vae_path), "bf16": config["bf16"], "run_dir": str(run),
            **last_quarter(run), **training_time(run, config["gan"]["batch_size"]),
            "profiles": score_profiles(arm, final_ema, profiles, data, data_config)}


def continue_run(source: Path, extra_epochs: int, arm: Path, data, data_config) -> dict:
    """A finished GAN run (its folder's newest ``runs/*-gan-*``) trained ``extra_epochs`` more with its own recipe, in a
    copy (the source is left as it is), keeping the raw generator every epoch: its EMA at the end against uniform
    averages over the last epochs, the question being whether a longer average helps a run whose quality has stopped
    improving."""
    source_run = sorted((Path(source) / "runs").glob("*-gan-*"))[-1]
    config = read_config(source_run)
    trained = config["gan"]["epochs"]
    run = arm / "runs" / source_run.name
    if not run.is_dir():
        shutil.copytree(source_run, run)
    final_ema = arm / "progressive_gen_ema_final.pth"
    if not final_ema.is_file():
        saved = load_split(run)
        split = Split(*(data.named(saved[part]) for part in ("train", "val", "test")))
        gan = replace(from_dict(GANTrainConfig, config["gan"]), epochs=trained + extra_epochs)
        d_settings = {key: config["model"][key] for key in DISCRIMINATOR_SETTINGS}
        train_gan(gan, split.train, split.val, config["vae"], out_dir=arm, data_config=data_config, test=split.test,
                  progress=False, resume=run, on_epoch=keep_snapshot(arm), d_settings=d_settings)
    profiles = {"last": np.eye(extra_epochs)[-1]}
    profiles.update({f"uniform_last_{window}": np.r_[np.zeros(extra_epochs - window), np.ones(window)]
                     for window in CONTINUED_WINDOWS if window <= extra_epochs})
    return {"source": str(source_run), "trained_epochs": trained, "extra_epochs": extra_epochs, "run_dir": str(run),
            "batch_size": config["gan"]["batch_size"], "ema_decay": config["gan"]["ema_decay"],
            **last_quarter(run), "profiles": score_profiles(arm, final_ema, profiles, data, data_config, trained + 1)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vae", default="weights/quick-benchmark/vae_best.pth",
                        help="the warm start every seed shares (trained with the quick preset, seed 0, if missing)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=100, help="fixed, so that a run's result does not depend on the host's speed")
    parser.add_argument("--continue-run", metavar="FOLDER",
                        help="instead: train the finished GAN run in FOLDER/runs --extra-epochs more (in a copy under "
                             "<work>/continued) and compare its EMA with uniform averages over the last epochs")
    parser.add_argument("--extra-epochs", type=int, default=100)
    parser.add_argument("--work", default="weights/weight-averaging")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    data, data_config, split = default_data()
    work = Path(args.work)
    if args.continue_run:
        runs = [continue_run(Path(args.continue_run), args.extra_epochs, work / "continued", data, data_config)]
    else:
        vae_path = shared_vae(Path(args.vae), work, split, data_config)
        runs = [{"seed": seed, **run_seed(seed, args.epochs, vae_path, work / f"s{seed}", split, data, data_config)}
                for seed in args.seeds]
    for result in runs:
        for row in result["profiles"]:
            print(f"{result.get('seed', 'continued')}  {row['profile']:20s} KID {row['kid']:.4f} ± {row['kid_std']:.4f}  "
                  f"FID {row['fid']:.0f}  V {correlation_text(row['valence_spearman'])}  A {correlation_text(row['arousal_spearman'])}  "
                  f"median epoch {row['median_epoch']}")
    result = {"benchmark": "weight_averaging", "machine": machine_facts(), "runs": runs}
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
