"""Diffusion training (rectified flow, ``helpers/rectified_flow.py``): one linear loop, like the VAE's.

Per step: a batch of real images (mirrored at random: a mirrored landscape keeps its VA), one
noise image and one logit-normal time per image, VA dropped for ``label_dropout`` of them (the
learned "no VA" embedding, for classifier-free guidance), the flow-matching loss, one Adam step
with the gradient norm clipped, then the EMA of the weights. No discriminator, no warm start,
no phases: the loss alone says how training goes, and it is the same loss from the first step to
the last.

The EMA model is the one to sample from: ``<out>/diffusion_ema.pth``, written at every sample
grid and at the end. The run folder holds the resolved configs, ``stats.jsonl`` (training loss,
validation loss at fixed noise and times, images/s), ``samples/va-grid-NNNN.png`` and the
training state; ``resume=run_dir`` continues at the same step, with every random draw of a
step derived from (seed, step).
"""

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from helpers.config import DataConfig, DiffusionModelConfig, DiffusionTrainConfig, to_dict
from helpers.generate import va_sample_grid
from helpers.image_tensors import save_png, to_tensor
from helpers.models.checkpoint import save_model
from helpers.models.unet import UNet
from helpers.rectified_flow import flow_matching_loss, logit_normal_times
from helpers.training.budget import PROBE_STEPS, BudgetClock, fit_to_minutes, log_budget, refit_message, spent_message
from helpers.training.ema import make_ema, update_ema
from helpers.training.memory import keep_freed_memory
from helpers.training.precision import autocast, uses_bf16
from helpers.training.run_state import STATE_FILE, InterruptAtStepBoundary, load_run_state, save_run_state
from helpers.training.runs import RunLog, new_run_dir, pick_device, read_stats, save_split, truncate_stats
from helpers.training.schedule import learning_rate_scale
from helpers.va import va_unit_tensor

CHECKPOINT = "diffusion_ema.pth"  # the EMA model: use this one for generation


class TrainingDiverged(RuntimeError):
    """The loss became NaN/inf; the last good state is kept."""


@dataclass
class DiffusionResult:
    run_dir: Path
    checkpoint: Path
    history: list  # stats.jsonl records
    finished: bool  # False when stopped early (max_steps or Ctrl-C): resume with run_dir


def _draws(count: int, size: int, config: DiffusionTrainConfig, generator: torch.Generator, device):
    """(noise, times, drop_va, flip) for one batch, all from ``generator``."""
    noise = torch.randn(count, 3, size, size, generator=generator, device=device)
    times = logit_normal_times(count, config.time_mean, config.time_std, generator, device)
    drop_va = torch.rand(count, generator=generator, device=device) < config.label_dropout
    flip = torch.rand(count, generator=generator, device=device) < (0.5 if config.xflip else 0.0)
    return noise, times, drop_va, flip


@torch.no_grad()
def validation_loss(model, images: np.ndarray, va: torch.Tensor, config: DiffusionTrainConfig, device,
                    batch_size: int = 64) -> float:
    """The flow-matching loss on held-out images at fixed noise and times (the same every epoch,
    so epochs compare), VA never dropped."""
    generator = torch.Generator(device=device).manual_seed(12345)
    total = 0.0
    for start in range(0, len(images), batch_size):
        batch = to_tensor(images[start:start + batch_size], device)
        noise, times, _, _ = _draws(len(batch), batch.shape[-1], config, generator, device)
        total += flow_matching_loss(model, batch, va[start:start + batch_size], noise, times).item() * len(batch)
    return total / len(images)


def train_diffusion(config: DiffusionTrainConfig, model_config: DiffusionModelConfig, train, val, out_dir="weights",
                    data_config: DataConfig = None, resume=None, progress: bool = True, on_epoch=None,
                    max_steps: int = None, test=None) -> DiffusionResult:
    """Train the VA-conditioned U-Net on ``train`` (a ``LabelledImages``); ``val`` gives a validation loss.

    ``resume`` is the run folder of an interrupted run; ``max_steps`` stops after that many steps in
    this call (resumable); ``on_epoch(record, run_dir)`` is called after every epoch (the notebooks
    draw with it); ``test`` (never trained on) is only recorded: its names go to ``split.json``.
    """
    out_dir = Path(out_dir)
    # The time budget's clock (training/budget.py): it counts from here, set-up and timing probe included.
    budget_clock = BudgetClock(config.minutes) if config.minutes else None
    device = pick_device(config.device)
    keep_freed_memory()  # no page faults on each step's fresh feature maps (training/memory.py)

    def run_probe(probe_config, scratch):
        return train_diffusion(probe_config, model_config, train, val, out_dir=scratch, progress=False,
                               max_steps=PROBE_STEPS).history

    config, budget = fit_to_minutes(config, len(train), run_probe, resume, section="diffusion", clock=budget_clock)
    if not budget:
        budget_clock = None
    torch.manual_seed(config.seed)
    model = UNet(model_config).to(device, memory_format=torch.channels_last)
    ema = make_ema(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate, betas=tuple(config.adam_betas))
    draws = torch.Generator(device=device)
    step = 0
    if resume:
        run_dir = Path(resume)
        state = load_run_state(run_dir)
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        optimizer.load_state_dict(state["optimizer"])
        step = state["step"]
        truncate_stats(run_dir, lambda record: record.get("step", 0) <= step)
    else:
        run_dir = new_run_dir(out_dir / "runs", f"diffusion-{model_config.image_size}")
        (run_dir / "samples").mkdir()
    log = RunLog(run_dir)

    def write_config():  # again whenever the budget re-fits the epochs
        log.write_config({"diffusion": to_dict(config), "model": to_dict(model_config),
                          "data": to_dict(data_config) if data_config else None, "train_images": len(train),
                          "val_images": len(val), "device": str(device), "bf16": uses_bf16(device, config.precision),
                          "parameters": sum(p.numel() for p in model.parameters()), "budget": budget})

    write_config()
    save_split(run_dir, train, val, test, data_config)
    log.log(f"{'resumed' if resume else 'started'} at step {step} on {device}")
    log_budget(log, budget, progress)

    train_va = va_unit_tensor(train.valence, train.arousal, device=device)
    val_va = va_unit_tensor(val.valence, val.arousal, device=device)
    batch = config.batch_size
    steps_per_epoch = max(1, len(train) // batch)
    total_steps = config.epochs * steps_per_epoch
    checkpoint = out_dir / CHECKPOINT
    if budget_clock is not None:  # a resumed run carries what its earlier sittings spent (part-epochs not counted)
        budget_clock.book_setup(state.get("budget_seconds") if resume else None)
    loss_sum, loss_count, clock, step_started = torch.zeros((), device=device), 0, time.time(), step

    def save_state():
        save_run_state(run_dir, {"model": model.state_dict(), "ema": ema.state_dict(),
                                 "optimizer": optimizer.state_dict(), "step": step,
                                 "budget_seconds": budget_clock.seconds_used if budget_clock else None})

    def save_ema():
        save_model(ema, checkpoint, "diffusion", {"step": step, "epoch": step / steps_per_epoch, "ema": True,
                                                  "run_dir": str(run_dir)})  # evaluate finds split.json here

    bar = tqdm(total=total_steps, initial=step, desc="diffusion", disable=not progress, unit="step")
    call_limit = float("inf") if max_steps is None else step + max_steps
    stop_at = min(total_steps, call_limit)
    interrupt = InterruptAtStepBoundary()
    model.train()
    try:
        with interrupt:
            while step < stop_at and not interrupt.requested:
                epoch, index = divmod(step, steps_per_epoch)
                lr = config.learning_rate * learning_rate_scale(step / total_steps, config.lr_decay_start, config.lr_floor)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                draws.manual_seed(config.seed * 2**32 + step)  # a resumed run continues exactly
                order = np.random.default_rng([config.seed, epoch]).permutation(len(train))
                chosen = np.sort(order[index * batch:(index + 1) * batch])
                images = to_tensor(train.images[chosen], device)
                noise, times, drop_va, flip = _draws(len(chosen), images.shape[-1], config, draws, device)
                images = torch.where(flip[:, None, None, None], images.flip(-1), images).contiguous(
                    memory_format=torch.channels_last)
                with autocast(device, config.precision):
                    loss = flow_matching_loss(model, images, train_va[chosen], noise, times, drop_va)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                optimizer.step()
                update_ema(ema, model, step, config.ema_decay)
                loss_sum += loss.detach()
                loss_count += 1
                step += 1
                bar.update(1)
                if step % config.stats_every == 0 or step == total_steps:
                    mean_loss = loss_sum.item() / loss_count  # a CPU-GPU sync point
                    if not np.isfinite(mean_loss):
                        raise TrainingDiverged(f"the loss became {mean_loss} by step {step}")
                    log.stats({"step": step, "epoch": step / steps_per_epoch, "loss": mean_loss, "lr": lr,
                               "grad_norm": grad_norm.item(),
                               "images_per_second": (step - step_started) * batch / max(time.time() - clock, 1e-9)})
                    bar.set_postfix(loss=f"{mean_loss:.4f}", epoch=epoch + 1)
                    loss_sum, loss_count, clock, step_started = torch.zeros((), device=device), 0, time.time(), step
                if step % steps_per_epoch == 0:
                    finished_epoch = step // steps_per_epoch
                    record = {"step": step, "epoch_end": finished_epoch}
                    if budget_clock is not None:
                        budget_clock.book_steps(steps_per_epoch * batch, timed=True)
                        refitted = budget_clock.refit(budget, config.epochs, finished_epoch, steps_per_epoch * batch,
                                                      budget["epochs_asked"])
                        if refitted:
                            budget, config = refitted, replace(config, epochs=refitted["epochs_refitted"])
                            total_steps = bar.total = config.epochs * steps_per_epoch
                            stop_at = min(total_steps, call_limit)
                            write_config()
                            log.log(refit_message(budget))
                            record["epochs"] = config.epochs
                    record["val_loss"] = validation_loss(ema, val.images, val_va, config, device)
                    if finished_epoch % config.sample_every == 0 or step == total_steps:
                        save_png(va_sample_grid(ema, steps=config.sample_steps),
                                 run_dir / "samples" / f"va-grid-{finished_epoch:04d}.png")
                        save_ema()
                    log.stats(record)
                    save_state()
                    if on_epoch is not None:
                        on_epoch(record, run_dir)
                    if budget_clock is not None:
                        budget_clock.book_evaluation()  # the validation loss, sample grid and checkpoint above
        if interrupt.requested:
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        save_state()  # at a step boundary: the step in flight was finished (InterruptAtStepBoundary)
        log.log(f"interrupted at step {step}; resume with resume={run_dir}")
        print(f"\nInterrupted at step {step} of {total_steps}. The state is saved; resume with --resume {run_dir}")
        bar.close()
        return DiffusionResult(run_dir, checkpoint, read_stats(run_dir), finished=False)
    except TrainingDiverged as diverged:
        log.log(f"diverged: {diverged}")
        bar.close()
        raise TrainingDiverged(f"{diverged}. Training stopped; the last good state is in {run_dir / STATE_FILE}. "
                               "Try a lower learning_rate.") from None
    bar.close()
    finished = step >= total_steps
    save_state()
    save_ema()
    log.log(f"finished at step {step}" if finished else f"paused at step {step} of {total_steps}")
    if finished and budget_clock is not None:
        budget = budget_clock.close(budget)  # books the final checkpoints
        write_config()
        log.log(spent_message(budget))
    return DiffusionResult(run_dir, checkpoint, read_stats(run_dir), finished=finished)
