"""Fit a training stage to a wall-clock budget on this machine (``minutes`` in the train configs).

CPUs of one cloud family differ about 3x: the quick GAN step (at batch 16) ran at 64 images/s on a
2-core AMD EPYC (Zen 3, AVX2) and at 190 on a Zen 5 (bf16), so 95 epochs took 13 minutes on one and
40 on the other. With ``minutes`` > 0 a new run first times a few of its own steps (the GAN's in the phase
with every loss on, the slowest, so the estimate errs short; the VAE's and the diffusion model's
plain steps), and then trains ``min(epochs, what fits in the time the probe left)`` epochs. The phase schedule, the
learning-rate decay and the evaluations follow the epochs so chosen; the run's config.json records them (``epochs``, with ``minutes`` and the measured rate),
so a resumed run keeps its schedule and anyone can repeat the run with that ``epochs`` and
``minutes=0`` (but see the re-fits below).

The budget is the whole stage's wall time: the set-up and the timing probe, the training steps, and each
epoch's validation, sample grid, KID check and checkpoint. Counting steps alone let a run overrun: on a 2-core
Zen 3 the GAN's steps used 15.7 of 16 minutes and its probe, grids, two KID checks and checkpoints 1.1 more
(benchmarks/results/quick_preset_amd_epyc_zen3_2026-12-07.json).

A host's speed also drifts while a run trains (the 40-step GAN probe was 13% slow, 12% fast and 3%
fast against its own run's adversarial phase in three runs on one 2-core Intel Xeon; the VAE's probe was
25-40% fast against its own epochs on a Zen 3), so every stage re-fits its epochs after every epoch from
what its own epochs took (``BudgetClock``; the GAN from the rate of its phase-3 steps, and never so many
that it falls back out of phase 3): a run then ends within an epoch of its budget. Each change rewrites
config.json's ``epochs`` and ``budget`` and is logged; the seconds used are saved with the training state,
so a resumed run spends what is left. Since the GAN's phase fractions and LPIPS ramp, the VAE's KL warm-up
and the diffusion model's learning-rate decay move a little with each change, ``epochs`` with ``minutes=0``
repeats such a run only approximately.
"""

import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from helpers.training.runs import read_config

# Timed in records of 8 steps: the first (oneDNN choosing its kernels) is dropped, and the median of the
# other four taken. On a 2-core AMD EPYC Zen 3 single records ranged 44-72 images/s around a run's median
# of 56; the mean of two records after the first said 49, and the run then used 13 of its 15 minutes.
PROBE_STEPS = 40
PROBE_RECORD = 8
now = time.perf_counter  # BudgetClock's clock (the tests pretend a machine's speed through it)


def epochs_within(minutes: float, images_per_second: float, images_per_epoch: int, most: int) -> int:
    """How many epochs of ``images_per_epoch`` fit in ``minutes`` at this rate: at least 1, at most ``most``."""
    if minutes <= 0:
        raise ValueError(f"minutes must be above 0, not {minutes}")
    return max(1, min(most, int(minutes * 60 * images_per_second // images_per_epoch)))


def probe_config(config):
    """The config a timing probe trains with: no warm-up phases, no evaluation, samples or checkpoints."""
    settings = dict(minutes=0.0, epochs=10**4, eval_every=0, sample_every=10**6, checkpoint_every=10**6,
                    stats_every=PROBE_RECORD)
    if hasattr(config, "recon_fraction"):  # the GAN: straight into phase 3, where every loss is on
        settings.update(recon_fraction=0.0, ramp_fraction=0.0)
    return replace(config, **{k: v for k, v in settings.items() if hasattr(config, k)})


def measured_rate(history: list) -> float:
    """Images/s of a probe run: the median of its stats records, the first one dropped."""
    rates = [record["images_per_second"] for record in history if "images_per_second" in record]
    if len(rates) < 2:
        raise RuntimeError(f"the timing probe left {len(rates)} stats records; it needs at least 2")
    return float(np.median(rates[1:]))


def fit_to_minutes(config, train_images: int, run_probe, resume=None, section: str = "gan", clock=None):
    """(``config`` with its epochs fitted to ``config.minutes``, the budget record for config.json or None).

    Unchanged, with None, when ``minutes`` is 0. ``run_probe(probe_config, scratch_dir)`` trains
    ``PROBE_STEPS`` steps with the given config in a scratch folder and returns their stats
    records. The stage's ``clock`` (a ``BudgetClock``, started at the stage's start) books the probe, and
    the epochs are fitted to what is left. A resumed run (``resume``: its folder) takes the epochs its
    first start chose from the ``section`` of its config.json, without timing again.
    """
    if not config.minutes:
        return config, None
    if resume:
        recorded = read_config(resume)
        return replace(config, epochs=recorded[section]["epochs"]), recorded.get("budget")
    with tempfile.TemporaryDirectory() as scratch:
        rate = measured_rate(run_probe(probe_config(config), Path(scratch)))
    minutes_left = config.minutes
    if clock is not None:
        clock.book_overhead()  # the set-up so far and the probe
        minutes_left = max(1e-6, config.minutes - clock.seconds_used / 60)
    images_per_epoch = max(1, train_images // config.batch_size) * config.batch_size  # full batches only
    epochs = epochs_within(minutes_left, rate, images_per_epoch, config.epochs)
    budget = {"minutes": config.minutes, "measured_images_per_second": round(rate, 1), "epochs_asked": config.epochs,
              "epochs_fitted": epochs}
    if clock is not None:
        budget["probe_seconds"] = round(clock.seconds_used, 1)
    return replace(config, epochs=epochs), budget


def log_budget(log, budget: dict, show: bool) -> None:
    """Say in the run's log.txt (and, with ``show``, on screen) how many epochs the budget allowed."""
    if not budget:
        return
    message = (f"{budget['minutes']:g}-minute budget: {budget['measured_images_per_second']} images/s measured on this "
               f"machine, so {budget['epochs_fitted']} of {budget['epochs_asked']} epochs")
    log.log(message)
    if show:
        print(message)


class BudgetClock:
    """Seconds a training stage has spent of its budget, and the epochs the budget still holds.

    Everything counts, in turns: made at the stage's start, the clock books the seconds since its last booking
    as set-up, probe or final checkpoints at ``book_overhead()`` (``book_setup`` and ``close`` call it), as an
    epoch's training steps at ``book_steps(images, timed)`` and as that epoch's validation, grid, KID check and
    checkpoint at ``book_evaluation()``. Laps with ``timed`` measure the rate of steps that ``epochs_that_fit``
    forecasts with; the evaluations, their mean per epoch and the longest one (kept in reserve for the last
    epoch, which always scores). ``seconds_used`` goes into the run's saved state, so a resumed run spends only
    what is left.
    """

    REFIT_AFTER = 3  # timed laps before the first forecast: one epoch of 1,600 images is too noisy alone

    def __init__(self, minutes: float, seconds_used: float = 0.0):
        self.minutes, self.seconds_used = minutes, seconds_used
        self.timed_images, self.timed_seconds, self.timed_laps = 0, 0.0, 0
        self.evaluation_seconds, self.evaluations, self.longest_evaluation = 0.0, 0, 0.0
        self.mark = now()

    def _book(self) -> float:
        """Seconds since the last booking, added to ``seconds_used``."""
        then, self.mark = self.mark, now()
        self.seconds_used += self.mark - then
        return self.mark - then

    def book_overhead(self) -> None:
        self._book()

    def book_setup(self, carried_seconds: float = None) -> None:
        """Books this sitting's set-up, and adds what an earlier sitting spent (its saved ``seconds_used``)."""
        self.seconds_used += carried_seconds or 0.0
        self.book_overhead()

    def close(self, budget: dict) -> dict:
        """Books the final checkpoints; the run's budget record with the seconds the whole stage used (``stage_seconds``)."""
        self.book_overhead()
        return {**budget, "stage_seconds": round(self.seconds_used, 1)}

    def book_steps(self, images: int, timed: bool) -> None:
        seconds = self._book()
        if timed:
            self.timed_images += images
            self.timed_seconds += seconds
            self.timed_laps += 1

    def book_evaluation(self) -> None:
        seconds = self._book()
        self.evaluation_seconds += seconds
        self.evaluations += 1
        self.longest_evaluation = max(self.longest_evaluation, seconds)

    @property
    def images_per_second(self) -> float:
        return self.timed_images / max(self.timed_seconds, 1e-9)

    def epochs_that_fit(self, epochs_done: int, images_per_epoch: int, most: int):
        """The epoch the run should end at (at most ``most``, and not before ``epochs_done``: no time left
        stops the run now) at the rate of the timed laps; None before ``REFIT_AFTER`` of them.

        Called after an epoch's steps, before its evaluation: ``more`` epochs then cost ``more`` times
        (steps + a mean evaluation) plus the last evaluation, counted as the longest seen."""
        if self.timed_laps < self.REFIT_AFTER:
            return None
        seconds_left = self.minutes * 60 - self.seconds_used - self.longest_evaluation
        epoch_seconds = images_per_epoch / self.images_per_second + self.evaluation_seconds / max(1, self.evaluations)
        more = int(max(0.0, seconds_left) // epoch_seconds)
        return max(epochs_done, min(most, epochs_done + more))

    def refit(self, budget: dict, epochs: int, epochs_done: int, images_per_epoch: int, most: int):
        """The run's budget record with the new count (``epochs_refitted``, and when and at what rate it was
        set) where ``epochs_that_fit`` differs from the run's ``epochs``; None where it does not."""
        fitted = self.epochs_that_fit(epochs_done, images_per_epoch, most)
        if fitted is None or fitted == epochs:
            return None
        return {**budget, "epochs_refitted": fitted, "refitted_after_epoch": epochs_done,
                "refit_images_per_second": round(self.images_per_second, 1), "seconds_used": round(self.seconds_used, 1)}


def refit_message(budget: dict) -> str:
    """The log line of a re-fit (``BudgetClock.refit``'s record)."""
    return (f"budget: {budget['seconds_used'] / 60:.1f} of {budget['minutes']:g} minutes used after epoch "
            f"{budget['refitted_after_epoch']}, steps at {budget['refit_images_per_second']:g} images/s, "
            f"so {budget['epochs_refitted']} epochs")


def spent_message(budget: dict) -> str:
    """The log line at a run's end (``BudgetClock.close``'s record)."""
    return f"budget: {budget['stage_seconds'] / 60:.1f} of {budget['minutes']:g} minutes used"
