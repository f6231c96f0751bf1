"""The notebooks' demonstrations, diagnostics and readings: each test can fail on wrong code."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn
import torch.nn.functional as F
from scipy.ndimage import gaussian_filter

from helpers import diagnostics, plotting, readings, teaching
from helpers.config import GANTrainConfig, model_config_for_size
from helpers.models.discriminator import Discriminator
from helpers.models.generator import Generator


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


class StubGenerator(nn.Module):
    """A generator that paints each image one colour: the seed sets red, valence green (or nothing)."""

    def __init__(self, uses_va: bool = True):
        super().__init__()
        self.config = model_config_for_size(64)
        self.scale = nn.Parameter(torch.ones(()))
        self.uses_va = uses_va

    def forward(self, z, va):
        red = torch.tanh(z[:, :1])
        green = (va[:, :1] * 2 - 1) if self.uses_va else torch.zeros_like(red)
        colour = torch.cat([red, green, torch.zeros_like(red)], 1) * self.scale
        return colour[:, :, None, None].expand(-1, -1, 16, 16)


class BrightnessRegressor:
    """Reads valence as brightness and arousal as nothing: a regressor that takes the shortcut."""

    def predict(self, images):
        return 1 + 8 * images.mean(axis=(1, 2, 3)) / 255, np.full(len(images), 5.0)


# --- upsampling ---------------------------------------------------------------------------------


def test_transposed_conv_overlap_is_uneven_for_kernel_3_and_even_inside_for_kernel_4():
    assert set(np.unique(teaching.transposed_conv_overlap(3, 2))) == {1, 2, 4}
    inside = teaching.transposed_conv_overlap(4, 2, size=6)[2:-2, 2:-2]
    assert np.all(inside == 4)


def test_icnr_makes_pixel_shuffle_equal_nearest_upsampling_of_one_conv():
    conv = teaching.icnr_(nn.Conv2d(3, 4 * 5, 3, padding=1))
    out = F.pixel_shuffle(conv(torch.randn(2, 3, 6, 6)), 2)
    blocks = out.unfold(2, 2, 2).unfold(3, 2, 2)  # (B, C, 6, 6, 2, 2): the four sub-pixels of each block
    assert torch.allclose(blocks, blocks[..., :1, :1].expand_as(blocks))


def test_constant_input_shows_a_pattern_only_for_the_free_sub_pixel_kernels():
    strength = {kind: teaching.pattern_strength(teaching.constant_input_response(kind)) for kind in teaching.UPSAMPLERS}
    assert strength["transposed"] > 0.1 and strength["subpixel"] > 0.1
    assert strength["subpixel_icnr"] < 1e-4 and strength["nearest_conv"] < 1e-4


def test_nearest_copies_one_pixel_into_a_block_and_bilinear_spreads_it():
    nearest = teaching.interpolate_impulse("nearest", stages=3)
    assert np.count_nonzero(nearest) == 64 and nearest.max() == 1
    bilinear = teaching.interpolate_impulse("bilinear", stages=3)
    assert np.count_nonzero(bilinear > 1e-3) > 64 and bilinear.max() < 1


# --- D's tools and the optimiser -------------------------------------------------------------------


def test_spectral_norms_report_the_learned_and_the_used_weight():
    from torch.nn.utils.parametrizations import spectral_norm

    model = nn.ModuleDict({"linear": spectral_norm(nn.Linear(5, 7)), "plain": nn.Linear(7, 3),
                           "conv": spectral_norm(nn.Conv2d(2, 4, 3))})
    with torch.no_grad():
        model["linear"].parametrizations.weight.original.mul_(10)  # a learned weight far above 1
    for _ in range(30):  # power iterations run in training-mode forward passes
        model["linear"](torch.randn(2, 5))
        model["conv"](torch.randn(2, 2, 5, 5))
    rows = {row["layer"]: row for row in teaching.spectral_norms(model)}
    assert set(rows) == {"linear", "conv"}
    for row in rows.values():
        assert row["with"] == pytest.approx(1.0, abs=0.01)
    learned = model["linear"].parametrizations.weight.original
    assert rows["linear"]["without"] == pytest.approx(float(torch.linalg.matrix_norm(learned.detach(), 2)), rel=1e-5)
    assert rows["linear"]["without"] > 3
    assert teaching.spectral_norms(nn.Linear(3, 3)) == []


def test_minibatch_stddev_is_zero_for_a_repeated_image_and_not_for_different_ones():
    images = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    different, repeated = teaching.minibatch_stddev_value(np.concatenate([images, np.repeat(images[:1], 4, 0)]))
    assert repeated < 1e-3 < 0.1 < different


def test_adam_with_momentum_spirals_away_in_the_bilinear_game():
    without = teaching.adam_bilinear_game(0.0)
    with_momentum = teaching.adam_bilinear_game(0.9)
    assert without.shape == (401, 2)
    assert np.hypot(*with_momentum[-1]) > 2 * np.hypot(*without[-1])


def test_ada_views_augment_more_images_at_larger_p_and_keep_the_rest():
    images = np.random.default_rng(1).integers(0, 256, (16, 16, 16, 3), dtype=np.uint8)
    views = teaching.ada_views(images, (0.2, 0.8))
    low, high = views[0.2][1], views[0.8][1]
    assert high.sum() > low.sum() and np.all(high[low])  # the same draws: cut at 0.2 means cut at 0.8
    unchanged = [np.array_equal(view, image) for view, image in zip(views[0.2][0], images)]
    assert 0 < sum(unchanged) < len(images)
    assert views[0.8][0].dtype == np.uint8 and views[0.8][0].shape == images.shape


def test_equal_mse_distortions_have_the_same_mse_and_differ():
    image = np.random.default_rng(2).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    pair = teaching.equal_mse_distortions(image)
    assert pair["mse"]["noisy"] == pytest.approx(pair["mse"]["shifted"], rel=0.03)
    assert not np.array_equal(pair["noisy"], pair["shifted"])
    figure, numbers = teaching.equal_mse_figure(image, None, "weights missing")
    assert numbers["lpips"] == {} and any("weights missing" in text.get_text() for text in figure.texts)


# --- diagnostics -------------------------------------------------------------------------------


def test_rating_labels_are_short():
    assert [plotting.rating_label(v) for v in np.linspace(1, 9, 7)] == ["1", "2.3", "3.7", "5", "6.3", "7.7", "9"]


def test_eru_learned_modulation_rebuilds_the_erus_own_gamma_and_beta():
    generator = Generator(model_config_for_size(64))
    for eru in generator.erus():  # give the zero-initialised bases something to say
        for mlp in (eru.valence_gamma, eru.arousal_gamma, eru.valence_beta, eru.arousal_beta):
            nn.init.normal_(mlp[2].weight, std=0.5)
    result = diagnostics.eru_learned_modulation(generator, steps=5)
    levels = result["levels"]
    v = torch.tensor((levels - 1) / 8, dtype=torch.float32)
    for eru, unit in zip(generator.erus(), result["units"]):
        for row in range(5):  # valence and arousal at the same level
            gamma, beta = eru.modulation(torch.stack([v[row], v[row]])[None])
            expected_gamma = 0.5 * ((1 + unit["valence_gamma"][:, row]) * (0.8 + 0.4 * v[row].item())
                                    + (1 + unit["arousal_gamma"][:, row]) * (0.8 + 0.4 * v[row].item()))
            expected_beta = 2 * unit["valence_beta"][:, row] + 2 * unit["arousal_beta"][:, row]
            assert np.allclose(gamma[0].detach().numpy(), expected_gamma, atol=1e-5)
            assert np.allclose(beta[0].detach().numpy(), expected_beta, atol=1e-5)
    first = generator.erus()[0]
    nn.init.zeros_(first.valence_beta[2].weight)
    nn.init.constant_(first.valence_beta[2].bias, 3.0)  # far beyond the clamp at every rating
    pinned = diagnostics.eru_learned_modulation(generator, steps=5)["units"][0]["valence_beta_pinned"]
    assert pinned.all()


def test_corner_difference_is_zero_for_a_generator_that_ignores_va():
    assert diagnostics.va_corner_difference(StubGenerator(uses_va=False), seeds=range(3)) == 0
    assert diagnostics.va_corner_difference(StubGenerator(uses_va=True), seeds=range(3)) == pytest.approx(255 / 3, abs=1)  # green only


def test_image_measures():
    flat = np.full((2, 8, 8, 3), 100, np.uint8)
    checker = (np.indices((8, 8)).sum(0) % 2 * 255).astype(np.uint8)[None, :, :, None].repeat(3, -1)
    assert diagnostics.high_frequency_energy(flat) == 0
    assert diagnostics.high_frequency_energy(checker) == 255
    assert diagnostics.pixel_spread(np.concatenate([flat, flat])) == pytest.approx(0, abs=1e-5)


def test_nearest_training_image_of_a_copy_is_itself():
    train = np.random.default_rng(3).integers(0, 256, (10, 16, 16, 3), dtype=np.uint8)
    indices, distances = diagnostics.nearest_training_images(train[[7, 2]], train)
    assert list(indices) == [7, 2] and np.allclose(distances, 0)


def test_discriminator_scores_come_for_each_real_and_generated_image(tiny_landscapes):
    train, _ = tiny_landscapes
    config = model_config_for_size(64)
    scores = diagnostics.discriminator_scores(Discriminator(config).eval(), Generator(config).eval(), train, train, count=8)
    assert scores["real"].shape == scores["fake"].shape == scores["train"].shape == (8,)
    assert not np.allclose(scores["real"], scores["fake"])
    memorised = {"train": np.full(8, 0.8), "real": np.full(8, 0.1), "fake": np.full(8, -0.1)}
    assert "learned these particular images" in readings.read_adversarial_game(_history(), memorised)


def test_brightness_shortcut_sees_a_regressor_that_reads_brightness():
    images = np.full((3, 8, 8, 3), 100, np.uint8)
    result = diagnostics.brightness_shortcut(BrightnessRegressor(), images, (0.5, 1.0, 2.0))
    assert result["valence"][0] < result["valence"][1] < result["valence"][2]
    assert np.all(result["arousal"] == 5)
    assert diagnostics.brighten(images, 3.0).max() == 255
    assert "reads brightness as valence" in readings.read_brightness_shortcut(result)


def test_regressor_on_grid_pairs_each_request_with_a_reading():
    readings_ = diagnostics.regressor_on_grid(BrightnessRegressor(), StubGenerator(), steps=3, seeds=range(2))
    assert readings_["requested"].shape == readings_["predicted"].shape == (18, 2)
    text = readings.read_regressor_grid(readings_)
    assert "valence" in text and "arousal: the regressor's reading rises +0.00" in text


def test_regressor_grid_reading_tells_a_tiny_consistent_change_from_none():
    requested = np.tile(np.linspace(1, 9, 9), 2)[:, None].repeat(2, axis=1)
    rng = np.random.default_rng(0)
    tiny_fall = np.stack([5 + rng.normal(0, 1, 18), 5 - 0.02 * requested[:, 1]], axis=1)
    text = readings.read_regressor_grid({"requested": requested, "predicted": tiny_fall})
    assert "arousal of the images hardly changes with it: a consistent but tiny fall" in text
    assert "valence of the images ignores it" in text


def test_trajectory_reading_says_when_the_expected_image_never_changes():
    times = [1.0, 0.5, 0.0]
    flat = {"times": times, "predictions": np.full((3, 4, 4, 3), 100, np.uint8)}
    assert "has not learned to denoise yet" in readings.read_trajectory(flat)
    settling = {"times": times, "predictions": np.stack([np.full((4, 4, 3), v, np.uint8) for v in (0, 60, 70)])}
    assert "most between t = 1.00 and 0.50" in readings.read_trajectory(settling)


def test_sample_grid_tiles_cut_the_training_loops_sample_grid_back_into_images():
    from helpers.generate import generate, va_grid_ratings
    from helpers.training.gan import _sample_grid

    generator = StubGenerator()
    tiles = plotting.sample_grid_tiles(_sample_grid(generator))
    valence, arousal = va_grid_ratings(7)
    expected = generate(generator, valence, arousal, np.full(49, 2)).reshape(7, 7, 16, 16, 3)
    assert tiles.shape == (2, 7, 7, 16, 16, 3)
    assert np.array_equal(tiles[1], expected)


def test_gif_output_carries_the_animation_and_a_still(tmp_path):
    frames = np.random.default_rng(4).integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    diagnostics.save_gif(frames, tmp_path / "walk.gif")
    bundle = diagnostics.GifOutput(tmp_path / "walk.gif")._repr_mimebundle_()
    assert bundle["text/html"].startswith('<img src="data:image/gif;base64,') and bundle["image/png"]


def test_explorer_still_shows_the_sliders_images():
    from helpers.widgets import VAExplorer

    explorer = VAExplorer(StubGenerator(), valence=8.0, arousal=2.0, seed=1, count=2)
    figure = explorer.still([(8.0, 2.0), (1.0, 1.0)])
    assert len(figure.axes) == 2 and figure.axes[0].get_title().startswith("valence 8.0, arousal 2.0, seeds 1..2")


# --- run figures and readings -----------------------------------------------------------------------


def _history(p=0.0, real=0.3, fake=-0.3):
    return [{"step": step, "d_real_score": real, "d_fake_score": fake, "d_loss": 1.4, "ada_p": p * step / 100,
             "ada_rt": 0.2, "d_grad_norm": 2.0, "g_grad_norm": 0.5, "r1_penalty": 0.01} for step in range(10, 110, 10)]


def test_gradient_panel_shows_the_r1_steps_norm_beside_the_clipped_ones_when_it_was_logged():
    with_r1 = [{**record, "r1_grad_norm": 0.3} if record["step"] % 20 == 0 else record for record in _history()]
    labels = [line.get_label() for line in plotting.adversarial_game_figure(with_r1, 1.0).axes[2].get_lines()]
    assert "D's R1 step (never clipped)" in labels and "D, before clipping" in labels
    older_run = [line.get_label() for line in plotting.adversarial_game_figure(_history(), 1.0).axes[2].get_lines()]
    assert not any("R1" in label for label in older_run)  # a run from before the R1 norm was logged: no empty line


def test_schedule_figure_gives_lpips_its_own_axis_and_the_offline_note():
    config = GANTrainConfig()
    figure = plotting.phase_schedule_figure(config, lpips_note="LPIPS weights missing here")
    assert figure.axes[1].get_ylim()[1] == pytest.approx(1.15 * config.lpips_weight)
    assert any("LPIPS weights missing here" in text.get_text() for text in figure.texts)
    rates = figure.axes[2].get_lines()[0].get_ydata()
    assert config.lr_floor == 1 and "constant" in figure.axes[2].get_title()
    assert rates[0] == pytest.approx(config.g_learning_rate) and rates[-1] == pytest.approx(config.g_learning_rate)
    decayed = GANTrainConfig(lr_floor=0.1)
    figure = plotting.phase_schedule_figure(decayed)
    rates = figure.axes[2].get_lines()[0].get_ydata()
    assert "cosine decay from 75% to 0.1x" in figure.axes[2].get_title()
    assert rates[0] == pytest.approx(decayed.g_learning_rate) and rates[-1] == pytest.approx(decayed.g_learning_rate * 0.1)
    without = GANTrainConfig(lpips_weight=0.0)
    figure = plotting.phase_schedule_figure(without, lpips_note="LPIPS weights missing here")
    assert "off in this preset" in figure.axes[1].get_title() and not figure.texts  # no note about weights it never needs
    this_preset, original = (line.get_ydata() for line in figure.axes[1].get_lines()[::-1])
    assert this_preset.max() == 0 and original.max() == pytest.approx(config.lpips_weight)


def test_ada_figure_draws_p_and_r_t_apart_with_the_target():
    figure = plotting.ada_figure(_history(p=0.5), target=0.6)
    assert len(figure.axes) == 2
    assert any(np.allclose(line.get_ydata(), 0.6) for line in figure.axes[1].get_lines())


def test_the_budget_reading_says_what_the_runs_budget_did(tmp_path):
    assert readings.read_budget(tmp_path) == ""  # no config.json
    (tmp_path / "config.json").write_text(json.dumps({"budget": None}))
    assert readings.read_budget(tmp_path).startswith("No time budget")  # a run without one
    probe = {"minutes": 16, "measured_images_per_second": 174.1, "epochs_asked": 126, "epochs_fitted": 97}
    (tmp_path / "config.json").write_text(json.dumps({"budget": probe}))
    assert readings.read_budget(tmp_path).endswith("so 97 of 126 epochs; the run kept that count.")
    refit = {**probe, "epochs_refitted": 104, "refitted_after_epoch": 41, "refit_images_per_second": 181.5,
             "seconds_used": 372.0}
    (tmp_path / "config.json").write_text(json.dumps({"budget": refit}))
    text = readings.read_budget(tmp_path)
    assert "after epoch 41 (6.2 minutes used, steps at 181.5 images/s)" in text and text.endswith("set it to 104 epochs.")
    (tmp_path / "config.json").write_text(json.dumps({"budget": {**refit, "stage_seconds": 951.0}}))
    assert readings.read_budget(tmp_path).endswith("set it to 104 epochs. In all the stage took 15.8 minutes.")

def test_readings_follow_the_numbers(tmp_path):
    assert "never rose above 0.000" in readings.read_ada(_history(p=0.0), 0.6)
    assert "never rose above 0.005" in readings.read_ada(_history(p=0.005), 0.6)
    assert "rose to 0.50" in readings.read_ada(_history(p=0.5), 0.6)
    assert "inside the margins" in readings.read_adversarial_game(_history())
    assert "D is winning" in readings.read_adversarial_game(_history(real=1.5, fake=-1.5))
    assert "barely tells them apart" in readings.read_adversarial_game(_history(real=0.05, fake=0.0))
    assert "100% of the 10" in readings.read_gradient_clipping(_history(), 1.0)
    assert "training made VA matter" in readings.read_corner_differences({"VAE": 2.0, "GAN": 10.0})
    assert "about as much" in readings.read_corner_differences({"VAE": 20.0, "GAN": 22.0})
    assert "barely change" in readings.read_corner_differences({"VAE": 2.0, "GAN": 3.0})
    assert "not meant to look good" in readings.preset_note("ci") and readings.preset_note("quick") == ""
    (tmp_path / "config.json").write_text(json.dumps({"lpips": False}))
    assert "LPIPS is OFF" in readings.read_lpips(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"lpips": True}))
    assert readings.read_lpips(tmp_path) == ""


def _metrics(kid=0.05, floor=0.001, spearman=0.8, ceiling=0.6, slope=0.02, copy=0.05):
    slopes = {stat: {"valence_slope": slope, "arousal_slope": slope} for stat in ("brightness", "saturation", "warmth")}
    real = {stat: {"valence_slope": 0.02, "arousal_slope": 0.02} for stat in ("brightness", "saturation", "warmth")}
    return {"realism": {"kid_mean": kid, "kid_std": 0.001, "floor_kid_mean": floor, "floor_kid_std": 0.001},
            "va_control": {"valence_spearman": spearman, "arousal_spearman": spearman,
                           "ceiling_valence_spearman": ceiling, "ceiling_arousal_spearman": ceiling},
            "colour_affect": {"generated": slopes, "real": real},
            "diversity": {"value": 5.0, "real_reference": 10.0, "valence": 5.0},
            "memorisation": {"copy_fraction": copy, "expected_without_copying": 0.05, "n_generated": 200}}


def test_metric_reading_is_conditional_on_each_number():
    text = readings.read_metrics(_metrics(), "quick")
    assert "50x the floor" in text and "above the ceiling" in text and "no sign of copying" in text
    assert "opposite sign" not in text and "not meant to look good" not in text
    text = readings.read_metrics(_metrics(kid=0.0015, spearman=0.05, slope=-0.01, copy=0.3), "ci")
    assert "cannot tell" in text and "almost no trace" in text and "opposite sign" in text
    assert "flat" in readings.read_metrics(_metrics(slope=0.001)) and "against" in readings.read_metrics(_metrics(spearman=-0.5))
    assert "near-copies" in text and text.startswith(readings.preset_note("ci"))


def test_prior_and_posterior_decodes_both_kinds_of_code(tiny_landscapes):
    from helpers.models.encoder import VAE

    _, val = tiny_landscapes
    decoded = diagnostics.prior_and_posterior(VAE(model_config_for_size(64)), val, count=6)
    assert decoded["reconstructions"].shape == decoded["samples"].shape == (6, 64, 64, 3)
    assert set(decoded["spreads"]) == {"real", "reconstructions", "samples"} and decoded["spreads"]["real"] > 0
    text = readings.read_vae_samples(47.0, 128, prior_spread=1.0, posterior_spread=3.0, real_spread=4.0)
    assert "47.0 nats" in text and "much less varied" in text
    assert "about as varied" in readings.read_vae_samples(5.0, 128, 2.9, 3.0, 4.0)
    assert "not yet learned" in readings.read_vae_samples(0.2, 128, 0.3, 0.2, 7.0)


def test_lpips_or_message_never_downloads(monkeypatch):
    import helpers.perceptual as perceptual

    monkeypatch.setattr(perceptual, "lpips_available", lambda: False)
    model, message = teaching.lpips_or_message()
    assert model is None and "AlexNet" in message


def test_more_readings_follow_the_numbers(tmp_path):
    from helpers.data import DEFAULT_DATA_ROOT

    assert readings.procedural_data(DEFAULT_DATA_ROOT / "landscapes" / "images")
    assert not readings.procedural_data(tmp_path / "images")
    correlations = {("brightness", "valence"): 0.8, ("saturation", "valence"): 0.1, ("warmth", "valence"): -0.2,
                    ("brightness", "arousal"): -0.1, ("saturation", "arousal"): 0.5, ("warmth", "arousal"): 0.0}
    text = readings.read_colour_correlations(correlations, procedural=True)
    assert "brightness (r = +0.80): alone it explains 64%" in text and "circular" in text and "confound" in text
    assert "circular" not in readings.read_colour_correlations(correlations, procedural=False)
    assert "mode collapse" in readings.read_fixed_va({"generated_spread": 0.5, "real_spread": 5.0, "n_real": 30})
    assert "no sign of collapse" in readings.read_fixed_va({"generated_spread": 4.5, "real_spread": 5.0, "n_real": 30})
    assert "signs of copying" in readings.read_nearest({"generated_median": 0.2, "held_out_median": 2.0})
    assert "No closer" in readings.read_nearest({"generated_median": 2.1, "held_out_median": 2.0})
    assert "smoother" in readings.read_ema({"difference": 10, "raw_high_frequency": 8, "ema_high_frequency": 5})
    nothing = {"units": [{part: np.zeros((4, 3)) for part in ("valence_gamma", "arousal_gamma", "valence_beta", "arousal_beta")}
                         | {part + "_pinned": np.zeros((4, 3), bool) for part in ("valence_gamma", "arousal_gamma", "valence_beta", "arousal_beta")}]}
    assert "learned almost nothing" in readings.read_eru(nothing)
    assert "No layer" in readings.read_spectral_norms([], "none")
    (tmp_path / "config.json").write_text(json.dumps({"ada": False}))
    assert "ADA was off" in readings.read_ada(_history(p=0.5), 0.6, tmp_path)


def test_dark_dots_and_their_reading(monkeypatch):
    """The diagnostic finds dots only where the generator draws them, and the reading follows the numbers."""
    class Dark:
        valence = np.array([1.0, 2.0, 8.0, 2.5])
        arousal = np.array([1.0, 3.0, 8.0, 2.0])
        images = np.zeros((4, 32, 32, 3), dtype=np.uint8)

    def stuck(generator, valence, arousal, seeds):  # white dots on the same even rows and odd columns in every image
        images = np.zeros((len(seeds), 32, 32, 3), dtype=np.uint8)
        images[:, 4:28:6, 5:28:6] = 255
        return images

    monkeypatch.setattr(diagnostics, "generate", stuck)
    generator = Generator(model_config_for_size(64, "ci"))
    numbers = diagnostics.dark_dots(generator, Dark(), count=8)
    assert numbers["n_real"] == 3 and numbers["real"]["dots"] == 0  # the bright image (V 8, A 8) is not dark
    assert numbers["generated"]["top_share"] == 1.0 and numbers["generated"]["dots_per_image"] == 16
    assert numbers["generated"]["repeat_ratio"] > 10 and numbers["upsample"] == "nearest"
    numbers["real"]["repeat_ratio"] = 0.8  # no real dots here: give the reading a real-looking reference
    assert "lattice and on the same pixels" in readings.read_dot_grid(numbers)
    plt.close(diagnostics.dot_grid_figure(numbers))
    numbers["generated"]["top_share"] = 0.27
    assert "fall on every phase, but on the same pixels" in readings.read_dot_grid(numbers)
    numbers["generated"]["repeat_ratio"] = 3.5
    assert "short of a fixed pattern" in readings.read_dot_grid(numbers)
    numbers["generated"]["repeat_ratio"] = 1.1
    assert "fall anywhere" in readings.read_dot_grid(numbers)
    numbers["generated"]["dots"] = 5
    assert "barely draws" in readings.read_dot_grid(numbers)
    Dark.valence = np.full(4, 8.0)
    assert diagnostics.dark_dots(generator, Dark()) is None
    assert "no dark images" in readings.read_dot_grid(None)


def test_detail_spectra_read_soft_matched_and_grainy_generators(monkeypatch):
    """The spectra come from the images the generator draws, and the reading follows the top octave's ratio."""
    rng = np.random.default_rng(0)

    class Smooth:  # smooth random fields: little power at the finest frequencies
        valence = np.full(6, 5.0)
        arousal = np.full(6, 5.0)
        images = np.repeat((127.5 + 200 * gaussian_filter(rng.normal(0, 1, (6, 32, 32, 1)), (0, 1.5, 1.5, 0)))
                           .clip(0, 255).round().astype(np.uint8), 3, axis=-1)

    generator = Generator(model_config_for_size(64, "ci"))
    for drawn, expected in ((gaussian_filter(Smooth.images, (0, 1, 1, 0)), "softer"), (Smooth.images, "About as much"),
                            ((Smooth.images + rng.normal(0, 16, (6, 32, 32, 1))).clip(0, 255).astype(np.uint8),
                             "more fine detail")):
        monkeypatch.setattr(diagnostics, "generate", lambda generator, valence, arousal, seeds, drawn=drawn: drawn[:len(seeds)])
        numbers = diagnostics.detail_spectra(generator, Smooth(), count=100)
        assert numbers["n"] == 6 and numbers["size"] == 32 and len(numbers["real"]) == 17
        assert expected in readings.read_spectrum(numbers), numbers["top_octave_ratio"]
        assert 8 <= numbers["peak_radius"] <= 16
    plt.close(diagnostics.spectrum_figure(numbers))
    stripes = Smooth.images.astype(int) + 40 * (np.arange(32) % 2)[None, None, :, None]  # one column in two brighter
    monkeypatch.setattr(diagnostics, "generate", lambda generator, valence, arousal, seeds: stripes.clip(0, 255).astype(np.uint8))
    numbers = diagnostics.detail_spectra(generator, Smooth())
    assert numbers["peak_radius"] == 16 and numbers["peak_ratio"] > 10  # all of the stripes' power at Nyquist
    numbers.update(top_octave_ratio=1.05, peak_ratio=1.6, peak_radius=16)  # matched overall, a spike at the end
    assert "1.60x at 16 cycles" in readings.read_spectrum(numbers)
    assert "at every radius" in readings.read_spectrum({**numbers, "peak_ratio": 1.1})


def test_label_bounds_reading_counts_ratings_on_the_bounds():
    smooth = np.linspace(1.3, 8.7, 200)
    assert "No spike" in readings.read_label_bounds(smooth, smooth[::-1])
    clipped = np.clip(np.linspace(-1, 11, 200), 1, 9)
    text = readings.read_label_bounds(clipped, smooth)
    assert "68 of 200 images at exactly 1 or 9" in text and "clipping" in text


def _ablation_row(name, seed, kid, hinge, kid_std=0.01):
    return {"row": f"{name}-s{seed}", "name": name, "seed": seed, "gan_epochs": 48, "kid": kid, "kid_std": kid_std,
            "valence_spearman": 0.9, "arousal_spearman": 0.7, "d_phase3_loss": hinge}


def test_ablation_reading_compares_each_row_with_the_new_recipe_seeds():
    rows = [_ablation_row("new_recipe", 0, 0.21, 0.8), _ablation_row("new_recipe", 1, 0.20, 0.8),
            _ablation_row("first_version", 0, 0.15, 1.9), _ablation_row("ada_off", 0, 0.205, 0.7)]
    text = readings.read_ablations(rows)
    assert "new_recipe (2 seeds)" in text and "seeds 0.200 to 0.210" in text
    assert "first_version (1 seed): KID 0.150, a lower KID" in text and "The warning" in text
    assert "ada_off (1 seed): KID 0.205, a KID within two spreads" in text
    assert "The warning" not in readings.read_ablations(rows[:2] + [_ablation_row("ada_off", 0, 0.30, 0.7)])


def test_ablation_reading_says_undefined_where_a_seed_has_no_spearman():
    collapsed = {**_ablation_row("no_grad_clip", 0, 0.49, 0.2), "arousal_spearman": None}
    text = readings.read_ablations([_ablation_row("new_recipe", 0, 0.055, 0.9), collapsed])
    assert "no_grad_clip (1 seed): KID 0.490" in text and "V +0.90, A undefined" in text


def test_ablation_rows_with_the_old_learning_rate_decay_are_read_against_the_decayed_recipe():
    rows = [_ablation_row("new_recipe", 0, 0.055, 0.9), _ablation_row("lr_decay", 0, 0.10, 0.9),
            _ablation_row("no_noise_inputs_lr_decay", 0, 0.105, 0.9), _ablation_row("no_noise_inputs", 0, 0.105, 0.9)]
    text = readings.read_ablations(rows)
    assert "no_noise_inputs_lr_decay (1 seed): KID 0.105, a KID within two spreads of the lr_decay seeds" in text
    assert "no_noise_inputs (1 seed): KID 0.105, a higher KID than every new_recipe seed" in text
    without_decay_rows = readings.read_ablations([rows[0], rows[2]])
    assert "no_noise_inputs_lr_decay (1 seed): KID 0.105, a higher KID than every new_recipe seed" in without_decay_rows


def test_va_window_reading_names_the_best_and_worst_window():
    windows = {"levels": [1.0, 5.0, 9.0], "kid_mean": [[None, 0.1, None], [0.3, 0.2, None], [None, None, None]],
               "kid_std": [[None, 0.01, None], [0.02, 0.01, None], [None, None, None]],
               "n_real": [[2, 20, 1], [15, 40, 3], [0, 4, 1]], "min_images": 10}
    text = readings.read_va_windows(windows)
    assert "3 of 9 windows" in text and "lowest at V 5, A 1: 0.100" in text and "highest at V 1, A 5: 0.300" in text
    assert "measurably better" in text
    empty = dict(windows, kid_mean=[[None] * 3] * 3, kid_std=[[None] * 3] * 3)
    assert "No window" in readings.read_va_windows(empty)


def test_adversarial_reading_says_which_side_is_beyond_its_margin():
    text = readings.read_adversarial_game(_history(real=1.3, fake=-0.2))
    assert "real images above +1" in text and "inside the margins" not in text
    assert "D wins outright" in text


def test_learning_rates_are_written_with_the_digits_that_tell_them_apart():
    from helpers.config import GANTrainConfig

    assert [readings.rate_text(rate) for rate in (2e-4, 1.2e-3, 1e-3, 8e-4)] == ["2e-4", "1.2e-3", "1e-3", "8e-4"]
    text = readings.read_ttur(GANTrainConfig(g_learning_rate=4e-4, d_learning_rate=1.2e-3))
    assert "G learns at 4e-4 and D at 1.2e-3: D at 3x G's rate" in text  # {1.2e-3:.0e} had printed 1e-03
    assert "the same rate as G" in readings.read_ttur(GANTrainConfig(g_learning_rate=1e-4, d_learning_rate=1e-4))
