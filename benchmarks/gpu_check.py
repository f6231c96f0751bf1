"""GPU check: one unattended run that shows the CUDA path works, and measures it.

1. renders a small default dataset (``python -m helpers synth``);
2. at 64 and at 128 px: a VAE, then the ``full`` preset's GAN for a few epochs with bf16
   autocast, timed (images/s) with its peak GPU memory (``torch.cuda.max_memory_allocated``);
3. the same GAN run stopped with ``max_steps`` mid-epoch and resumed: the saved state holds the
   step it stopped at, the resumed run finishes, its stats records have the same steps as the
   uninterrupted run's (none lost or doubled), and their losses and weights are compared;
4. ``generate``: the same seeds give the same images when called again, and in batches of
   other sizes (at most one level apart: cuDNN may choose another kernel per batch size);
5. ``tests/test_cuda.py``.

Prints one JSON object, also written to ``$OUT/gpu_check.json`` when ``$OUT`` is set (after
every stage, so a run cut short still reports what it did). Exit status 1 when a check failed.

    bash benchmarks/gpu_check.sh                            # on a GPU machine: sets up, then runs this
    python benchmarks/gpu_check.py --device cpu --tiny      # the same stages on a CPU, `ci` preset, < 1 min
"""

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import torch

from helpers.config import DataConfig, model_config_for_size, preset
from helpers.data import load_dataset
from helpers.generate import generate
from helpers.models.checkpoint import load_generator
from helpers.training.gan import train_gan
from helpers.training.run_state import STATE_FILE
from helpers.training.runs import read_config
from helpers.training.vae import train_vae

ROOT = Path(__file__).resolve().parents[1]


def render_dataset(folder: Path, count: int) -> Path:
    subprocess.run([sys.executable, "-m", "helpers", "synth", "--out", str(folder), "--n", str(count), "--seed", "0",
                    "--quiet"], cwd=ROOT, check=True)
    return folder


def peak_memory_mib(device: str):
    return round(torch.cuda.max_memory_allocated() / 2**20, 1) if device == "cuda" else None


def train_and_resume(data_folder: Path, size: int, preset_name: str, epochs: int, device: str, work: Path) -> dict:
    """The GAN run whole (timed), then the same run paused mid-epoch and resumed."""
    data = load_dataset(data_folder / "images", labels=data_folder / "labels.csv", size=size, progress=False)
    train, val, _ = data.split(DataConfig())
    vae = train_vae(preset(preset_name, "vae", epochs=2, device=device, precision="bf16"), model_config_for_size(size),
                    train, val, out_dir=work / "vae", progress=False)
    config = preset(preset_name, "gan", epochs=epochs, device=device, precision="bf16", eval_every=0,
                    sample_every=epochs)
    run = dict(config=config, train=train, val=val, vae_path=vae.best_path, progress=False, lpips_model=None)
    steps_per_epoch = max(1, len(train) // config.batch_size)
    total_steps = epochs * steps_per_epoch

    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    whole = train_gan(**run, out_dir=work / "whole")
    if device == "cuda":
        torch.cuda.synchronize()
    wall = time.perf_counter() - started
    rates = [r["images_per_second"] for r in whole.history if "images_per_second" in r]
    settings = read_config(whole.run_dir)

    pause_at = total_steps // 2 + steps_per_epoch // 2 + 1  # mid-epoch, past the warm-up phases
    part = train_gan(**run, out_dir=work / "split", max_steps=pause_at)
    saved_step = torch.load(part.run_dir / STATE_FILE, map_location="cpu", weights_only=True)["step"]
    rest = train_gan(**run, out_dir=work / "split", resume=part.run_dir)
    whole_records = [r for r in whole.history if "g_total" in r]
    rest_records = [r for r in rest.history if "g_total" in r]
    loss_gap = max((abs(a[key] - b[key]) for a, b in zip(whole_records, rest_records) for key in ("g_total", "d_loss")
                    if key in a and key in b), default=None)
    weights_apart = _relative_distance(whole.checkpoints["gen_final"], rest.checkpoints["gen_final"], vae.best_path)
    checks = {
        "whole_run_finished": whole.finished,
        "bf16_autocast": settings.get("bf16") is True,
        "paused_before_the_end": not part.finished,
        "state_saved_at_the_pause": saved_step == pause_at,
        "resumed_run_finished": rest.finished,
        "same_stats_steps_as_the_whole_run": [r["step"] for r in rest_records] == [r["step"] for r in whole_records],
        # GPU kernels are not bit-reproducible; a resume that lost state lands as far off as training moved
        "resumed_weights_match": weights_apart < 0.01,
    }
    return {
        "train_images": len(train), "batch_size": config.batch_size, "steps": total_steps,
        "images_per_second": round(total_steps * config.batch_size / wall, 1),  # the whole run: setup, grids, saves
        "images_per_second_loop_median": round(float(np.median(rates)), 1) if rates else None,
        "peak_memory_mib": peak_memory_mib(device), "wall_seconds": round(wall, 1),
        "paused_at_step": pause_at, "largest_loss_gap_after_resume": loss_gap,
        "resumed_weights_distance_relative_to_training": round(weights_apart, 6),
        "checks": checks, "generator": str(whole.checkpoints["gen_ema_final"]),
    }


def _relative_distance(first_path, second_path, start_path) -> float:
    """||first - second|| / ||first - start|| over every generator weight."""
    first, second, start = (load_generator(path).state_dict() for path in (first_path, second_path, start_path))
    apart = sum(float((first[k] - second[k]).norm() ** 2) for k in first)
    moved = sum(float((first[k] - start[k]).norm() ** 2) for k in first)
    return math.sqrt(apart / moved) if moved > 0 else float("nan")


def generate_determinism(generator_path: str, device: str) -> dict:
    generator = load_generator(generator_path, device=device)
    seeds = np.arange(24)
    valence, arousal = np.linspace(1, 9, 24), np.linspace(9, 1, 24)
    together = generate(generator, valence, arousal, seeds, batch_size=24)
    again = generate(generator, valence, arousal, seeds, batch_size=24)
    gaps = {size: int(np.abs(together.astype(int) - generate(generator, valence, arousal, seeds, batch_size=size)).max())
            for size in (7, 1)}
    return {"repeat_identical": bool(np.array_equal(together, again)),
            "max_level_difference_by_batch_size": gaps,
            "checks": {"same_images_again": bool(np.array_equal(together, again)),
                       "same_images_in_other_batch_sizes": max(gaps.values()) <= 1}}


def cuda_tests() -> dict:
    # -p no:nbval: the notebook plugin, where installed, is not needed and pulls in Jupyter's kernel
    completed = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-p", "no:nbval",
                                "tests/test_cuda.py"],
                               cwd=ROOT, capture_output=True, text=True, env={**os.environ, "VA_PRESET": "ci"})
    lines = completed.stdout.strip().splitlines()
    return {"summary": lines[-1] if lines else completed.stderr.strip()[-500:], "checks": {"passed": completed.returncode == 0}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--tiny", action="store_true", help="the `ci` preset on 48 images: checks this script in a minute")
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("torch sees no CUDA GPU; on a CPU run `python benchmarks/gpu_check.py --device cpu --tiny`.", file=sys.stderr)
        return 2
    preset_name, images, epochs = ("ci", 48, 3) if args.tiny else ("full", 640, 4)
    report = {"device": torch.cuda.get_device_name() if args.device == "cuda" else platform.processor() or "cpu",
              "torch": torch.__version__, "preset": preset_name, "dataset_images": images, "gan_epochs": epochs,
              "lpips": False}  # no LPIPS term: its AlexNet weights need a download
    out = Path(os.environ["OUT"]) / "gpu_check.json" if os.environ.get("OUT") else None
    started = time.perf_counter()

    def stage(name, function, *arguments):
        try:
            report[name] = function(*arguments)
        except Exception as error:  # keep going: an unattended run should report every stage it can
            report[name] = {"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()[-2000:],
                            "checks": {"ran": False}}
        report["seconds"] = round(time.perf_counter() - started, 1)
        if out is not None:
            out.write_text(json.dumps(report, indent=2))
        return report[name]

    with tempfile.TemporaryDirectory(prefix="gpu-check-") as work:
        work = Path(work)
        stage("dataset", lambda: {"folder": str(render_dataset(work / "landscapes", images))})
        for size in args.sizes:
            run = stage(f"gan_{size}", train_and_resume, work / "landscapes", size, preset_name, epochs, args.device,
                        work / str(size))
            generator_path = run.pop("generator", None)  # a temporary file: not part of the report
            if generator_path:
                stage(f"generate_{size}", generate_determinism, generator_path, args.device)
    stage("cuda_tests", cuda_tests)
    failed = [f"{name}.{check}" for name, part in report.items() if isinstance(part, dict)
              for check, ok in part.get("checks", {}).items() if not ok]
    report["failed_checks"] = failed
    report["ok"] = not failed
    if out is not None:
        out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
