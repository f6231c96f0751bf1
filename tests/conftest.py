"""Shared fixtures: tiny datasets in the original's forms, written into tmp folders; a pretend time budget clock."""

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def write_image(path, colour=(120, 160, 200), size=(40, 30), mode="RGB"):
    image = Image.new("RGB", size, colour)
    if mode != "RGB":
        image = image.convert(mode)
    image.save(path)
    return path


@pytest.fixture
def csv_dataset(tmp_path):
    """Form 1: images/<id>.jpg + labels.csv with a subset of ids present (like the 865 subset)."""
    images = tmp_path / "images"
    images.mkdir()
    rows = ["image,valence,arousal"]
    for i in range(1, 9):
        rows.append(f"{i},{1 + i * 0.9:.2f},{9 - i * 0.8:.2f}")
        if i % 2 == 0:  # only even ids have images
            write_image(images / f"{i}.jpg", colour=(20 * i, 10 * i, 200 - 20 * i))
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


@pytest.fixture(scope="session")
def tiny_landscapes(tmp_path_factory):
    """48 procedural landscapes loaded at 64 px: (train, val), 36 and 12 images (no test part)."""
    from helpers.config import DataConfig
    from helpers.data import load_dataset
    from helpers.data.synth import write_dataset

    folder = tmp_path_factory.mktemp("landscapes")
    write_dataset(folder, n=48, size=64, seed=3, progress=False)
    data = load_dataset(folder / "images", labels=folder / "labels.csv", size=64, progress=False)
    train, val, _ = data.split(DataConfig(val_fraction=0.25, test_fraction=0.0))
    return train, val


@pytest.fixture(scope="session")
def ci_runs(tiny_landscapes, tmp_path_factory):
    """A ci VAE, then a ci GAN run: (out folder, GAN result)."""
    from helpers.config import model_config_for_size, preset
    from helpers.training.gan import train_gan
    from helpers.training.vae import train_vae

    train, val = tiny_landscapes
    out = tmp_path_factory.mktemp("weights")
    vae = train_vae(preset("ci", "vae"), model_config_for_size(64), train, val, out_dir=out, progress=False)
    gan = train_gan(preset("ci", "gan", eval_every=0), train, val, vae.best_path, out_dir=out, progress=False,
                    lpips_model=None)
    return out, vae, gan


@pytest.fixture
def benchmark_script(monkeypatch):
    """Import a script of benchmarks/ by name, with that folder on sys.path as when it runs from there."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    return importlib.import_module


@pytest.fixture
def pretend_budget_seconds(monkeypatch):
    """``pretend(steps, evaluation=0, overhead=0)``: on the time budget's clock (training/budget.py) every epoch's
    training steps then take ``steps`` seconds, its evaluation ``evaluation``, and each other booking (set-up and
    probe, final checkpoints) ``overhead``, whatever this machine takes."""
    from helpers.training import budget

    def pretend(steps: float, evaluation: float = 0.0, overhead: float = 0.0):
        seconds = {"book_steps": steps, "book_evaluation": evaluation, "book_overhead": overhead}
        elapsed = [0.0]

        def now():
            booking = sys._getframe(2).f_code.co_name  # now() <- BudgetClock._book <- BudgetClock.book_*
            elapsed[0] += seconds.get(booking, 0.0)
            return elapsed[0]

        monkeypatch.setattr(budget, "now", now)

    return pretend


@pytest.fixture(autouse=True)
def _seeded():
    import torch

    torch.manual_seed(0)
    np.random.seed(0)
