"""VAE pretraining: the warm start for the generator (which is the VAE's decoder).

Loss per image: the summed squared error of the reconstruction plus beta * KL(q(z|x) || N(0, I))
(a beta-VAE, Higgins et al. 2017), with beta ramped up from 0 (KL warm-up, Bowman et al. 2016)
so the encoder first learns to reconstruct before the prior pulls its codes together.
Writes ``vae_best.pth`` (lowest validation loss) and ``vae_final.pth`` to the output folder.
"""

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from helpers.config import DataConfig, ModelConfig, VAETrainConfig, to_dict
from helpers.va import va_unit_tensor
from helpers.image_tensors import grid, save_png, to_tensor, to_uint8
from helpers.models.checkpoint import save_model
from helpers.models.encoder import VAE, kl_divergence
from helpers.training.budget import (PROBE_RECORD, PROBE_STEPS, BudgetClock, fit_to_minutes, log_budget,
                                     refit_message, spent_message)
from helpers.training.memory import keep_freed_memory
from helpers.training.precision import autocast
from helpers.training.run_state import load_run_state, save_run_state
from helpers.training.runs import RunLog, new_run_dir, pick_device, read_stats, save_split, truncate_stats


@dataclass
class VAEResult:
    run_dir: Path
    best_path: Path
    final_path: Path
    history: list  # the per-epoch stats records


def vae_losses(vae: VAE, images: torch.Tensor, va: torch.Tensor, beta: float):
    """(loss, summed squared error, KL) per image, averaged over the batch."""
    reconstruction, mu, logvar = vae(images, va)
    squared_error = (reconstruction.float() - images).pow(2).sum(dim=(1, 2, 3)).mean()
    kl = kl_divergence(mu.float(), logvar.float())
    return squared_error + beta * kl, squared_error, kl


@torch.no_grad()
def validation_loss(vae: VAE, images: np.ndarray, va: torch.Tensor, beta: float, device, batch_size: int = 64) -> float:
    vae.eval()
    total = 0.0
    for start in range(0, len(images), batch_size):
        batch = to_tensor(images[start:start + batch_size], device)
        loss, _, _ = vae_losses(vae, batch, va[start:start + batch_size], beta)
        total += loss.item() * len(batch)
    vae.train()
    return total / len(images)


@torch.no_grad()
def reconstruction_grid(vae: VAE, images: np.ndarray, va: torch.Tensor, device) -> np.ndarray:
    """Originals on the top row, reconstructions (from the mean code) below."""
    vae.eval()
    reconstruction = to_uint8(vae(to_tensor(images, device), va)[0])
    vae.train()
    return grid(np.concatenate([images, reconstruction]), columns=len(images))


def train_step(vae: VAE, optimizer, images: np.ndarray, va: torch.Tensor, beta: float, device, precision: str):
    """One optimiser step on a batch of uint8 images: (loss, summed squared error, KL), not detached."""
    images = to_tensor(images, device).contiguous(memory_format=torch.channels_last)
    with autocast(device, precision):
        losses = vae_losses(vae, images, va, beta)
    optimizer.zero_grad(set_to_none=True)
    losses[0].backward()
    optimizer.step()
    return losses


def timed_steps(config: VAETrainConfig, model_config: ModelConfig, train, device) -> list:
    """Stats records ({"images_per_second"}) of ``PROBE_STEPS`` training steps of a throwaway VAE, one
    record per ``PROBE_RECORD`` steps: what the time budget (``config.minutes``) measures the machine with."""
    vae = VAE(model_config).to(device, memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(vae.parameters(), lr=config.learning_rate)
    va = va_unit_tensor(train.valence, train.arousal, device=device)
    draws = np.random.default_rng(0)
    records, started = [], time.perf_counter()
    for step in range(1, PROBE_STEPS + 1):
        chosen = np.sort(draws.choice(len(train), size=min(config.batch_size, len(train)), replace=False))
        loss, _, _ = train_step(vae, optimizer, train.images[chosen], va[chosen], config.beta, device, config.precision)
        if step % PROBE_RECORD == 0:
            loss.item()  # waits for the device
            records.append({"images_per_second": PROBE_RECORD * len(chosen) / (time.perf_counter() - started)})
            started = time.perf_counter()
    return records


def train_vae(config: VAETrainConfig, model_config: ModelConfig, train, val, out_dir="weights",
              data_config: DataConfig = None, resume=None, progress: bool = True, on_epoch=None, test=None) -> VAEResult:
    """Train the VAE on ``train`` (a ``LabelledImages``), choosing the best by ``val``'s loss.

    ``resume`` is a run folder from an interrupted run: training continues where it stopped.
    ``on_epoch(record, run_dir)`` is called after every epoch (the notebooks draw with it).
    ``test`` (never trained on) is only recorded: its names go to the run's ``split.json``.
    With ``config.minutes`` > 0 a new run first times a few steps and trains the epochs that fit
    (``helpers/training/budget.py``).
    """
    out_dir = Path(out_dir)
    # The time budget's clock (training/budget.py): it counts from here, set-up and timing probe included.
    budget_clock = BudgetClock(config.minutes) if config.minutes else None
    device = pick_device(config.device)
    keep_freed_memory()  # no page faults on each step's fresh feature maps (training/memory.py)
    config, budget = fit_to_minutes(config, len(train), lambda probe, scratch: timed_steps(probe, model_config, train, device),
                                    resume, section="vae", clock=budget_clock)
    if not budget:
        budget_clock = None
    torch.manual_seed(config.seed)
    vae = VAE(model_config).to(device, memory_format=torch.channels_last)  # NHWC: faster convolutions
    optimizer = torch.optim.Adam(vae.parameters(), lr=config.learning_rate)
    start_epoch, best_loss = 0, float("inf")
    if resume:
        run_dir = Path(resume)
        state = load_run_state(run_dir)
        vae.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start_epoch, best_loss = state["epoch"], state["best_loss"]
        truncate_stats(run_dir, lambda r: r["epoch"] <= start_epoch)
    else:
        run_dir = new_run_dir(out_dir / "runs", f"vae-{model_config.image_size}")
    log = RunLog(run_dir)

    def write_config():  # again whenever the budget re-fits the epochs
        log.write_config({"vae": to_dict(config), "model": to_dict(model_config),
                          "data": to_dict(data_config) if data_config else None, "train_images": len(train),
                          "val_images": len(val), "budget": budget})

    write_config()
    save_split(run_dir, train, val, test, data_config)
    log.log(f"{'resumed' if resume else 'started'} at epoch {start_epoch} on {device}")
    log_budget(log, budget, progress)

    train_va = va_unit_tensor(train.valence, train.arousal, device=device)
    val_va = va_unit_tensor(val.valence, val.arousal, device=device)
    grid_images = val.images[:8]
    batches_per_epoch = max(1, len(train) // config.batch_size)
    total_steps = config.epochs * batches_per_epoch
    best_path, final_path = out_dir / "vae_best.pth", out_dir / "vae_final.pth"
    bar = tqdm(total=total_steps, initial=start_epoch * batches_per_epoch, desc="VAE", disable=not progress, unit="step")
    if budget_clock is not None:  # a resumed run carries what its earlier sittings spent (part-epochs not counted)
        budget_clock.book_setup(state.get("budget_seconds") if resume else None)
    vae.train()
    epoch = start_epoch
    while epoch < config.epochs:
        started = time.time()
        order = np.random.default_rng([config.seed, epoch]).permutation(len(train))
        sums = torch.zeros(3, device=device)  # summed on the device: no host sync per step
        for index in range(batches_per_epoch):
            step = epoch * batches_per_epoch + index
            beta = config.beta * min(1.0, step / max(1.0, config.kl_warmup_fraction * total_steps))
            chosen = np.sort(order[index * config.batch_size:(index + 1) * config.batch_size])
            loss, squared_error, kl = train_step(vae, optimizer, train.images[chosen], train_va[chosen], beta, device,
                                                 config.precision)
            sums += torch.stack([loss, squared_error, kl]).detach().float()
            bar.update(1)
            if index % 20 == 0:
                bar.set_postfix(loss=f"{sums[0].item() / (index + 1):.1f}", epoch=epoch + 1)
        if budget_clock is not None:
            budget_clock.book_steps(batches_per_epoch * config.batch_size, timed=True)
            refitted = budget_clock.refit(budget, config.epochs, epoch + 1, batches_per_epoch * config.batch_size,
                                          budget["epochs_asked"])
            if refitted:
                budget, config = refitted, replace(config, epochs=refitted["epochs_refitted"])
                total_steps = bar.total = config.epochs * batches_per_epoch
                write_config()
                log.log(refit_message(budget))
        val_loss = validation_loss(vae, val.images, val_va, config.beta, device)
        means = (sums / batches_per_epoch).tolist()
        record = log.stats({
            "epoch": epoch + 1, "loss": means[0], "squared_error": means[1], "kl": means[2], "beta": beta,
            "val_loss": val_loss, "seconds": time.time() - started,
            "images_per_second": batches_per_epoch * config.batch_size / (time.time() - started),
        })
        if val_loss < best_loss:
            best_loss = val_loss
            save_model(vae, best_path, "vae", {"epoch": epoch + 1, "val_loss": val_loss, "run_dir": str(run_dir)})
        if (epoch + 1) % config.grid_every == 0 or epoch + 1 == config.epochs:
            save_png(reconstruction_grid(vae, grid_images, val_va[:8], device), run_dir / f"reconstructions-{epoch + 1:04d}.png")
        save_run_state(run_dir, {"model": vae.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch + 1,
                                 "best_loss": best_loss,
                                 "budget_seconds": budget_clock.seconds_used if budget_clock else None})
        if on_epoch is not None:
            on_epoch(record, run_dir)
        if budget_clock is not None:
            budget_clock.book_evaluation()  # the validation loss, grid and checkpoint above
        epoch += 1
    bar.close()
    save_model(vae, final_path, "vae", {"epoch": config.epochs, "run_dir": str(run_dir)})
    log.log(f"finished: best validation loss {best_loss:.2f}; {best_path}, {final_path}")
    if budget_clock is not None:
        budget = budget_clock.close(budget)  # books the final checkpoints
        write_config()
        log.log(spent_message(budget))
    return VAEResult(run_dir, best_path, final_path, read_stats(run_dir))
