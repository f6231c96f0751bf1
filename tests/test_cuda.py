"""The CUDA path, which no CPU test can see: a few GAN steps with bf16 autocast, a run paused
and resumed on the GPU (its state loaded with map_location="cpu", onto CPU models too), and
generation that gives the same images for the same seeds in any batch size.

Skipped without a GPU; ``benchmarks/gpu_check.sh`` runs it on a machine that has one.
"""

import json
import math

import numpy as np
import pytest
import torch

from helpers.config import model_config_for_size, preset

DEVICE = "cuda"
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (torch.cuda.is_available() is "
                                "False); benchmarks/gpu_check.sh runs these tests on a machine with one")


@pytest.fixture(scope="module")
def cuda_runs(tiny_landscapes, tmp_path_factory):
    """A ci VAE, then the same 6-step ci GAN run twice on the GPU: whole, and paused after 3 steps then resumed."""
    from helpers.training.gan import train_gan
    from helpers.training.vae import train_vae

    train, val = tiny_landscapes
    out = tmp_path_factory.mktemp("cuda")
    vae = train_vae(preset("ci", "vae", device=DEVICE), model_config_for_size(64), train, val, out_dir=out / "vae",
                    progress=False)
    config = preset("ci", "gan", device=DEVICE, precision="bf16", eval_every=0, epochs=3)  # 2 steps per epoch
    run = dict(config=config, train=train, val=val, vae_path=vae.best_path, progress=False, lpips_model=None)
    whole = train_gan(**run, out_dir=out / "whole")
    part = train_gan(**run, out_dir=out / "split", max_steps=3)  # stops mid-epoch
    rest = train_gan(**run, out_dir=out / "split", resume=part.run_dir)
    return vae, whole, part, rest


def test_bf16_gan_steps_on_cuda(cuda_runs):
    _, whole, _, _ = cuda_runs
    settings = json.loads((whole.run_dir / "config.json").read_text())
    assert settings["device"].startswith(DEVICE) and settings["bf16"] is True
    records = [r for r in whole.history if "g_total" in r]
    assert records and all(math.isfinite(r["g_total"]) and math.isfinite(r["d_loss"]) for r in records)
    assert whole.finished and whole.checkpoints["gen_ema_final"].is_file()


def test_a_paused_cuda_run_resumes_where_it_stopped(cuda_runs):
    from helpers.models.checkpoint import load_generator

    vae, whole, part, rest = cuda_runs
    assert not part.finished and rest.finished
    assert [r["step"] for r in rest.history if "g_total" in r] == [r["step"] for r in whole.history if "g_total" in r]
    start, a, b = (load_generator(path) for path in (vae.best_path, whole.checkpoints["gen_final"], rest.checkpoints["gen_final"]))
    trained = sum((a_value - s_value).norm() ** 2 for a_value, s_value in zip(a.state_dict().values(), start.state_dict().values()))
    apart = sum((a_value - b_value).norm() ** 2 for a_value, b_value in zip(a.state_dict().values(), b.state_dict().values()))
    # GPU kernels are not bit-reproducible, but a resume that lost state would land as far away as training moved
    assert apart.sqrt() < 0.01 * trained.sqrt()


def test_a_cuda_run_state_loads_onto_the_cpu(cuda_runs):
    from helpers.models.checkpoint import load_model
    from helpers.models.discriminator import Discriminator
    from helpers.training.run_state import load_run_state

    vae_path = cuda_runs[0].best_path
    noise = torch.Generator(device=DEVICE)
    state = load_run_state(cuda_runs[2].run_dir, {"noise": noise})  # RNG states go back as CPU ByteTensors
    assert all(value.device.type == "cpu" for value in state["generator"].values())
    vae, _ = load_model(vae_path, "vae")  # CPU models take the GPU run's weights
    vae.decoder.load_state_dict(state["generator"])
    Discriminator(vae.config).load_state_dict(state["discriminator"])


def test_generate_on_cuda_gives_the_same_images_in_any_batch_size(cuda_runs):
    from helpers.generate import generate
    from helpers.models.checkpoint import load_generator

    path = cuda_runs[1].checkpoints["gen_ema_final"]
    generator = load_generator(path, device=DEVICE)
    seeds, valence, arousal = np.arange(12), np.linspace(1, 9, 12), np.linspace(9, 1, 12)
    together = generate(generator, valence, arousal, seeds, batch_size=12)
    assert np.array_equal(together, generate(generator, valence, arousal, seeds, batch_size=12))
    in_fives = generate(generator, valence, arousal, seeds, batch_size=5)
    # cuDNN may pick another kernel for another batch size: at most one level of rounding apart
    assert np.abs(together.astype(int) - in_fives).max() <= 1
    on_cpu = generate(load_generator(path), valence, arousal, seeds)
    assert np.abs(together.astype(int) - on_cpu).mean() < 1  # TF32 convolutions on the GPU, fp32 on the CPU
