"""The diffusion model: U-Net shapes, the flow-matching formulas, the sampler, guidance,
checkpoints, the training loop (resume) and the command line, all with tiny ci models."""

import json

import numpy as np
import pytest
import torch

from helpers.config import diffusion_model_config, model_config_for_size, preset
from helpers.generate import generate, starting_points
from helpers.models.checkpoint import CheckpointError, load_generator, load_model, save_model
from helpers.models.generator import Generator
from helpers.models.unet import UNet
from helpers.rectified_flow import (
    flow_matching_loss,
    guided_velocity,
    logit_normal_times,
    noisy_images,
    sample,
    velocity_target,
)


@pytest.fixture
def unet():
    torch.manual_seed(0)
    model = UNet(diffusion_model_config(64, "ci")).eval()
    with torch.no_grad():  # the output layer starts at zero; give it weights so outputs depend on the inputs
        for parameter in model.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    return model


@pytest.mark.parametrize("size", [64, 128])
def test_unet_maps_images_to_velocities_of_the_same_shape(size):
    model = UNet(diffusion_model_config(size, "ci"))
    x = torch.randn(3, 3, size, size)
    assert model(x, torch.rand(3), torch.rand(3, 2)).shape == (3, 3, size, size)
    assert model(x, torch.rand(3), None).shape == (3, 3, size, size)  # unconditional
    # untrained, the output layer is zero: v = 0 everywhere
    assert model(x, torch.rand(3), torch.rand(3, 2)).abs().max().item() == 0.0


def test_the_velocity_depends_on_va_and_dropping_it_uses_the_no_va_embedding(unet):
    x, t = torch.randn(2, 3, 64, 64), torch.full((2,), 0.5)
    low, high = torch.zeros(2, 2), torch.ones(2, 2)
    assert not torch.allclose(unet(x, t, low), unet(x, t, high))
    dropped = torch.tensor([True, False])
    mixed = unet(x, t, high, dropped)
    assert torch.allclose(mixed[0], unet(x, t, None)[0], atol=1e-5)  # the dropped row is unconditional
    assert torch.allclose(mixed[1], unet(x, t, high)[1], atol=1e-5)


def test_flow_matching_interpolation_and_loss():
    images, noise = torch.rand(4, 3, 8, 8) * 2 - 1, torch.randn(4, 3, 8, 8)
    assert torch.equal(noisy_images(images, noise, torch.zeros(4)), images)  # t = 0: the image
    assert torch.equal(noisy_images(images, noise, torch.ones(4)), noise)  # t = 1: pure noise
    t = torch.tensor([0.1, 0.4, 0.6, 0.9])
    # the velocity is the derivative of x_t along t
    step = 1e-3
    derivative = (noisy_images(images, noise, t + step) - noisy_images(images, noise, t)) / step
    assert torch.allclose(derivative, velocity_target(images, noise), atol=1e-2)

    def perfect(x_t, times, va, drop_va=None):  # knows the noise: predicts eps - x0 exactly
        return velocity_target(images, noise)

    assert flow_matching_loss(perfect, images, None, noise, t).item() == 0.0
    assert flow_matching_loss(lambda *args: torch.zeros_like(images), images, None, noise, t).item() > 0.5
    times = logit_normal_times(10_000, generator=torch.Generator().manual_seed(0))
    assert 0 < times.min() and times.max() < 1 and abs(times.median().item() - 0.5) < 0.02


def test_euler_sampling_of_a_perfect_straight_flow_reaches_its_target():
    target = torch.rand(2, 3, 8, 8)

    def velocity(x, t, va, drop_va=None):  # the exact velocity towards target along straight paths
        return (x - target) / t.view(-1, 1, 1, 1)

    noise = torch.randn(2, 3, 8, 8)
    assert torch.allclose(sample(velocity, noise, None, steps=3, guidance=1), target, atol=1e-5)
    trajectory = []
    sample(velocity, noise, None, steps=4, guidance=1, trajectory=trajectory)
    assert [t for t, _, _ in trajectory] == [1.0, 0.75, 0.5, 0.25]
    assert torch.equal(trajectory[0][1], noise) and torch.allclose(trajectory[0][2], target, atol=1e-5)


def test_guidance_scale_0_is_unconditional_1_conditional_and_others_extrapolate(unet):
    x, t, va = torch.randn(3, 3, 64, 64), torch.rand(3), torch.rand(3, 2)
    with torch.no_grad():
        conditional, unconditional = unet(x, t, va), unet(x, t, None)
        assert torch.equal(guided_velocity(unet, x, t, va, 1.0), conditional)
        assert torch.equal(guided_velocity(unet, x, t, va, 0.0), unconditional)
        # the doubled batch gives what the two separate passes give
        expected = unconditional + 3.0 * (conditional - unconditional)
        assert torch.allclose(guided_velocity(unet, x, t, va, 3.0), expected, atol=1e-5)
        assert not torch.allclose(conditional, unconditional)


def test_sampling_is_deterministic_per_seed_and_independent_of_the_batch(unet):
    seeds = [5, 6, 7]
    first = generate(unet, 7.0, 2.0, seeds, steps=4, guidance=2.0)
    assert first.shape == (3, 64, 64, 3) and first.dtype == np.uint8
    assert np.array_equal(first, generate(unet, 7.0, 2.0, seeds, steps=4, guidance=2.0))
    alone = generate(unet, 7.0, 2.0, [6], steps=4, guidance=2.0)
    in_small_batches = generate(unet, 7.0, 2.0, seeds, steps=4, guidance=2.0, batch_size=2)
    assert np.abs(alone[0].astype(int) - first[1].astype(int)).max() <= 1  # float rounding at most
    assert np.abs(in_small_batches.astype(int) - first.astype(int)).max() <= 1
    assert starting_points(unet, [6]).shape == (1, 3, 64, 64)
    assert not np.array_equal(first, generate(unet, 7.0, 2.0, seeds, steps=2, guidance=2.0))


def test_checkpoint_round_trip_and_a_gan_checkpoint_is_refused(unet, tmp_path):
    path = save_model(unet, tmp_path / "diffusion.pth", "diffusion")
    loaded, data = load_model(path, "diffusion")
    assert data["kind"] == "diffusion" and loaded.config == unet.config
    assert np.array_equal(generate(load_generator(path), 3.0, 8.0, [1, 2], steps=3),
                          generate(unet, 3.0, 8.0, [1, 2], steps=3))
    gan_path = save_model(Generator(model_config_for_size(64, "ci")), tmp_path / "gan.pth", "generator")
    with pytest.raises(CheckpointError, match="holds a generator checkpoint, but a diffusion is needed here"):
        load_model(gan_path, "diffusion")
    with pytest.raises(CheckpointError, match="holds a diffusion checkpoint, but a generator is needed here"):
        load_model(path, "generator")


def test_training_lowers_nothing_to_nan_changes_weights_and_resumes_where_it_stopped(tiny_landscapes, tmp_path):
    from helpers.training.diffusion import train_diffusion
    from helpers.training.run_state import load_run_state

    train, val = tiny_landscapes
    config, model_config = preset("ci", "diffusion"), diffusion_model_config(64, "ci")
    paused = train_diffusion(config, model_config, train, val, out_dir=tmp_path / "a", progress=False, max_steps=1)
    assert not paused.finished
    state = load_run_state(paused.run_dir)
    assert state["step"] == 1
    torch.manual_seed(config.seed)
    initial = UNet(model_config)  # what step 0 starts from: the loop seeds torch the same way
    changed = [name for name, value in state["model"].items() if not torch.equal(value, initial.state_dict()[name])]
    assert changed and all(torch.isfinite(value).all() for value in state["model"].values())

    resumed = train_diffusion(config, model_config, train, val, out_dir=tmp_path / "a", progress=False,
                              resume=paused.run_dir)
    straight = train_diffusion(config, model_config, train, val, out_dir=tmp_path / "b", progress=False)
    assert resumed.finished and straight.finished
    a, b = load_run_state(resumed.run_dir), load_run_state(straight.run_dir)
    assert a["step"] == b["step"] == config.epochs * (len(train) // config.batch_size)
    for name in b["ema"]:  # the interrupted and resumed run ends where the straight one does
        assert torch.allclose(a["ema"][name], b["ema"][name], atol=1e-6), name
    losses = [record["loss"] for record in straight.history if "loss" in record]
    assert losses and all(np.isfinite(losses))
    assert [r["epoch_end"] for r in resumed.history if "epoch_end" in r] == list(range(1, config.epochs + 1))
    assert len(sorted((straight.run_dir / "samples").glob("va-grid-*.png"))) == config.epochs
    model, data = load_model(straight.checkpoint, "diffusion")
    assert data["extra"]["run_dir"] == str(straight.run_dir)


def test_cli_trains_a_diffusion_model_then_generates_and_evaluate_finds_its_split(tmp_path, capsys):
    from helpers.cli import main
    from helpers.data.synth import write_dataset

    write_dataset(tmp_path / "data", n=40, size=64, seed=5, progress=False)
    data = ["--images", str(tmp_path / "data" / "images"), "--labels", str(tmp_path / "data" / "labels.csv")]
    assert main(["train-diffusion", *data, "--preset", "ci", "--epochs", "1", "--out", str(tmp_path / "w")]) == 0
    weights = tmp_path / "w" / "diffusion_ema.pth"
    run = sorted((tmp_path / "w" / "runs").iterdir())[0]
    assert run.name == "00000-diffusion-64"
    assert [len(json.loads((run / "split.json").read_text())[part]) for part in ("train", "val", "test")] == [32, 4, 4]
    out = tmp_path / "calm.png"
    assert main(["generate", "--weights", str(weights), "--valence", "8", "--arousal", "3", "--n", "2",
                 "--steps", "3", "--guidance", "1.5", "--out", str(out)]) == 0
    assert out.is_file() and "wrote 2 image(s)" in capsys.readouterr().out

    from helpers.evaluate_checkpoint import checkpoint_split
    from helpers.data import load_dataset

    split, source = checkpoint_split(weights, load_dataset(data[1], labels=data[3], size=64, progress=False))
    assert source.startswith(f"test split from {run / 'split.json'}") and len(split.test) == 4


class _ColourRegressor:
    """A stand-in VA judge: reads valence from brightness and arousal from saturation."""

    def predict(self, images):
        from helpers.metrics import colour_stats

        stats = colour_stats(images)
        return 1 + 8 * stats["brightness"], 1 + 8 * stats["saturation"]


def test_comparison_helpers_score_both_kinds_with_the_same_code(unet, tiny_landscapes, tmp_path):
    from helpers.compare import (comparison_table, guidance_sweep, model_costs, noising_strip, sampling_trajectory)
    from helpers.generate import generator_callable
    from helpers.metrics import EVAL_PRESETS, evaluate
    from helpers.readings import read_gan_vs_diffusion, read_guidance_sweep, read_trajectory

    train, val = tiny_landscapes
    strip = noising_strip(train.images[0], (0.0, 0.5, 1.0))
    assert strip.shape == (3, 64, 64, 3) and np.array_equal(strip[0], train.images[0])
    path = sampling_trajectory(unet, seed=1, valence=8, arousal=2, steps=3, guidance=2.0)
    assert path["times"] == [1.0, pytest.approx(2 / 3), pytest.approx(1 / 3), 0.0] and len(path["states"]) == 4
    assert np.array_equal(path["states"][-1], generate(unet, 8, 2, [1], steps=3, guidance=2.0)[0])
    assert "t = " in read_trajectory(path)

    gan = Generator(model_config_for_size(64, "ci")).eval()
    sampling = {"steps": 2, "guidance": 2.0}
    pixels = lambda images: images[:, ::8, ::8].reshape(len(images), -1).astype(np.float64)  # noqa: E731
    settings = {**EVAL_PRESETS["ci"], "regressor_epochs": 1}
    metrics = {name: evaluate(generator_callable(model, **extra), val.images, val.valence, val.arousal,
                              train_images=train.images, train_valence=train.valence, train_arousal=train.arousal,
                              features=pixels, progress=False, **settings)
               for name, (model, extra) in {"GAN": (gan, {}), "diffusion": (unet, sampling)}.items()}
    gan_path = save_model(gan, tmp_path / "g.pth", "generator")
    diffusion_path = save_model(unet, tmp_path / "d.pth", "diffusion")
    costs = {"GAN": model_costs(gan, gan_path), "diffusion": model_costs(unet, diffusion_path, **sampling)}
    assert costs["diffusion"]["passes"] == 4 and costs["GAN"]["passes"] == 1 and costs["GAN"]["train_minutes"] is None
    table = comparison_table(metrics, costs)
    assert list(table.columns) == ["GAN", "diffusion"] and len(table) == 8
    reading = read_gan_vs_diffusion(metrics, costs, "ci")
    assert reading.startswith("This is the `ci` preset") and "Realism" in reading and "Slider update" in reading

    sweep = guidance_sweep(unet, _ColourRegressor(), scales=(0.0, 1.0, 3.0), steps=2, cells=2, seeds_per_cell=2,
                           diversity_count=3)
    assert sweep["grids"][0].shape == (4, 64, 64, 3) and len(sweep["saturation"]) == 3
    assert not np.array_equal(sweep["grids"][0], sweep["grids"][2])  # guidance changes the images
    assert "From guidance 1 to 3" in read_guidance_sweep(sweep, 0.3)


def test_guidance_reading_keeps_alike_and_grey_apart():
    from helpers.readings import read_guidance_sweep

    def sweep(spread, saturation):
        return {"scales": [0.0, 1.0, 5.0], "valence_spearman": [0.0, 0.9, 0.95], "arousal_spearman": [0.0, 0.5, 0.6],
                "spread": spread, "saturation": saturation}

    # What the quick run showed: guidance 5 more alike but *more* colourful; grey where guidance is weak.
    reading = read_guidance_sweep(sweep([5.0, 4.8, 4.3], [0.11, 0.13, 0.28]), real_saturation=0.27)
    assert "more alike" in reading and "not greyer" in reading and "At guidance 0 the grids are greyer" in reading
    reading = read_guidance_sweep(sweep([5.0, 5.0, 5.0], [0.30, 0.28, 0.22]), real_saturation=0.27)
    assert "does not make the images noticeably more alike" in reading and "greyer, the other half" in reading
    assert "the grids are greyer than real images" not in reading


def test_gan_vs_diffusion_reading_says_when_neither_follows_an_axis():
    from helpers.readings import read_gan_vs_diffusion

    def model(kid, valence, arousal):
        return {"realism": {"kid_mean": kid, "kid_std": 0.01},
                "va_control": {"valence_spearman": valence, "arousal_spearman": arousal,
                               "ceiling_valence_spearman": 0.9, "ceiling_arousal_spearman": 0.8},
                "diversity": {"value": 10.0, "real_reference": 12.0, "measure": "feature_l2"},
                "memorisation": {"copy_fraction": 0.0, "expected_without_copying": 0.05, "n_generated": 200}}

    metrics = {"GAN": model(0.1, 0.9, -0.22), "diffusion": model(0.2, 0.5, -0.28)}
    costs = {name: {"ms_per_image": ms, "slider_ms": ms * 4, "train_minutes": 20.0, "passes": passes}
             for name, ms, passes in (("GAN", 1.0, 1), ("diffusion", 150.0, 32))}
    reading = read_gan_vs_diffusion(metrics, costs, "quick")
    assert "neither model follows the requested arousal" in reading
    assert "Valence control: the GAN follows the request better" in reading
    metrics["diffusion"] = model(0.2, None, -0.28)  # a diffusion model that draws one image for every request
    reading = read_gan_vs_diffusion(metrics, costs, "quick")
    assert "Valence control: +0.90 (GAN) and undefined (diffusion)" in reading


def test_a_time_budget_fits_the_diffusion_models_epochs_to_this_machine(tiny_landscapes, tmp_path, monkeypatch,
                                                                        pretend_budget_seconds):
    import json

    from helpers.training import budget
    from helpers.training.diffusion import train_diffusion

    train, val = tiny_landscapes  # 36 images: 2 steps of 16 a epoch
    real_rate = budget.measured_rate
    measured = []
    monkeypatch.setattr(budget, "measured_rate", lambda history: measured.append(real_rate(history)) or 3.2)
    pretend_budget_seconds(steps=20.0)  # an epoch of 32 images takes 20 s, not the probe's 10
    config = preset("ci", "diffusion", epochs=10, minutes=1.0)  # 3.2 images/s: one minute holds 6 epochs of 32
    result = train_diffusion(config, diffusion_model_config(64, "ci"), train, val, out_dir=tmp_path, progress=False)
    assert len(measured) == 1 and measured[0] > 0 and result.finished
    recorded = json.loads((result.run_dir / "config.json").read_text())
    # the probe fitted 6 epochs, but the steps took twice its time: after 3 epochs the minute was spent
    assert recorded["budget"]["epochs_fitted"] == 6 and recorded["diffusion"]["epochs"] == 3
    assert recorded["budget"]["refit_images_per_second"] == 1.6
    assert max(record["step"] for record in result.history if "step" in record) == 3 * 2
