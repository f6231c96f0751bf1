"""G's learning rate in the `quick` GAN, paired on one machine: every arm trains from the same VAE warm
start for the same epochs, so the arms differ only in G's rate and the GAN's seed. ``--precisions auto fp32``
adds arms trained in fp32 (``g_lr_<rate>-s<seed>-fp32``) beside the machine's default ("auto": bf16
autocast where the CPU runs it natively), to measure what CPU bf16 does to the result; ``--batch-sizes 16 32``
arms at another batch size (``g_lr_<rate>-s<seed>-b32``), to measure what a larger batch, which runs faster
per image, does to the result at equal epochs, or with more ``--epochs`` at equal time; ``--d-rates`` D's learning
rate (``-d<rate>``); ``--ema-decays`` the EMA generator's decay per step (``-ema<decay>``); ``--d-channels`` D's
widths (``-dc<widths>``, e.g. ``-dc24-48-96-192``); ``--grad-clips`` the norm both models' gradients are clipped to
(``-clip<norm>``, 0: not clipped); ``--lecam-weights`` the LeCam regulariser's weight in D's loss (``-lecam<weight>``,
0: none); ``--ada off`` arms without ADA (``-ada_off``; "auto" is on for sets under 5,000 images, as the
default dataset is); ``--ada-geometric`` arms whose ADA also zooms and slightly rotates (``-geom``); ``--upsample bilinear`` arms whose generator upsamples bilinearly, or ``bilinear_last`` only to the output's size
(``-up_<choice>``; the generator is the VAE's decoder, so this needs a ``--vae`` trained so, which the script trains
into ``<work>/vae`` where none is there); ``--g-channels`` and ``--full-resolution-channels`` a generator of other widths
(``-gc<widths>-f<channels>``; a ``--vae`` of those widths, the same way); ``--d-full-resolution-channels`` arms whose D
starts at the image's own size with a conv of that many channels and a residual down block (``-dfr<channels>``; 0: D's
space-to-depth start); ``--preset reference`` arms with the reference preset's other settings (ADA's speed, the validation
checks, 600 epochs; ``-reference``). Arms default to the preset's G and D rates, batch size, EMA decay, D widths,
gradient clipping, LeCam weight and ADA. ``--minutes`` trains each arm for that many minutes of steps instead of a fixed
epoch count (``-m<minutes>``; the budget re-fit of helpers/training/budget.py, with ``--epochs`` as the most), so arms
that run at different speeds on this host are compared at equal time.

Each arm goes to ``<work>/<arm_name>/`` (``g_lr_<rate>-s<seed>`` plus the suffixes above) and is skipped
once its final EMA generator and ``metrics.json`` are there, so the script can be stopped and rerun across sessions.
An arm stopped before its last epoch (Ctrl-C, or the end of a session) is scored on its best checkpoint so far;
its record says where it stopped, which epoch's checkpoint was scored, and every validation KID by epoch.
Scored like `python -m helpers evaluate` (test split): KID with its spread, FID, V and A Spearman
against the regressor's ceiling; and from the run's stats, D's hinge loss and ADA's p and r_t over the
last quarter of phase 3, the GAN's training minutes and phase 3's images/s (arms at another batch size or
epoch count are compared at equal time with these; they are this host's, at its speed of the day).

    python benchmarks/learning_rate.py [--vae weights/quick-benchmark/vae_best.pth] [--rates 2e-4 4e-4]
        [--seeds 0 1] [--epochs 126] [--precisions auto] [--batch-sizes 32] [--d-rates 8e-4] [--ema-decays 0.999]
        [--d-channels 32,64,128,256 24,48,96,192] [--minutes 16] [--grad-clips 1 0] [--lecam-weights 0 0.3]
        [--ada auto off] [--ada-geometric] [--upsample nearest] [--d-full-resolution-channels 0 16] [--g-channels 256,128,64,64] [--full-resolution-channels 32] [--preset quick] [--work weights/learning-rate] [--json out.json]

Every setting defaults to the quick preset's, or with ``--preset reference`` to the reference preset's (helpers/config.py).
"""

import argparse
import json
from pathlib import Path

import numpy as np

from helpers.config import DataConfig, model_config_for_size, preset
from helpers.data import ensure_default_dataset, load_dataset
from helpers.evaluate_checkpoint import evaluate_checkpoint
from helpers.metrics import correlation_text
from helpers.metrics.evaluate import finite_or_none
from helpers.models.checkpoint import read_checkpoint
from helpers.readings import rate_text
from helpers.training.gan import train_gan
from helpers.training.runs import read_config, read_stats
from helpers.training.vae import train_vae
from machine import machine_facts

QUICK = preset("quick", "gan")
QUICK_MODEL = model_config_for_size(64, "quick")
QUICK_D_CHANNELS = tuple(QUICK_MODEL.d_channels)
# A name marks a batch size, D rate, EMA decay or gradient clip other than these, the quick preset's when the first
# arms ran (2026-12-05), so that an arm's name keeps its meaning when the preset changes.
NAMED_FROM_BATCH_SIZE, NAMED_FROM_D_RATE, NAMED_FROM_EMA_DECAY, NAMED_FROM_GRAD_CLIP = 16, 4e-4, 0.999, 1.0
NAMED_FROM_D_FULL_RESOLUTION = 0  # D's space-to-depth start, the quick model's


def scores_on_test_split(metrics: dict) -> dict:
    """A checkpoint's test-split KID (with its spread), FID and V/A Spearman from its metrics.json, rounded for a results
    file; null (JSON has no NaN) where a number is undefined, e.g. a Spearman of a generator collapsed to one colour."""
    realism, control = metrics["realism"], metrics["va_control"]
    return {"kid": finite_or_none(realism["kid_mean"], 4), "kid_std": finite_or_none(realism["kid_std"], 4),
            "fid": finite_or_none(realism["fid"], 1),
            "valence_spearman": finite_or_none(control["valence_spearman"], 3),
            "arousal_spearman": finite_or_none(control["arousal_spearman"], 3)}


def last_quarter(run_dir: Path) -> dict:
    """D's hinge loss (mean) and ADA's p (range) and r_t (mean) over the last quarter of phase 3."""
    phase3 = [r for r in read_stats(run_dir) if r.get("phase") == 3 and "d_loss" in r]
    tail = phase3[len(phase3) * 3 // 4:]
    p = [r["ada_p"] for r in tail]
    return {"d_hinge": round(float(np.mean([r["d_loss"] for r in tail])), 3),
            "ada_p": [round(min(p), 2), round(max(p), 2)],
            "ada_rt": round(float(np.mean([r["ada_rt"] for r in tail])), 2)}


def validation_kids(records: list) -> dict:
    """The validation KID of each quality check in these stats records, by the epoch it ended ({"25": 0.197, ...})."""
    return {str(r["epoch_end"]): round(r["kid"], 4) for r in records if r.get("kid") is not None}


def progress(run_dir: Path, finished: bool, best: Path) -> dict:
    """How far the run got and what was scored: the validation KID of each quality check by the epoch it ended, the
    epoch of the scored (best) checkpoint, and for a run stopped before its last epoch (a long run between sessions)
    the epoch and step it stopped at."""
    records = read_stats(run_dir)
    scored = read_checkpoint(best)["extra"]["step"]
    result = {"validation_kid": validation_kids(records),
              "scored_checkpoint_epoch": next((r["epoch_end"] for r in records
                                               if r.get("kid") is not None and r["step"] == scored), None)}
    if not finished:
        last = max((r for r in records if "epoch_end" in r), key=lambda r: r["step"])
        result.update(stopped_at_epoch=last["epoch_end"], stopped_at_step=last["step"])
    return result


def training_time(run_dir: Path, batch_size: int, from_step: int = 0) -> dict:
    """The run's training minutes after ``from_step`` (sample grids and KID checks included; setup and the budget
    probe not) from its stats records, each of which holds the images/s since the record before: right across a
    resume too; and phase 3's median images/s."""
    records = [r for r in read_stats(run_dir) if "images_per_second" in r and r["step"] > from_step]
    steps = np.diff([from_step] + [r["step"] for r in records])
    seconds = sum(int(n) * batch_size / r["images_per_second"] for n, r in zip(steps, records))
    phase3 = [r["images_per_second"] for r in records if r.get("phase") == 3]
    return {"gan_minutes": round(seconds / 60, 1),
            "phase3_images_per_second": round(float(np.median(phase3)), 1) if phase3 else None}


def arm_name(rate: float, seed: int, precision: str = "auto", batch_size: int = NAMED_FROM_BATCH_SIZE,
             d_rate: float = NAMED_FROM_D_RATE, ema_decay: float = NAMED_FROM_EMA_DECAY, d_channels: tuple = None,
             minutes: float = 0, grad_clip: float = NAMED_FROM_GRAD_CLIP, lecam_weight: float = 0.0,
             preset_name: str = "quick", ada: str = "auto", upsample: str = "nearest", generator: dict = None,
             ada_geometric: bool = False, d_full_resolution: int = NAMED_FROM_D_FULL_RESOLUTION) -> str:
    name = f"g_lr_{rate_text(rate)}-s{seed}"  # g_lr_2e-4-s0
    if precision != "auto":
        name += f"-{precision}"  # g_lr_2e-4-s0-fp32
    if batch_size != NAMED_FROM_BATCH_SIZE:
        name += f"-b{batch_size}"  # g_lr_2e-4-s0-b32
    if d_rate != NAMED_FROM_D_RATE:
        name += f"-d{rate_text(d_rate)}"  # g_lr_4e-4-s0-b32-d8e-4
    if ema_decay != NAMED_FROM_EMA_DECAY:
        name += f"-ema{ema_decay:g}"  # g_lr_4e-4-s0-b32-d8e-4-ema0.9995
    if d_channels and tuple(d_channels) != QUICK_D_CHANNELS:
        name += "-dc" + "-".join(str(width) for width in d_channels)  # g_lr_4e-4-s0-b32-d1.2e-3-dc24-48-96-192
    if d_full_resolution != NAMED_FROM_D_FULL_RESOLUTION:
        name += f"-dfr{d_full_resolution}"  # g_lr_4e-4-s0-b32-d1.2e-3-dfr16
    if minutes:
        name += f"-m{minutes:g}"  # ...-m16
    if grad_clip != NAMED_FROM_GRAD_CLIP:
        name += f"-clip{grad_clip:g}"  # ...-clip0
    if lecam_weight:
        name += f"-lecam{lecam_weight:g}"  # ...-lecam0.3
    if ada != "auto":
        name += f"-ada_{ada}"  # ...-lecam0.3-ada_off
    if ada_geometric:
        name += "-geom"  # ...-lecam0.3-geom
    if upsample != "nearest":
        name += f"-up_{upsample}"  # ...-lecam0.3-up_bilinear
    widths = tuple((generator or {}).get("g_channels", QUICK_MODEL.g_channels))
    full = (generator or {}).get("full_resolution_channels", QUICK_MODEL.full_resolution_channels)
    if (widths, full) != (tuple(QUICK_MODEL.g_channels), QUICK_MODEL.full_resolution_channels):
        name += "-gc" + "-".join(str(width) for width in widths) + f"-f{full}"  # ...-lecam0.3-gc256-128-64-64-f32
    if preset_name != "quick":
        name += f"-{preset_name}"  # ...-lecam0.3-reference
    return name


def run_arm(rate: float, seed: int, epochs: int, vae_path: Path, out: Path, split, data, data_config,
            precision: str = "auto", batch_size: int = QUICK.batch_size, d_rate: float = QUICK.d_learning_rate,
            ema_decay: float = QUICK.ema_decay, d_channels: tuple = None, minutes: float = 0,
            grad_clip: float = QUICK.grad_clip, lecam_weight: float = QUICK.lecam_weight, preset_name: str = "quick",
            ada: str = QUICK.ada, ada_geometric: bool = QUICK.ada_geometric,
            d_full_resolution: int = QUICK_MODEL.d_full_resolution_channels) -> dict:
    if not (out / "progressive_gen_ema_final.pth").is_file():
        runs = sorted((out / "runs").glob("*-gan-*")) if (out / "runs").is_dir() else []
        train_gan(preset(preset_name, "gan", epochs=epochs, minutes=minutes, g_learning_rate=rate, seed=seed, precision=precision,
                         batch_size=batch_size, d_learning_rate=d_rate, ema_decay=ema_decay, grad_clip=grad_clip,
                         lecam_weight=lecam_weight, ada=ada, ada_geometric=ada_geometric),
                  split[0], split[1], vae_path, out_dir=out, data_config=data_config, test=split[2],
                  progress=False, resume=runs[-1] if runs else None,
                  # D's start is set explicitly: otherwise it would be the VAE checkpoint's, whatever the arm's name says.
                  d_settings={"d_full_resolution_channels": d_full_resolution,
                              **({"d_channels": tuple(d_channels)} if d_channels else {})})
    best, metrics_path = out / "progressive_gen_ema_best.pth", out / "metrics.json"
    if not best.is_file():  # interrupted before its first quality check: nothing to score yet
        raise SystemExit(f"{out}: stopped before its first quality check (eval_every epochs); its state is saved, "
                         "rerun the same command to resume it")
    # Scored again when a resumed run found a new best after an earlier score (an arm stopped and scored, then resumed).
    if not metrics_path.is_file() or metrics_path.stat().st_mtime < best.stat().st_mtime:
        evaluate_checkpoint(best, data, data_config, out=metrics_path, progress=False)
    metrics = json.loads(metrics_path.read_text())
    realism, control = metrics["realism"], metrics["va_control"]
    run = sorted((out / "runs").glob("*-gan-*"))[-1]
    run_config = read_config(run)
    return {"arm": out.name, "vae": str(vae_path), "g_learning_rate": rate, "seed": seed, "epochs": run_config["gan"]["epochs"],
            "minutes": minutes, "d_channels": run_config["model"]["d_channels"],
            "d_full_resolution_channels": run_config["model"].get("d_full_resolution_channels", 0),
            "batch_size": batch_size, "d_learning_rate": d_rate, "ema_decay": ema_decay, "grad_clip": grad_clip,
            "lecam_weight": lecam_weight, "ada": ada, "ada_geometric": run_config["gan"].get("ada_geometric", False),
            "upsample": run_config["model"].get("upsample", "nearest"),
            "g_channels": run_config["model"]["g_channels"],
            "full_resolution_channels": run_config["model"]["full_resolution_channels"],
            "preset": preset_name, "precision": precision, "bf16": run_config["bf16"],
            **scores_on_test_split(metrics), "kid_floor": round(realism["floor_kid_mean"], 4),
            "ceiling_valence_spearman": round(control["ceiling_valence_spearman"], 3),
            "ceiling_arousal_spearman": round(control["ceiling_arousal_spearman"], 3),
            "copy_fraction": metrics["memorisation"]["copy_fraction"],
            **last_quarter(run), **training_time(run, batch_size),
            **progress(run, (out / "progressive_gen_ema_final.pth").is_file(), best), "run_dir": str(run)}


def default_data():
    """(the default dataset at 64 px, its data config, its train/val/test split), as every arm uses them."""
    folder = ensure_default_dataset(2000, progress=False)
    data_config = DataConfig(images=str(folder / "images"), labels=str(folder / "labels.csv"), size=64)
    data = load_dataset(folder / "images", folder / "labels.csv", size=64, progress=False)
    return data, data_config, data.split(data_config)


def shared_vae(vae_path: Path, work: Path, split, data_config, preset_name: str = "quick", **decoder) -> Path:
    """The warm start the arms share: ``vae_path``, or where it is missing a VAE of the preset (seed 0, with the
    ``decoder`` settings: upsample, g_channels, full_resolution_channels) trained into ``<work>/vae``."""
    wanted = model_config_for_size(64, preset_name, **decoder)
    if vae_path.is_file():
        found = read_checkpoint(vae_path)["model_config"]
        for name in decoder:
            have = found.get(name, "nearest" if name == "upsample" else None)
            have = tuple(have) if isinstance(have, list) else have
            if have != getattr(wanted, name):
                raise SystemExit(f"{vae_path} has {name}={have!r}, not {getattr(wanted, name)!r}: pass a --vae trained "
                                 f"with {name}={getattr(wanted, name)!r}, or a path where none is yet to train one there")
        return vae_path
    return train_vae(preset(preset_name, "vae", minutes=0), wanted,
                     split[0], split[1], out_dir=work / "vae", data_config=data_config, test=split[2], progress=False).best_path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vae", default="weights/quick-benchmark/vae_best.pth",
                        help="the warm start every arm shares (trained with --preset's VAE settings, seed 0, if missing)")
    parser.add_argument("--rates", type=float, nargs="+", default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=None, help="default: the preset's")
    parser.add_argument("--precisions", nargs="+", choices=["auto", "bf16", "fp32"], default=["auto"],
                        help="auto: bf16 autocast where the CPU runs it natively (training/precision.py)")
    parser.add_argument("--d-rates", type=float, nargs="+", default=None,
                        help=f"D's learning rates; an arm at another than {rate_text(NAMED_FROM_D_RATE)} gets a -d<rate> suffix")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=None,
                        help=f"an arm at another than {NAMED_FROM_BATCH_SIZE} gets a -b<size> suffix; the EMA decay is per step")
    parser.add_argument("--ema-decays", type=float, nargs="+", default=None,
                        help=f"the EMA generator's decay per step; an arm at another than {NAMED_FROM_EMA_DECAY:g} gets an -ema<decay> suffix. "
                             "The warm-up (1 + step) / (10 + step) stays below 0.999 for 8,991 steps, so a larger decay "
                             "changes nothing in a shorter run")
    parser.add_argument("--d-channels", nargs="+", default=[",".join(map(str, QUICK_D_CHANNELS))],
                        help="D's widths, comma-separated, one per arm; an arm with other than the quick model's gets a -dc suffix")
    parser.add_argument("--minutes", type=float, default=0,
                        help="train each arm for this many minutes of steps (at most --epochs epochs; -m<minutes> suffix); "
                             "0: exactly --epochs epochs")
    parser.add_argument("--grad-clips", type=float, nargs="+", default=None,
                        help=f"the norm G's and D's gradients are clipped to (0: not clipped; R1 steps never are); an arm at "
                             f"another than {NAMED_FROM_GRAD_CLIP:g} gets a -clip<norm> suffix")
    parser.add_argument("--lecam-weights", type=float, nargs="+", default=None,
                        help="the LeCam regulariser's weight in D's loss (losses.LeCamAnchors); an arm with one gets a "
                             "-lecam<weight> suffix")
    parser.add_argument("--ada", nargs="+", choices=["auto", "on", "off"], default=None,
                        help="ADA (auto: on for sets under 5,000 images); an arm with other than auto gets an -ada_<choice> suffix")
    parser.add_argument("--ada-geometric", action="store_true",
                        help="ADA also zooms and slightly rotates (GANTrainConfig.ada_geometric; -geom suffix)")
    parser.add_argument("--upsample", choices=["nearest", "bilinear", "bilinear_last"], default="nearest",
                        help="how the generator (the VAE's decoder) upsamples; the --vae must have been trained so")
    parser.add_argument("--g-channels", help="the generator's (the VAE decoder's) widths, comma-separated, as "
                        "ModelConfig.g_channels; an arm with them gets a -gc<widths>-f<channels> suffix; the --vae must have them")
    parser.add_argument("--full-resolution-channels", type=int,
                        help="the generator's full-resolution stage's width (ModelConfig.full_resolution_channels)")
    parser.add_argument("--d-full-resolution-channels", type=int, nargs="+",
                        help="D's first conv at the image's own size with this many channels, one arm per value "
                             "(ModelConfig.d_full_resolution_channels; 0: space-to-depth; default: the preset's model's); "
                             "an arm with other than "
                             f"{NAMED_FROM_D_FULL_RESOLUTION} gets a -dfr suffix")
    parser.add_argument("--preset", choices=["quick", "reference"], default="quick",
                        help="the preset whose other settings (and defaults for the above) the arms take; reference: "
                             "its ADA speed and validation checks (-reference suffix)")
    parser.add_argument("--work", default="weights/learning-rate")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    chosen = preset(args.preset, "gan")
    for name, field in [("rates", "g_learning_rate"), ("d_rates", "d_learning_rate"), ("batch_sizes", "batch_size"),
                        ("ema_decays", "ema_decay"), ("grad_clips", "grad_clip"), ("lecam_weights", "lecam_weight"), ("ada", "ada")]:
        if getattr(args, name) is None:
            setattr(args, name, [getattr(chosen, field)])
    args.epochs = args.epochs or chosen.epochs
    if args.d_full_resolution_channels is None:
        args.d_full_resolution_channels = [model_config_for_size(64, args.preset).d_full_resolution_channels]
    data, data_config, split = default_data()
    work = Path(args.work)
    generator = {}
    if args.g_channels:
        generator["g_channels"] = tuple(int(width) for width in args.g_channels.split(","))
    if args.full_resolution_channels is not None:
        generator["full_resolution_channels"] = args.full_resolution_channels
    vae_path = shared_vae(Path(args.vae), work, split, data_config, args.preset, upsample=args.upsample, **generator)
    d_widths = [tuple(int(width) for width in text.split(",")) for text in args.d_channels]
    arms = [run_arm(rate, seed, args.epochs, vae_path,
                    work / arm_name(rate, seed, precision, batch, d_rate, ema, d_channels, args.minutes, clip, lecam,
                                    args.preset, ada, args.upsample, generator, args.ada_geometric, d_full),
                    split, data, data_config, precision, batch, d_rate, ema, d_channels, args.minutes, clip, lecam,
                    args.preset, ada, args.ada_geometric, d_full)
            for rate in args.rates for d_rate in args.d_rates for ema in args.ema_decays for seed in args.seeds
            for precision in args.precisions for batch in args.batch_sizes for d_channels in d_widths
            for clip in args.grad_clips for lecam in args.lecam_weights for ada in args.ada
            for d_full in args.d_full_resolution_channels]
    for arm in arms:
        print(f"{arm['arm']:25s} {'bf16' if arm['bf16'] else 'fp32'}  {arm['epochs']} epochs  KID {arm['kid']:.3f} ± {arm['kid_std']:.3f}  FID {arm['fid']:.0f}  "
              f"V {correlation_text(arm['valence_spearman'])}  A {correlation_text(arm['arousal_spearman'])}  D hinge {arm['d_hinge']:.2f}  "
              f"ADA p {arm['ada_p'][0]}-{arm['ada_p'][1]} r_t {arm['ada_rt']}  {arm['gan_minutes']} min")
    result = {"benchmark": "g_learning_rate", "machine": machine_facts(), "arms": arms}  # each arm names its VAE
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
