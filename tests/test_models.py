import pytest
import torch
import torch.nn.functional as F

from helpers.config import model_config_for_size
from helpers.models.checkpoint import CheckpointError, load_generator, load_model, save_model
from helpers.models.discriminator import Discriminator, minibatch_stddev
from helpers.models.encoder import VAE, Encoder
from helpers.models.eru import AttentionERU, FiLMERU
from helpers.models.generator import Generator, with_upsample
from helpers.models.upsample import UpsampleConv3x3


@pytest.mark.parametrize("size", [64, 128])
def test_shapes(size):
    config = model_config_for_size(size)
    z, va = torch.randn(4, config.latent_dim), torch.rand(4, 2)
    images = Generator(config)(z, va)
    assert images.shape == (4, 3, size, size)
    mu, logvar = Encoder(config)(images)
    assert mu.shape == logvar.shape == (4, config.latent_dim)
    score, predicted_va = Discriminator(config)(images, va)
    assert score.shape == (4,) and predicted_va.shape == (4, 2)
    assert config.stages == {64: 3, 128: 4}[size]
    assert len(Generator(config).erus()) == config.stages + 1  # one per upsampling stage + the 4x4 block
    assert len(Generator(model_config_for_size(size, eru_at_start=False)).erus()) == config.stages


@pytest.mark.parametrize("blocks, spectral_norm", [("residual", "head"), ("residual", "all"), ("plain", "all"), ("plain", "none")])
def test_discriminator_designs_put_spectral_norm_where_asked(blocks, spectral_norm):
    config = model_config_for_size(64, d_blocks=blocks, d_spectral_norm=spectral_norm, d_channels=(8, 8, 16, 16), projection=False,
                                   d_full_resolution_channels=0)
    discriminator = Discriminator(config)
    normalised = {name.split(".parametrizations")[0] for name, _ in discriminator.named_parameters() if "parametrizations" in name}
    assert ("adversarial" in normalised and "va_head" in normalised) == (spectral_norm != "none")
    assert any(name.startswith("down_path") for name in normalised) == (spectral_norm == "all")
    score, _ = discriminator(torch.randn(4, 3, 64, 64))
    assert score.shape == (4,)


def test_full_resolution_discriminator_start_sees_single_pixels_non_linearly():
    """With d_full_resolution_channels, D's first conv runs on the image itself, not on its 2x2 blocks; without, on the
    blocks (space-to-depth), and one more residual block takes it to half size."""
    seen = {}
    for width in (0, 8):
        config = model_config_for_size(64, d_channels=(8, 8, 16, 16), projection=False, d_full_resolution_channels=width)
        discriminator = Discriminator(config)
        hook = discriminator.down_path.from_rgb.register_forward_hook(lambda module, args, out: seen.update(shape=out.shape))
        score, va = discriminator(torch.randn(4, 3, 64, 64))
        hook.remove()
        assert score.shape == (4,) and va.shape == (4, 2)
        assert seen["shape"] == ((4, 8, 64, 64) if width else (4, 8, 32, 32))
        assert len(discriminator.down_path.blocks) == config.stages + (1 if width else 0)
    with pytest.raises(ValueError, match="d_blocks='residual'"):
        model_config_for_size(64, d_blocks="plain", d_full_resolution_channels=8)
    with pytest.raises(ValueError, match="0 or more"):
        model_config_for_size(64, d_full_resolution_channels=-1)


def test_subpixel_rgb_starts_as_a_nearest_upsampled_conv_and_can_then_draw_each_pixel():
    from helpers.models.generator import SubPixelRGB

    layer = SubPixelRGB(6)
    x = torch.randn(2, 6, 5, 5)
    one_kernel = F.conv2d(x, layer.conv.weight[::4], layer.conv.bias[::4], padding=1)
    assert torch.equal(layer(x), F.interpolate(one_kernel, scale_factor=2, mode="nearest"))  # ICNR: no blocks at init
    with torch.no_grad():
        layer.conv.weight[1].add_(torch.randn_like(layer.conv.weight[1]))  # one sub-pixel kernel learns its own
    out = layer(x)
    assert not torch.equal(out[:, 0, 0::2, 1::2], out[:, 0, 0::2, 0::2])  # neighbouring pixels now differ


@pytest.mark.parametrize("size", [64, 128])
def test_noise_inputs_start_silent_and_are_part_of_what_a_seed_fixes(size):
    from helpers.generate import generate, starting_points

    config = model_config_for_size(size, full_resolution_channels=8, noise_inputs=True)
    assert config.noise_sizes == tuple(8 * 2 ** i for i in range(config.stages)) + (size,)
    assert config.input_dim == config.latent_dim + sum(s * s for s in config.noise_sizes)
    generator = Generator(config).eval()
    z, va = torch.randn(3, config.input_dim), torch.rand(3, 2)
    # Strength 0 at the start: a VAE warm start draws the same image with or without noise.
    assert torch.equal(generator(z, va), generator(z[:, :config.latent_dim], va))
    with torch.no_grad():
        for parameter_name, parameter in generator.named_parameters():
            if parameter_name.endswith("strength"):
                parameter.fill_(0.5)
    other_noise = torch.cat([z[:, :config.latent_dim], torch.randn(3, config.input_dim - config.latent_dim)], 1)
    assert not torch.allclose(generator(z, va), generator(other_noise, va))  # the noise now draws detail
    assert starting_points(generator, [7]).shape == (1, config.input_dim)  # generate() draws each seed's noise
    alone = generate(generator, 5.0, 5.0, [7])
    in_batch = generate(generator, [5.0, 5.0, 5.0], [5.0, 5.0, 5.0], [3, 7, 9])
    assert abs(alone[0].astype(int) - in_batch[1].astype(int)).max() <= 1  # a seed fixes the noise too
    with pytest.raises(ValueError, match=f"takes {config.latent_dim} .* or {config.input_dim}"):
        generator(torch.randn(1, config.latent_dim + 5), va[:1])


def test_full_resolution_stage_draws_each_output_pixel_from_its_own_features():
    config = model_config_for_size(64, full_resolution_channels=8)
    generator = Generator(config).eval()
    assert tuple(generator.to_rgb.weight.shape) == (3, 8, 3, 3)  # a plain 3x3 conv at 64x64
    features = torch.randn(1, 8, 64, 64, requires_grad=True)
    out = generator.to_rgb(features)
    out[0, 0, 10, 11].backward()
    touched = features.grad[0].abs().sum(0).nonzero()
    assert touched[:, 0].tolist() == [9] * 3 + [10] * 3 + [11] * 3  # a 3x3 window around the output pixel
    assert Generator(model_config_for_size(64))(torch.randn(2, 128), torch.rand(2, 2)).shape == (2, 3, 64, 64)


@pytest.mark.parametrize("channels_last", [True, False])
def test_every_generator_feature_map_has_the_layout_of_its_weights(channels_last):
    """A conv whose input and weight layouts differ converts one of them, and the gradient, on every call
    (benchmarks/README.md): training converts the models to channels-last, a loaded generator stays NCHW."""
    generator = Generator(model_config_for_size(64, "quick"))
    if channels_last:
        generator = generator.to(memory_format=torch.channels_last)
    layouts = []

    def record(module, inputs, output):
        if output.dim() == 4:
            is_channels_last = output.is_contiguous(memory_format=torch.channels_last) and not output.is_contiguous()
            layouts.append((type(module).__name__, is_channels_last))

    for module in generator.modules():
        if isinstance(module, (torch.nn.Conv2d, UpsampleConv3x3, FiLMERU)):
            module.register_forward_hook(record)
    generator(torch.randn(4, generator.config.input_dim), torch.rand(4, 2))
    assert len(layouts) >= 9 and all(is_channels_last == channels_last for _, is_channels_last in layouts), layouts


def test_under_bf16_autocast_the_erus_keep_their_features_in_bf16():
    """A fp32 gamma or beta from the VA path would turn the feature map back to fp32 after each ERU: element-wise
    ops on twice the bytes, and a cast before the next conv."""
    generator = Generator(model_config_for_size(64, "quick"))
    dtypes = []
    for eru in generator.erus():
        eru.register_forward_hook(lambda module, inputs, output: dtypes.append(output.dtype))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        generator(torch.randn(2, generator.config.input_dim), torch.rand(2, 2))
    assert dtypes == [torch.bfloat16] * len(generator.erus())


def test_rgb_skips_add_each_stages_image_to_the_output():
    config = model_config_for_size(64, "ci", rgb_skips=True)
    generator = Generator(config).eval()
    z, va = torch.randn(2, config.input_dim), torch.rand(2, 2)
    with torch.no_grad():
        with_skips = generator(z, va)
        for skip in generator.skip_rgbs[:-1]:  # only the last stage's skip image left
            skip.weight.zero_()
            skip.bias.zero_()
        generator.skip_rgbs[-1].weight.zero_()
        generator.skip_rgbs[-1].bias.fill_(0.3)  # a flat image at 32x32
        flat = generator(z, va)
        for skip in generator.skip_rgbs:
            skip.bias.zero_()
        none = generator(z, va)
    assert not torch.allclose(with_skips, none)  # the stages' images reach the output
    assert torch.allclose(torch.atanh(flat.clamp(-0.999, 0.999)) - torch.atanh(none.clamp(-0.999, 0.999)),
                          torch.full_like(flat, 0.3), atol=1e-3)  # a flat skip image adds the same everywhere
    assert Generator(model_config_for_size(64, "ci")).skip_rgbs is None


def test_film_eru_at_base_zero_is_the_multiplier_formula():
    eru = FiLMERU(5)  # the MLPs' last layers start at zero: every learned base is 0
    va = torch.tensor([[0.0, 1.0], [0.25, 0.5], [1.0, 1.0]])
    gamma, beta = eru.modulation(va)
    valence, arousal = va[:, :1], va[:, 1:]
    expected_gamma = 0.5 * ((0.8 + 0.4 * valence) + (0.8 + 0.4 * arousal))  # the mean of the two multipliers
    assert torch.equal(gamma, expected_gamma.expand(3, 5)) and torch.equal(beta, torch.zeros(3, 5))
    x = torch.randn(3, 5, 6, 6)
    by_hand = x + F.leaky_relu(expected_gamma[:, :, None, None] * eru.conv(x), 0.2)
    assert torch.allclose(eru(x, va), by_hand, atol=1e-6)


def test_film_eru_gamma_stays_in_range_for_any_input():
    eru = FiLMERU(8)
    with torch.no_grad():  # push the MLPs to extremes
        for mlp in (eru.valence_gamma, eru.arousal_gamma, eru.valence_beta, eru.arousal_beta):
            mlp[2].weight.fill_(1e4)
            mlp[2].bias.fill_(-1e4)
    for va in (torch.zeros(3, 2), torch.ones(3, 2), torch.rand(64, 2)):
        for sign in (1.0, -1.0):
            with torch.no_grad():
                for mlp in (eru.valence_gamma, eru.arousal_gamma):
                    mlp[2].weight.mul_(sign)
            gamma, beta = eru.modulation(va)
            assert gamma.min() >= 0.4 - 1e-6 and gamma.max() <= 1.8 + 1e-6
            assert beta.abs().max() <= 2.0 + 1e-6
    x = torch.randn(3, 8, 4, 4) * 1e6  # extreme feature magnitudes: gamma does not depend on them
    eru.record_stats = True
    out = eru(x, torch.rand(3, 2))
    assert torch.isfinite(out).all()
    assert 0.4 - 1e-6 <= eru.last_stats["gamma_min"] <= eru.last_stats["gamma_max"] <= 1.8 + 1e-6


def test_film_eru_records_stats_only_when_asked():
    eru = FiLMERU(4)
    eru(torch.randn(2, 4, 4, 4), torch.rand(2, 2))
    assert eru.last_stats is None
    generator = Generator(model_config_for_size(64))
    stats = generator.eru_stats(torch.randn(2, 128), torch.rand(2, 2))
    assert len(stats) == len(generator.erus()) == 4 and {"gamma_min", "gamma_max", "gamma_mean", "beta_min"} <= set(stats[0])
    assert all(eru.last_stats is not None and not eru.record_stats for eru in generator.erus())


def test_attention_eru_shape_and_identity_start():
    eru = AttentionERU(6)
    x = torch.randn(2, 6, 8, 8)
    out = eru(x, torch.rand(2, 2))
    assert out.shape == x.shape
    assert torch.allclose(out, x)  # the fusing conv starts at zero: the unit starts as the identity
    generator = Generator(model_config_for_size(64, eru="attention"))
    assert generator(torch.randn(2, 128), torch.rand(2, 2)).shape == (2, 3, 64, 64)


def test_fast_upsample_conv_equals_nearest_upsample_then_conv():
    layer = UpsampleConv3x3(5, 7)
    x = torch.randn(2, 5, 6, 4, requires_grad=True)
    reference = F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), layer.weight, layer.bias, padding=1)
    assert torch.allclose(layer(x), reference, atol=1e-5)
    grad_fast = torch.autograd.grad(layer(x).square().sum(), [x, layer.weight])
    grad_ref = torch.autograd.grad(reference.square().sum(), [x, layer.weight])
    for a, b in zip(grad_fast, grad_ref):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-3)


def test_bilinear_upsample_conv_equals_bilinear_upsample_then_conv_away_from_the_edge():
    layer = UpsampleConv3x3(5, 7, bilinear=True)
    x = torch.randn(2, 5, 8, 6)
    up = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    reference = F.conv2d(up, layer.weight, layer.bias, padding=1)
    out = layer(x)
    assert out.shape == reference.shape == (2, 7, 16, 12)
    # Two pixels in from the edge neither the conv's zero padding nor the filter's repeated border reaches.
    assert torch.allclose(out[..., 2:-2, 2:-2], reference[..., 2:-2, 2:-2], atol=1e-5)
    nearest = UpsampleConv3x3(5, 7)
    nearest.load_state_dict(layer.state_dict())  # the same parameters: the option adds no weights
    assert not torch.allclose(nearest(x)[..., 2:-2, 2:-2], reference[..., 2:-2, 2:-2], atol=1e-3)


def test_generator_upsample_setting_reaches_every_upsampling_and_old_checkpoints_load_as_nearest(tmp_path):
    config = model_config_for_size(64, "ci", upsample="bilinear")
    generator = Generator(config)
    layers = [m for m in generator.modules() if isinstance(m, UpsampleConv3x3)]
    assert len(layers) == config.stages + 1 and all(layer.bilinear for layer in layers)
    save_model(generator, tmp_path / "g.pth", "generator")
    loaded, _ = load_model(tmp_path / "g.pth", "generator")
    assert loaded.config.upsample == "bilinear"
    data = torch.load(tmp_path / "g.pth", weights_only=True)
    del data["model_config"]["upsample"]  # a checkpoint from before the setting existed
    torch.save(data, tmp_path / "old.pth")
    old, _ = load_model(tmp_path / "old.pth", "generator")
    assert not any(m.bilinear for m in old.modules() if isinstance(m, UpsampleConv3x3))
    last = Generator(model_config_for_size(64, "ci", upsample="bilinear_last"))
    assert [stage.up_conv.bilinear for stage in last.stages] == [False] * 3 and last.to_full_resolution.bilinear
    without_full_resolution = Generator(model_config_for_size(64, "ci", upsample="bilinear_last", full_resolution_channels=0))
    assert without_full_resolution.to_rgb.bilinear
    with pytest.raises(ValueError, match="upsample"):
        model_config_for_size(64, "ci", upsample="bicubic")


def test_a_generator_with_another_upsampling_keeps_every_weight_and_draws_as_one_built_that_way():
    torch.manual_seed(0)
    nearest = Generator(model_config_for_size(64, "ci")).to(memory_format=torch.channels_last).eval()
    softer = with_upsample(nearest, "bilinear_last")
    assert softer.config.upsample == "bilinear_last" and nearest.config.upsample == "nearest"
    assert not softer.training and softer._layout() == torch.channels_last
    for name, value in nearest.state_dict().items():
        assert torch.equal(value, softer.state_dict()[name]), name
    built = Generator(model_config_for_size(64, "ci", upsample="bilinear_last")).eval()
    built.load_state_dict(nearest.state_dict())
    z, va = torch.randn(3, nearest.config.input_dim), torch.rand(3, 2)
    with torch.no_grad():
        assert torch.allclose(softer(z, va), built(z, va), atol=1e-5)
        assert (softer(z, va) - nearest(z, va)).abs().max() > 1e-3  # the last upsampling really changed


def test_minibatch_stddev_groups_consecutive_samples():
    reals, fakes = torch.zeros(4, 2, 2, 2), torch.randn(4, 2, 2, 2)
    out = minibatch_stddev(torch.cat([reals, fakes]), group_size=4)
    assert out.shape == (8, 3, 2, 2)
    assert out[:4, 2].max() < 1e-3  # identical reals: their group's std is ~0, untouched by the fakes
    assert out[4:, 2].min() > 0.1


def test_checkpoint_round_trip_gives_identical_outputs(tmp_path):
    config = model_config_for_size(64)
    generator = Generator(config).eval()
    path = save_model(generator, tmp_path / "g.pth", "generator")
    loaded = load_generator(path)
    assert all(torch.equal(loaded.state_dict()[name], value) for name, value in generator.state_dict().items())
    # loaded for inference in channels-last layout (faster on a CPU): the same function, other kernels
    assert loaded.stages[0].up_conv.weight.is_contiguous(memory_format=torch.channels_last)
    z, va = torch.randn(3, 128), torch.rand(3, 2)
    with torch.no_grad():
        assert torch.allclose(generator(z, va), loaded(z, va), atol=1e-5)
    data = torch.load(path, weights_only=True)  # plain data: loads without pickled code
    assert data["kind"] == "generator" and data["model_config"]["image_size"] == 64


def test_vae_checkpoint_serves_as_generator(tmp_path):
    vae = VAE(model_config_for_size(64))
    path = save_model(vae, tmp_path / "vae.pth", "vae")
    generator = load_generator(path)
    assert isinstance(generator, Generator)


def test_mismatched_checkpoints_fail_with_one_clear_sentence(tmp_path):
    path = save_model(Generator(model_config_for_size(128)), tmp_path / "g128.pth", "generator")
    with pytest.raises(CheckpointError, match=r"image_size=128 \(expected 64\)"):
        load_model(path, "generator", expected_config=model_config_for_size(64))
    with pytest.raises(CheckpointError, match="holds a generator checkpoint, but a discriminator is needed"):
        load_model(path, "discriminator")
    torch.save({"weights": 1}, tmp_path / "other.pth")
    with pytest.raises(CheckpointError, match="not a va-landscapes checkpoint"):
        load_generator(tmp_path / "other.pth")
    (tmp_path / "junk.pth").write_bytes(b"junk")
    with pytest.raises(CheckpointError, match="junk.pth is not a checkpoint"):
        load_generator(tmp_path / "junk.pth")
    data = torch.load(path, weights_only=True)
    data["state_dict"].pop(next(key for key in data["state_dict"] if key.startswith("to_rgb.")))
    torch.save(data, tmp_path / "broken.pth")
    with pytest.raises(CheckpointError, match="weights do not match"):
        load_generator(tmp_path / "broken.pth")


def test_a_few_vae_steps_lower_the_loss(tiny_landscapes):
    from helpers.image_tensors import to_tensor
    from helpers.va import va_unit_tensor
    from helpers.training.vae import vae_losses

    train, _ = tiny_landscapes
    vae = VAE(model_config_for_size(64))
    optimizer = torch.optim.Adam(vae.parameters(), lr=1e-3)
    images, va = to_tensor(train.images[:16]), va_unit_tensor(train.valence[:16], train.arousal[:16])
    losses = []
    for _ in range(15):
        loss, _, _ = vae_losses(vae, images, va, beta=0.1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_checkpoints_from_before_a_setting_existed_load_as_the_first_version(tmp_path):
    from helpers.config import FIRST_VERSION_MODEL

    old = Generator(model_config_for_size(64, **FIRST_VERSION_MODEL))
    path = save_model(old, tmp_path / "old.pth", "generator")
    data = torch.load(path, weights_only=True)
    for key in ("eru_at_start", "rgb_output", "d_blocks", "d_spectral_norm", "encoder_channels",
                "full_resolution_channels", "noise_inputs"):
        del data["model_config"][key]  # as written by the first version
    torch.save(data, path)
    loaded = load_generator(path)
    assert not loaded.config.eru_at_start and loaded.config.rgb_output == "tied"
    z, va = torch.randn(2, 128), torch.rand(2, 2)
    assert torch.allclose(loaded(z, va), old.eval()(z, va), atol=1e-5)


def test_exported_generator_is_fp16_on_disk_and_loads_as_the_same_model(tmp_path):
    from helpers.models.checkpoint import export_generator

    generator = Generator(model_config_for_size(64)).eval()
    full = save_model(generator, tmp_path / "g.pth", "generator")
    half = export_generator(full, tmp_path / "reference" / "generator.pth", {"note": "test"})
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded = load_generator(half)
    assert next(loaded.parameters()).dtype == torch.float32
    z, va = torch.randn(2, 128), torch.rand(2, 2)
    assert torch.allclose(loaded(z, va), generator(z, va), atol=2e-2)
    assert torch.load(half, weights_only=True)["extra"]["fp16"] is True


def test_reference_preset_is_the_quick_model_with_ds_full_resolution_start_and_the_shipped_model_is_it():
    from dataclasses import replace

    from helpers.notebook import REFERENCE_GENERATOR

    quick, reference = model_config_for_size(64, "quick"), model_config_for_size(64, "reference")
    assert (quick.d_full_resolution_channels, reference.d_full_resolution_channels) == (0, 16)
    assert replace(reference, d_full_resolution_channels=0) == quick
    assert model_config_for_size(128, "reference") == model_config_for_size(128, "quick")
    assert load_generator(REFERENCE_GENERATOR).config == reference  # what scripts/train_reference.sh trains


def test_diagnostics_show_the_users_model_else_the_reference(tmp_path, monkeypatch):
    from helpers import notebook

    session = notebook.Session("ci", 64, tmp_path / "images", weights=tmp_path / "ci")
    (tmp_path / "ci").mkdir()
    reference = save_model(Generator(model_config_for_size(64, "ci")), tmp_path / "reference" / "generator.pth", "generator")
    monkeypatch.setattr(notebook, "REFERENCE_GENERATOR", reference)
    path, sentence = notebook.generator_to_show(session)
    assert path == reference and "reference" in sentence
    save_model(Generator(model_config_for_size(64, "ci")), session.generator_path, "generator")
    path, sentence = notebook.generator_to_show(session)
    assert path == session.generator_path and "your own `ci` model" in sentence


@pytest.mark.parametrize("eru_at_start", [True, False])
def test_inference_computes_every_erus_modulation_in_one_fused_pass(monkeypatch, eru_at_start):
    from helpers.models.eru import FiLMERU

    generator = Generator(model_config_for_size(64, "ci", eru_at_start=eru_at_start)).eval()
    with torch.no_grad():
        for unit in generator.erus():  # trained-looking MLPs (the second layers start at zero)
            for parameter in unit.parameters():
                parameter.normal_(std=0.5)
    z, va = torch.randn(3, generator.config.input_dim), torch.rand(3, 2)
    per_unit = generator(z, va)  # with a gradient: each ERU computes its own, so training reaches every MLP
    assert per_unit.requires_grad

    def refuse(self, va):
        raise AssertionError("inference went through the per-unit modulation")

    with monkeypatch.context() as patch:
        patch.setattr(FiLMERU, "modulation", refuse)
        with torch.no_grad():
            fused = generator(z, va)
            assert torch.allclose(fused, per_unit, atol=1e-4)
            generator.stages[-1].eru.arousal_beta[2].bias.add_(0.3)  # an update: the fused weights must follow
            moved = generator(z, va)
    assert not torch.allclose(moved, fused, atol=1e-3)
    assert torch.allclose(moved, generator(z, va), atol=1e-4)
    replacement = FiLMERU(generator.stages[0].eru.conv.out_channels)  # a unit replaced: the cache must follow
    with torch.no_grad():
        for parameter in replacement.parameters():
            parameter.normal_(std=0.5)
    generator.stages[0].eru = replacement
    with torch.no_grad():
        replaced = generator(z, va)
    assert not torch.allclose(replaced, moved, atol=1e-3)
    assert torch.allclose(replaced, generator(z, va), atol=1e-4)
