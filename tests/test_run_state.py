"""The training loops' run state, precision and step bookkeeping: what resume, Ctrl-C and the
stats log promise."""

import math
import os
import signal

import pytest
import torch

from helpers.config import preset
from helpers.training import run_state
from helpers.training.gan import StepStats, TrainingDiverged
from helpers.training.precision import uses_bf16
from helpers.training.schedule import learning_rate_scale


def test_run_state_always_loads_onto_the_cpu(tmp_path, monkeypatch):
    # On a GPU, map_location=device moved the RNG ByteTensors to CUDA and set_rng_state crashed.
    run_state.save_run_state(tmp_path, {"step": 3, "weights": torch.ones(2)})
    seen = {}
    real_load = torch.load

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    before = torch.get_rng_state()
    torch.rand(5)  # move the global RNG on; loading must put it back
    state = run_state.load_run_state(tmp_path)
    assert seen["map_location"] == "cpu" and seen["weights_only"] is True
    assert state["step"] == 3 and "rng" not in state
    assert torch.equal(torch.get_rng_state(), before)


def test_a_missing_run_state_says_what_resume_takes(tmp_path):
    with pytest.raises(FileNotFoundError, match="run folder of an interrupted run"):
        run_state.load_run_state(tmp_path)


def test_step_stats_average_each_key_over_its_own_steps():
    stats = StepStats()
    stats.add({"d_loss": torch.tensor(1.0), "r1_penalty": torch.tensor(4.0)})
    for value in (2.0, 3.0, 6.0):
        stats.add({"d_loss": torch.tensor(value)})
    means = stats.means(step=4)
    assert means["d_loss"] == pytest.approx(3.0)
    assert means["r1_penalty"] == pytest.approx(4.0)  # present once: not divided by 4 steps
    resumed = StepStats({k: torch.tensor(v) for k, v in stats.state(4)["sums"].items()}, stats.state(4)["counts"])
    assert resumed.means(step=4) == pytest.approx(means)
    stats.add({"d_loss": torch.tensor(float("nan"))})
    with pytest.raises(TrainingDiverged, match="d_loss became nan"):
        stats.means(step=5)


def test_learning_rate_is_constant_then_decays_to_its_floor_on_run_fraction():
    assert learning_rate_scale(0.0) == 1.0 == learning_rate_scale(0.75)
    assert learning_rate_scale(0.875) == pytest.approx(0.55)  # half-way down the cosine
    assert learning_rate_scale(1.0) == pytest.approx(0.1)
    values = [learning_rate_scale(p / 100, 0.5, 0.2) for p in range(101)]
    assert all(a >= b for a, b in zip(values, values[1:])) and values[-1] == pytest.approx(0.2)


def test_precision_setting(monkeypatch):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert uses_bf16(cuda) and uses_bf16(cpu, "bf16") and not uses_bf16(cuda, "fp32")
    from helpers.training import precision

    precision.cpu_has_native_bf16.cache_clear()
    monkeypatch.setenv("VA_CPU_BF16", "0")
    assert not uses_bf16(cpu)
    precision.cpu_has_native_bf16.cache_clear()
    monkeypatch.setenv("VA_CPU_BF16", "1")
    assert uses_bf16(cpu)
    precision.cpu_has_native_bf16.cache_clear()
    with pytest.raises(ValueError, match="precision must be"):
        uses_bf16(cpu, "fp16")


def _adam_steps(optimizer) -> int:
    return int(max(state["step"] for state in optimizer.state.values()))


def test_r1_is_not_clipped_and_gradient_norms_are_logged(tiny_landscapes, ci_runs, tmp_path, monkeypatch):
    from helpers.training import gan

    train, val = tiny_landscapes
    _, vae, _ = ci_runs
    clipped = []
    real_clip = torch.nn.utils.clip_grad_norm_

    def spy(parameters, max_norm, *args, **kwargs):
        parameters = list(parameters)
        if math.isfinite(max_norm):  # an infinite limit only measures the norm (the R1 step's, for the log)
            clipped.append(sum(p.numel() for p in parameters))
        return real_clip(parameters, max_norm, *args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    config = preset("ci", "gan", eval_every=0, recon_fraction=0.0, ramp_fraction=0.0, r1_interval=1, stats_every=1)
    result = gan.train_gan(config, train, val, vae.best_path, out_dir=tmp_path, progress=False, lpips_model=None, max_steps=2)
    assert len(clipped) == 4  # D main and G per step; the R1 step (every step here) is never clipped
    record = [r for r in result.history if "g_total" in r][-1]
    assert record["d_grad_norm"] > 0 and record["g_grad_norm"] > 0 and record["r1_penalty"] > 0
    assert record["r1_grad_norm"] > 0  # measured, not clipped: the parameters' update used it whole


def test_ctrl_c_mid_step_saves_a_state_at_a_step_boundary(tiny_landscapes, ci_runs, tmp_path, monkeypatch):
    from helpers import losses
    from helpers.training.gan import train_gan

    train, val = tiny_landscapes
    _, vae, _ = ci_runs
    original, calls = losses.GANLoss.g_main, []

    def interrupted(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # D has stepped in this step, G has not yet
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(losses.GANLoss, "g_main", interrupted)
    config = preset("ci", "gan", eval_every=0, recon_fraction=0.0, ramp_fraction=0.0, epochs=10)
    result = train_gan(config, train, val, vae.best_path, out_dir=tmp_path, progress=False, lpips_model=None)
    assert not result.finished
    state = torch.load(result.run_dir / run_state.STATE_FILE, weights_only=True)
    d_optimizer, g_optimizer = torch.optim.Adam([torch.zeros(1)]), torch.optim.Adam([torch.zeros(1)])
    step = state["step"]
    assert step == 3  # the interrupted step was finished, not cut half-way
    assert max(s["step"] for s in state["g_optimizer"]["state"].values()) == step
    r1_steps = -(-step // config.r1_interval)
    assert max(s["step"] for s in state["d_optimizer"]["state"].values()) == step + r1_steps
    del d_optimizer, g_optimizer
