import json
import math

import numpy as np
import pytest
import torch

from helpers.augment import NON_LEAKING_P, AdaptiveAugment, _resample, _translate, _zoom_and_rotate
from helpers.config import model_config_for_size, preset
from helpers.losses import LeCamAnchors, d_hinge_loss, dot_repeat_loss, g_hinge_loss, va_sensitivity_loss, r1_penalty, va_loss
from helpers.training.ema import ema_decay, make_ema, update_ema
from helpers.training.schedule import PhaseWeights, phase_weights


def test_hinge_losses_on_hand_made_scores():
    real = torch.tensor([2.0, 0.5, -1.0])
    fake = torch.tensor([-2.0, 0.0, 1.0])
    # real: max(0, 1 - s) = 0, 0.5, 2 -> mean 0.8333; fake: max(0, 1 + s) = 0, 1, 2 -> mean 1
    assert d_hinge_loss(real, fake).item() == pytest.approx(2.5 / 3 + 1.0)
    assert g_hinge_loss(fake).item() == pytest.approx(1 / 3)
    assert d_hinge_loss(torch.full((4,), 5.0), torch.full((4,), -5.0)).item() == 0.0


def test_va_loss_skips_masked_samples():
    predicted = torch.tensor([[0.5, 0.5], [1.0, 0.0]])
    target = torch.tensor([[0.5, 0.5], [0.0, 1.0]])
    assert va_loss(predicted, target).item() == pytest.approx(0.5)
    assert va_loss(predicted, target, keep=torch.tensor([1.0, 0.0])).item() == 0.0


def test_normalised_va_loss_scores_a_mean_answer_about_1_whatever_the_label_spread():
    generator = torch.Generator().manual_seed(0)
    for scale in (0.05, 0.2):  # narrow labels (like crowd averages) and wide ones
        target = 0.5 + scale * torch.randn(4096, 2, generator=generator)
        mean_answer = target.mean(0).expand_as(target)
        spread = target.std(0)
        assert va_loss(mean_answer, target).item() == pytest.approx(scale ** 2, rel=0.1)  # raw: shrinks with the spread
        assert va_loss(mean_answer, target, spread=spread).item() == pytest.approx(1.0, rel=0.01)
        assert va_loss(target, target, spread=spread).item() == 0.0


def test_r1_is_zero_for_a_constant_discriminator_and_positive_otherwise():
    x = torch.randn(4, 3, 8, 8, requires_grad=True)
    constant = torch.zeros(4) + 0.0 * x.sum()
    assert r1_penalty(constant, x).item() == 0.0
    linear = (x * 2).flatten(1).sum(1)
    assert r1_penalty(linear, x).item() == pytest.approx(4.0 * 3 * 8 * 8)


def test_lecam_pulls_each_sides_scores_towards_the_other_sides_moving_average():
    anchors = LeCamAnchors()
    real, fake = torch.tensor([1.0, 3.0], requires_grad=True), torch.tensor([-2.0, -2.0], requires_grad=True)
    penalty = anchors.penalty(real, fake)  # anchors at 0: the scores' own mean squares
    assert penalty.item() == pytest.approx((1 + 9) / 2 + 4)
    penalty.backward()
    assert real.grad.tolist() == pytest.approx([1.0, 3.0])  # d/dx mean((x - a_fake)^2) = 2 (x - 0) / 2
    assert float(anchors.real) == pytest.approx(0.01 * 2.0) and float(anchors.fake) == pytest.approx(0.01 * -2.0)
    for _ in range(2000):  # the anchors settle on each side's mean score
        penalty = anchors.penalty(torch.tensor([1.0]), torch.tensor([-1.0]))
    assert float(anchors.real) == pytest.approx(1.0, abs=1e-4) and float(anchors.fake) == pytest.approx(-1.0, abs=1e-4)
    assert penalty.item() == pytest.approx(8.0, abs=1e-3)  # (1 - (-1))^2 + (-1 - 1)^2
    restored = LeCamAnchors()
    restored.load_state_dict(anchors.state_dict())
    assert float(restored.real) == pytest.approx(1.0, abs=1e-4) and float(restored.fake) == pytest.approx(-1.0, abs=1e-4)


def test_va_sensitivity_loss_penalises_look_alikes_with_different_va():
    same = torch.zeros(2, 3, 16, 16)
    va_a, va_b = torch.tensor([[0.0, 0.0], [0.5, 0.5]]), torch.tensor([[1.0, 1.0], [0.5, 0.5]])
    penalised = va_sensitivity_loss(same, same, va_a, va_b, margin=0.4)
    assert penalised.item() == pytest.approx(0.4 * math.sqrt(2) / 2)  # only the first pair differs in VA
    different = torch.stack([torch.ones(3, 16, 16), torch.zeros(3, 16, 16)])
    assert va_sensitivity_loss(different, -different, va_a, va_b).item() == 0.0


def _dotted_nights(rows, columns, ramp: float = 0.0, n: int = 16, dots: int = 6) -> torch.Tensor:
    """Dark noisy (n, 3, 32, 32) images in [-1, 1] with ``dots`` white pixels each, drawn from the given rows and columns;
    ``ramp``: every image also brightens from top to bottom by that much (regional structure all images share)."""
    generator = torch.Generator().manual_seed(0)
    images = -0.9 + 0.05 * torch.rand(n, 3, 32, 32, generator=generator) + torch.linspace(0, ramp, 32).view(1, 1, 32, 1)
    for index in range(n):
        row = rows[torch.randint(len(rows), (dots,), generator=generator)]
        column = columns[torch.randint(len(columns), (dots,), generator=generator)]
        images[index, :, row, column] = 1.0
    return images


def test_dot_repeat_loss_scores_dots_on_the_same_pixels_not_dots_anywhere():
    inside = torch.arange(2, 30)
    anywhere = dot_repeat_loss(_dotted_nights(inside, inside)).item()
    on_a_ramp = dot_repeat_loss(_dotted_nights(inside, inside, ramp=1.2)).item()  # sky above, ground below: not dots
    on_a_lattice = dot_repeat_loss(_dotted_nights(torch.arange(2, 30, 2), torch.arange(3, 30, 4))).item()
    stuck = -0.9 * torch.ones(16, 3, 32, 32)
    stuck[:, :, [5, 9, 13, 17, 21, 25], [6, 10, 14, 18, 22, 26]] = 1.0  # the same six stars in every sky
    # Each shared star adds about its detail squared, (1.9 * 8/9 * 48/49)^2 = 2.7, for each pair of images.
    assert 6 * 2.5 < dot_repeat_loss(stuck).item() < 6 * 3.0
    assert abs(anywhere) < 0.02 and abs(on_a_ramp) < 0.02  # as many dots, placed independently: about 0
    assert on_a_lattice > 0.3  # a lattice of 14 x 7 places: pairs share a dot now and then
    assert dot_repeat_loss(stuck[:1]).item() == 0.0  # one image: no pairs
    # Faint texture on the same pixels in every image counts at contrast 0 and not at 0.3, which bright stars pass.
    faint = -0.9 * torch.ones(16, 3, 32, 32)
    faint[:, :, 4:28:3, 4:28:3] = -0.7
    assert dot_repeat_loss(faint).item() > 0.01 and dot_repeat_loss(faint, contrast=0.3).item() == 0.0
    assert dot_repeat_loss(stuck, contrast=0.3).item() > 6 * 1.5
    stuck.requires_grad_(True)
    dot_repeat_loss(stuck).backward()
    assert stuck.grad[0, 0, 5, 6] > 0  # descending dims the shared stars


def test_schedule_weights_at_the_phase_boundaries():
    assert phase_weights(0.0) == phase_weights(0.0299)
    start = phase_weights(0.0)
    assert (start.phase, start.adversarial, start.reconstruction, start.lpips) == (1, 0.0, 1.0, 0.0)
    assert not start.uses_discriminator
    ramp_start, ramp_mid = phase_weights(0.03), phase_weights(0.045)
    assert ramp_start.phase == 2 and ramp_start.adversarial == pytest.approx(0.0) and ramp_start.reconstruction == pytest.approx(1.0)
    assert ramp_mid.adversarial == pytest.approx(0.25) and ramp_mid.reconstruction == pytest.approx(0.6)
    full = phase_weights(0.06)
    assert (full.phase, full.adversarial, full.reconstruction) == (3, 1.0, 0.0)
    assert phase_weights(0.2).lpips == 0.0
    assert phase_weights(0.35).lpips == pytest.approx(0.0025)
    assert phase_weights(0.5).lpips == pytest.approx(0.005) == phase_weights(1.0).lpips


def test_ema_math():
    assert ema_decay(0, 0.999) == pytest.approx(0.1)
    assert ema_decay(10**6, 0.999) == 0.999
    model = torch.nn.Linear(2, 1)
    ema = make_ema(model)
    with torch.no_grad():
        model.weight.fill_(1.0)
        ema.weight.fill_(0.0)
    beta = update_ema(ema, model, step=10**6, decay=0.9)
    assert beta == 0.9
    assert torch.allclose(ema.weight, torch.full_like(ema.weight, 0.1))
    assert not any(p.requires_grad for p in ema.parameters())


def test_ada_probability_moves_towards_the_target():
    augment = AdaptiveAugment(target=0.6, speed_images=100, interval=1)
    for _ in range(5):
        augment.observe(torch.ones(10), batch_size=10)  # D sure of every real: overfitting
    assert augment.p == pytest.approx(0.5)
    for _ in range(3):
        augment.observe(-torch.ones(10), batch_size=10)
    assert augment.p == pytest.approx(0.2)
    for _ in range(10):
        augment.observe(-torch.ones(10), batch_size=10)
    assert augment.p == 0.0


def test_ada_p_never_exceeds_the_non_leaking_limit():
    augment = AdaptiveAugment(target=0.6, speed_images=100, interval=1)
    for _ in range(50):  # D stays overconfident on reals for many updates
        augment.observe(torch.ones(10), batch_size=10)
        assert augment.p <= NON_LEAKING_P
    assert augment.p == NON_LEAKING_P == 0.8


@pytest.mark.parametrize("lecam_weight, overfitting_sign", [(0.0, 1.0), (0.3, 0.0)])
def test_with_lecam_ada_reads_the_reals_sign_about_the_anchors_midpoint(lecam_weight, overfitting_sign):
    """LeCam leaves a shift of all D's scores free. A D that scores every image near +0.8, reals as often above fakes as
    below them, is at chance: about the anchors' midpoint r_t is 0, while the raw sign reads it as overfitting (1)."""
    from torch import nn

    from helpers.losses import GANLoss

    class ShiftedD(nn.Module):
        def __init__(self):
            super().__init__()
            self.shift = nn.Parameter(torch.zeros(()))

        def forward(self, images, va):
            reals = torch.tensor([1.0, 0.6]).repeat(len(images) // 4)  # about the fakes' 0.8, half above, half below
            scores = torch.cat([reals, torch.full((len(images) // 2,), 0.8)])
            return scores + self.shift, torch.full((len(images), 2), 0.5) + self.shift

    augment = AdaptiveAugment(speed_images=10**9, interval=1)  # p stays 0: the images pass unchanged
    loss = GANLoss(None, ShiftedD(), augment=augment, lecam_weight=lecam_weight)
    images, va = torch.zeros(4, 3, 8, 8), torch.full((4, 2), 0.5)
    for _ in range(300):  # the anchors settle near 0.8 on each side
        loss.d_main(images, va, images, va)
    assert augment.last_rt == pytest.approx(overfitting_sign)


def test_ada_reads_the_scores_only_once_per_interval():
    augment = AdaptiveAugment(speed_images=100, interval=4)
    for _ in range(3):  # meta tensors hold no values: reading one on the host (a CUDA sync) would raise
        augment.observe(torch.ones(10, device="meta"), batch_size=10)
    assert augment.p == 0.0 and math.isnan(augment.last_rt)


def test_ada_augments_only_with_probability_and_marks_va_changes():
    images = torch.rand(64, 3, 16, 16) * 2 - 1
    off = AdaptiveAugment(p=0.0, colour=True)
    out, changed = off(images)
    assert torch.equal(out, images) and not changed.any()
    on = AdaptiveAugment(p=1.0, colour=True)
    out, changed = on(images, torch.Generator().manual_seed(0))
    assert out.shape == images.shape and changed.all()
    assert not torch.equal(out, images)
    translation_only = AdaptiveAugment(p=1.0, colour=False, cutout=False)
    out, changed = translation_only(images, torch.Generator().manual_seed(0))
    assert not torch.equal(out, images) and not changed.any()  # a shift keeps an image's VA


def test_cutout_is_marked_as_a_va_change():
    images = torch.rand(64, 3, 16, 16) * 2 - 1
    cutout_only = AdaptiveAugment(p=0.5, translation=False, colour=False, cutout=True)
    out, va_changed = cutout_only(images, torch.Generator().manual_seed(0))
    cut = (out != images).flatten(1).any(1)
    assert 0 < cut.sum() < 64 and torch.equal(va_changed, cut)


def test_xflip_mirrors_about_half_the_images_whatever_p_and_keeps_their_va():
    images = torch.rand(64, 3, 8, 8)
    augment = AdaptiveAugment(xflip=True, p=0.0)
    out, va_changed = augment(images, torch.Generator().manual_seed(0))
    mirrored = torch.tensor([torch.equal(a, b.flip(2)) for a, b in zip(out, images)])
    kept = torch.tensor([torch.equal(a, b) for a, b in zip(out, images)])
    assert (mirrored ^ kept).all() and 16 < mirrored.sum() < 48 and not va_changed.any()
    unflipped, _ = AdaptiveAugment(p=0.0)(images, torch.Generator().manual_seed(0))
    assert torch.equal(unflipped, images)


def test_zoom_and_rotation_move_only_the_chosen_images_keep_their_va_and_pass_gradients():
    images = (torch.rand(8, 3, 32, 32) * 2 - 1).requires_grad_(True)
    zoomed = torch.tensor([True, False] * 4)
    rotated = torch.tensor([True, True, False, False] * 2)
    out = _zoom_and_rotate(images, zoomed, rotated, torch.Generator().manual_seed(0))
    moved = zoomed | rotated
    assert out.shape == images.shape and torch.equal(out[~moved], images[~moved])  # untouched bit for bit
    assert all(not torch.allclose(a, b) for a, b in zip(out[moved], images[moved]))
    out.sum().backward()  # G learns through D's view of its augmented images
    assert images.grad is not None and images.grad.abs().sum() > 0
    geometric = AdaptiveAugment(p=1.0, translation=False, cutout=False, geometric=True)
    _, va_changed = geometric(images.detach(), torch.Generator().manual_seed(0))
    assert not va_changed.any()  # a zoomed or tilted landscape keeps its valence and arousal


def test_a_quarter_turn_and_a_zoom_sample_the_pixels_they_should():
    """The grid maps each output pixel to its source: a 90-degree turn of a 4x4 image moves pixels exactly, and a
    zoom in by 2 of a linear ramp halves its slope about the centre (over whole periods of bicubic's small ripple)."""
    image = torch.arange(16.0).reshape(1, 1, 4, 4)
    with torch.no_grad():
        turned = _resample(image, torch.tensor([math.pi / 2]), torch.tensor([1.0]))
    assert torch.allclose(turned, torch.rot90(image, 1, dims=(2, 3)), atol=1e-4) \
        or torch.allclose(turned, torch.rot90(image, -1, dims=(2, 3)), atol=1e-4)
    ramp = torch.linspace(-1, 1, 16).expand(1, 1, 16, 16).contiguous()
    zoomed = _resample(ramp, torch.tensor([0.0]), torch.tensor([2.0]))
    step = float(ramp[0, 0, 0, 1] - ramp[0, 0, 0, 0])
    assert float(zoomed[0, 0, 8, 12] - zoomed[0, 0, 8, 4]) / 8 == pytest.approx(step / 2, abs=1e-4)
    assert float(zoomed[0, 0, 8, 7:9].mean()) == pytest.approx(0.0, abs=1e-4)  # about the centre


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_translation_is_an_exact_whole_pixel_shift_under_bf16_autocast(dtype):
    size, limit = 64, 8  # shifts are at most 1/8 of the size
    images = (torch.rand(8, 3, size, size) * 2 - 1).to(dtype)
    chosen = torch.tensor([False, True] * 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = _translate(images, chosen, torch.Generator().manual_seed(1))
    assert out.dtype == dtype and torch.equal(out[~chosen], images[~chosen])  # bit for bit
    padded = np.pad(images.float().numpy(), ((0, 0), (0, 0), (limit, limit), (limit, limit)), mode="symmetric")
    for index in chosen.nonzero().flatten().tolist():
        shifted = out[index].float().numpy()
        matches = [(dy, dx) for dy in range(-limit, limit + 1) for dx in range(-limit, limit + 1)
                   if np.array_equal(shifted, padded[index, :, limit - dy:limit - dy + size, limit - dx:limit - dx + size])]
        assert len(matches) == 1 and matches[0] != (0, 0), matches
        dy, dx = matches[0]
        rolled = torch.roll(images[index], (dy, dx), dims=(1, 2))
        assert torch.equal(out[index, :, limit:-limit, limit:-limit], rolled[:, limit:-limit, limit:-limit])


def test_va_losses_skip_cut_out_samples():
    from helpers.losses import GANLoss
    from helpers.models.discriminator import Discriminator

    discriminator = Discriminator(model_config_for_size(64, d_channels=(8, 8, 8, 8)))
    reals, fakes = torch.rand(4, 3, 64, 64) * 2 - 1, torch.rand(4, 3, 64, 64) * 2 - 1
    real_va, fake_va = torch.rand(4, 2), torch.rand(4, 2)
    every_image_cut = AdaptiveAugment(p=1.0, translation=False, cutout=True)
    stats = GANLoss(None, discriminator, augment=every_image_cut).d_main(reals, real_va, fakes, fake_va)
    assert stats["d_va_loss"].item() == 0.0
    stats = GANLoss(None, discriminator, augment=AdaptiveAugment(p=1.0, cutout=False)).d_main(reals, real_va, fakes, fake_va)
    assert stats["d_va_loss"].item() > 0.0


@pytest.mark.parametrize("direction", [1.0, -1.0])
def test_va_losses_teach_d_the_labels_and_g_the_colour(direction):
    """On flat images whose brightness codes valence (brighter or darker with it) and whose
    warmth codes arousal, D's VA head learns the labels and G learns to follow them.
    Both codings: a generator that passed only by its initial tilt would fail one of them."""

    from helpers.config import ModelConfig
    from helpers.losses import GANLoss
    from helpers.metrics.correlation import spearman
    from helpers.models.discriminator import Discriminator
    from helpers.models.generator import Generator

    config = ModelConfig(image_size=64, latent_dim=16, g_channels=(32, 16, 16, 8), d_channels=(8, 16, 16, 16))
    va = torch.rand(32, 2)
    reals = (0.7 * direction * (2 * va[:, 0] - 1))[:, None, None, None] + 0.05 * torch.randn(32, 3, 64, 64)
    warmth = 0.3 * (2 * va[:, 1] - 1)[:, None, None]
    reals[:, 0] += warmth
    reals[:, 2] -= warmth
    reals = reals.clamp(-1, 1)
    generator, discriminator = Generator(config), Discriminator(config)
    # A large VA weight makes the VA terms dominate the hinge: this tests the VA signal alone (and a
    # frozen D's hinge would pull every fake towards its one favourite image).
    loss = GANLoss(generator, discriminator, va_weight=100.0, va_sensitivity_weight=0.0)
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=2e-3, betas=(0.0, 0.99))
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=2e-3, betas=(0.0, 0.99))
    d_va_losses = []
    for _ in range(60):  # 30 steps left the halving to chance (ratio 0.13-0.68 over seeds); 60 give 0.03-0.31
        chosen, fake_va = torch.randint(32, (16,)), torch.rand(16, 2)
        with torch.no_grad():
            fakes = generator(torch.randn(16, config.latent_dim), fake_va)
        d_optimizer.zero_grad()
        d_va_losses.append(loss.d_main(reals[chosen], va[chosen], fakes, fake_va)["d_va_loss"].item())
        d_optimizer.step()
    assert np.mean(d_va_losses[-5:]) < 0.5 * np.mean(d_va_losses[:5])

    discriminator.requires_grad_(False)
    only_adversarial = PhaseWeights(3, adversarial=1.0, reconstruction=0.0, lpips=0.0)
    for _ in range(30):
        fake_va = torch.rand(16, 2)
        g_optimizer.zero_grad()
        loss.g_main(generator(torch.randn(16, config.latent_dim), fake_va), fake_va, 8, reals[:16], va[:16], only_adversarial)
        g_optimizer.step()
    valence = torch.linspace(0, 1, 16)
    with torch.no_grad():
        brightness = generator(torch.randn(16, config.latent_dim), torch.stack([valence, torch.full((16,), 0.5)], 1)).mean(dim=(1, 2, 3))
    assert direction * spearman(valence.numpy(), brightness.numpy()) > 0.8
    assert direction * (brightness[-4:].mean() - brightness[:4].mean()) > 0.2  # a visible change, not a tilt


def test_ci_runs_write_every_file(ci_runs):
    out, vae, gan = ci_runs
    for name in ("vae_best.pth", "vae_final.pth", "progressive_gen_best.pth", "progressive_gen_ema_best.pth",
                 "progressive_gen_final.pth", "progressive_dis_best.pth"):
        assert (out / name).is_file(), name
    for run in (vae.run_dir, gan.run_dir):
        assert (run / "config.json").is_file() and (run / "log.txt").is_file() and (run / "training_state.pt").is_file()
        assert json.loads((run / "config.json").read_text())
    assert list((vae.run_dir).glob("reconstructions-*.png"))
    assert list((gan.run_dir / "samples").glob("va-grid-*.png"))
    records = [json.loads(line) for line in (gan.run_dir / "stats.jsonl").read_text().splitlines()]
    losses = [r for r in records if "g_total" in r]
    assert losses and {"ada_p", "g_lr", "d_lr", "eru0_gamma_min", "images_per_second"} <= set(losses[-1])
    assert gan.finished
    from helpers.models.checkpoint import load_generator

    start, final = load_generator(vae.best_path), load_generator(out / "progressive_gen_final.pth")
    changed = [key for key, value in final.state_dict().items() if not torch.equal(value, start.state_dict()[key])]
    assert changed  # G's optimiser stepped: the GAN did not just save its VAE warm start


def _snapshot(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("lecam_weight", [0.0, 0.3])
def test_resume_continues_exactly_like_an_uninterrupted_run(tiny_landscapes, ci_runs, tmp_path, lecam_weight):
    """With the LeCam term too: its anchors are part of the run state, or the resumed D would step differently."""
    from helpers.models.checkpoint import load_model
    from helpers.training.gan import train_gan

    train, val = tiny_landscapes
    out, vae, _ = ci_runs
    config = preset("ci", "gan", eval_every=0, epochs=4, lecam_weight=lecam_weight)  # 2 steps per epoch: 8 steps
    whole = train_gan(config, train, val, vae.best_path, out_dir=tmp_path / "a", progress=False, lpips_model=None)
    part = train_gan(config, train, val, vae.best_path, out_dir=tmp_path / "b", progress=False, lpips_model=None, max_steps=3)  # stops mid-epoch
    assert not part.finished
    rest = train_gan(config, train, val, vae.best_path, out_dir=tmp_path / "b", progress=False, lpips_model=None, resume=part.run_dir)
    assert rest.finished
    a, _ = load_model(tmp_path / "a" / "progressive_gen_final.pth", "generator")
    b, _ = load_model(tmp_path / "b" / "progressive_gen_final.pth", "generator")
    for key, value in a.state_dict().items():
        assert torch.allclose(value, b.state_dict()[key], atol=1e-6), key
    steps_a = [r["step"] for r in whole.history if "g_total" in r]
    steps_b = [r["step"] for r in rest.history if "g_total" in r]
    assert steps_a == steps_b  # the same stats records, none doubled or lost
    assert any("lecam_penalty" in r for r in rest.history) == (lecam_weight > 0)
    adversarial = [r for r in rest.history if "g_loss" in r]
    assert adversarial and all(np.isfinite(r["dot_repeat"]) for r in adversarial)  # logged whatever its weight


def test_dot_repeat_penalty_changes_training_only_from_its_start(tiny_landscapes, ci_runs, tmp_path):
    from helpers.models.checkpoint import load_model
    from helpers.training.gan import train_gan

    train, val = tiny_landscapes
    _, vae, _ = ci_runs
    generators = {}
    for name, settings in {"off": {}, "never": dict(dot_repeat_weight=50.0, dot_repeat_start=1.0),
                           "second half": dict(dot_repeat_weight=50.0, dot_repeat_start=0.5)}.items():
        config = preset("ci", "gan", eval_every=0, epochs=4, **settings)  # 8 steps, the last 4 with the penalty
        train_gan(config, train, val, vae.best_path, out_dir=tmp_path / name, progress=False, lpips_model=None)
        generators[name] = load_model(tmp_path / name / "progressive_gen_final.pth", "generator")[0].state_dict()
    same = [torch.equal(value, generators["never"][key]) for key, value in generators["off"].items()]
    changed = [not torch.equal(value, generators["second half"][key]) for key, value in generators["off"].items()]
    assert all(same) and any(changed)


def test_nan_guard_stops_with_a_clear_message(tiny_landscapes, ci_runs, tmp_path, monkeypatch):
    from helpers import losses
    from helpers.training.gan import TrainingDiverged, train_gan

    train, val = tiny_landscapes
    _, vae, _ = ci_runs
    original = losses.GANLoss.g_main

    def poisoned(self, *args, **kwargs):
        stats = original(self, *args, **kwargs)
        stats["g_total"] = torch.tensor(float("nan"))
        return stats

    monkeypatch.setattr(losses.GANLoss, "g_main", poisoned)
    with pytest.raises(TrainingDiverged, match=r"g_total became nan by step \d+.*last good state"):
        train_gan(preset("ci", "gan", eval_every=0), train, val, vae.best_path, out_dir=tmp_path, progress=False, lpips_model=None)


def test_a_preset_without_the_lpips_term_never_loads_alexnet(tiny_landscapes, ci_runs, tmp_path, monkeypatch):
    from helpers import readings
    from helpers.perceptual import PerceptualWeightsMissing
    from helpers.training import gan

    train, val = tiny_landscapes
    _, vae, _ = ci_runs
    loads = []

    def missing():
        loads.append(1)
        raise PerceptualWeightsMissing("no AlexNet here")

    monkeypatch.setattr(gan, "load_lpips", missing)
    without = gan.train_gan(preset("ci", "gan", eval_every=0, lpips_weight=0.0), train, val, vae.best_path,
                            out_dir=tmp_path / "without", progress=False, max_steps=2)
    assert loads == []
    assert "lpips_weight is 0" in readings.read_lpips(without.run_dir)
    with pytest.warns(UserWarning, match="without the LPIPS term"):
        scheduled = gan.train_gan(preset("ci", "gan", eval_every=0), train, val, vae.best_path,
                                  out_dir=tmp_path / "scheduled", progress=False, max_steps=2)
    assert loads == [1]
    assert "LPIPS is OFF" in readings.read_lpips(scheduled.run_dir)


def test_the_generators_checkpoints_record_the_runs_discriminator_settings(tiny_landscapes, ci_runs, tmp_path):
    """D's settings may differ from the VAE's (d_settings); G's checkpoints say which D trained them."""
    from helpers.models.checkpoint import load_generator, load_model
    from helpers.training.gan import train_gan
    from helpers.training.runs import read_config

    train, val = tiny_landscapes
    _, vae, _ = ci_runs
    result = train_gan(preset("ci", "gan", eval_every=0, epochs=1), train, val, vae.best_path, out_dir=tmp_path,
                       progress=False, lpips_model=None, d_settings={"d_full_resolution_channels": 8})
    assert load_model(vae.best_path, "vae")[0].config.d_full_resolution_channels == 0
    for name in ("gen_final", "gen_ema_final"):
        assert load_generator(result.checkpoints[name]).config.d_full_resolution_channels == 8
    assert read_config(result.run_dir)["model"]["d_full_resolution_channels"] == 8


def test_a_resumed_run_keeps_its_d_settings_and_may_go_on_upsampling_another_way(tiny_landscapes, ci_runs, tmp_path):
    """A run started with d_settings resumes without them being passed again (or D's weights would not fit), and a
    continued run may change G's upsampling (no weight depends on it); a later resume keeps the new way."""
    from helpers.models.checkpoint import load_generator
    from helpers.training.gan import train_gan
    from helpers.training.runs import read_config

    train, val = tiny_landscapes
    _, vae, _ = ci_runs
    config = preset("ci", "gan", eval_every=0, epochs=2)  # 2 steps per epoch
    kwargs = dict(out_dir=tmp_path, progress=False, lpips_model=None)
    part = train_gan(config, train, val, vae.best_path, **kwargs, d_settings={"d_full_resolution_channels": 8}, max_steps=1)
    softer = train_gan(config, train, val, vae.best_path, **kwargs, resume=part.run_dir, upsample="bilinear_last", max_steps=1)
    rest = train_gan(config, train, val, vae.best_path, **kwargs, resume=part.run_dir)
    assert not softer.finished and rest.finished
    model = read_config(rest.run_dir)["model"]
    assert model["d_full_resolution_channels"] == 8 and model["upsample"] == "bilinear_last"
    generator = load_generator(rest.checkpoints["gen_ema_final"])
    assert generator.config.upsample == "bilinear_last" and generator.to_full_resolution.bilinear


def test_r1_under_bf16_autocast_sees_the_weights_of_the_d_step_before_it(tiny_landscapes, ci_runs, tmp_path, monkeypatch):
    """autocast keeps a bf16 copy of each weight until its block ends: R1 run in the block of the D step
    before it would score the reals with D's weights from before that step."""
    from helpers import losses
    from helpers.training.gan import train_gan

    train, val = tiny_landscapes
    _, vae, _ = ci_runs
    original, checked = losses.GANLoss.d_r1, []

    def checking(self, reals, real_va):
        seen, _ = self.discriminator(reals, real_va)  # in the loop's autocast block, with whatever it cached
        with torch.autocast("cpu", dtype=torch.bfloat16, cache_enabled=False):
            fresh, _ = self.discriminator(reals, real_va)  # D's weights now, cast afresh
        checked.append((seen.float() - fresh.float()).abs().max().item())
        return original(self, reals, real_va)

    monkeypatch.setattr(losses.GANLoss, "d_r1", checking)
    config = preset("ci", "gan", eval_every=0, r1_interval=1, precision="bf16", xflip=False, ada="off")
    train_gan(config, train, val, vae.best_path, out_dir=tmp_path, progress=False, lpips_model=None)
    # At most a bf16 rounding apart (1.2e-4 measured: oneDNN may take another kernel the first time it meets a shape,
    # with D's full-resolution start); D's weights from before its step score these reals 1.8-2.1 away in this run.
    assert checked and max(checked) < 1e-2, checked


def test_generate_is_per_image_seeded(ci_runs):
    from helpers.generate import generate
    from helpers.models.checkpoint import load_generator

    out, _, _ = ci_runs
    generator = load_generator(out / "progressive_gen_ema_best.pth")
    batch = generate(generator, 3.0, 7.0, seeds=[10, 11, 12])
    alone = generate(generator, 3.0, 7.0, seeds=[11])
    # Same z and VA; CPU kernels may pick another summation order per batch size, so a value
    # can round to the neighbouring uint8 level (seen on an AMD EPYC), never further.
    assert np.abs(batch[1].astype(int) - alone[0]).max() <= 1
    other_va = generate(generator, 8.0, 2.0, seeds=[11])
    assert not np.array_equal(alone, other_va)  # a generator that ignores VA fails this (next test)
    with pytest.raises(ValueError, match="valence must be between 1 and 9"):
        generate(generator, 0.5, 5.0, seeds=[1])


class _IgnoresVA(torch.nn.Module):
    def forward(self, x, va):
        return x


def test_va_reaches_the_image_only_through_the_erus(ci_runs):
    from helpers.generate import generate
    from helpers.models.checkpoint import load_generator

    out, _, _ = ci_runs
    generator = load_generator(out / "progressive_gen_ema_best.pth")
    generator.start_eru = _IgnoresVA()
    for stage in generator.stages:
        stage.eru = _IgnoresVA()
    assert np.array_equal(generate(generator, 3.0, 7.0, seeds=[11]), generate(generator, 8.0, 2.0, seeds=[11]))


def test_generate_command_writes_a_png(ci_runs, tmp_path):
    from PIL import Image

    from helpers.cli import main

    out, _, _ = ci_runs
    target = tmp_path / "sample.png"
    code = main(["generate", "--weights", str(out / "progressive_gen_ema_best.pth"), "--valence", "7", "--arousal", "3",
                 "--n", "4", "--seed", "5", "--out", str(target)])
    assert code == 0 and Image.open(target).size[0] > 4 * 64
    assert main(["generate", "--weights", str(out / "progressive_dis_best.pth"), "--valence", "7", "--arousal", "3",
                 "--out", str(tmp_path / "x.png")]) == 2


def test_epochs_within_a_budget():
    from helpers.training.budget import epochs_within

    assert epochs_within(10, images_per_second=100, images_per_epoch=1000, most=95) == 60
    assert epochs_within(10, images_per_second=1000, images_per_epoch=1000, most=95) == 95  # a fast machine: all of them
    assert epochs_within(0.01, images_per_second=1, images_per_epoch=1000, most=95) == 1
    with pytest.raises(ValueError, match="minutes"):
        epochs_within(0, 100, 1000, 95)


def test_asking_for_epochs_turns_the_presets_time_budget_off():
    assert preset("quick", "gan").minutes > 0 and preset("quick", "diffusion").minutes > 0
    assert preset("quick", "gan", epochs=7).minutes == 0 and preset("quick", "gan", epochs=7).epochs == 7
    assert preset("quick", "gan", epochs=7, minutes=3).minutes == 3


def pretend_machine_speed(monkeypatch, images_per_second: float) -> list:
    """Makes the time budget see a machine of this speed; returns the rates its probes really measured."""
    from helpers.training import budget

    real_rate, measured = budget.measured_rate, []

    def pretend(history):
        measured.append(real_rate(history))  # the probe really trained and timed its steps
        return images_per_second

    monkeypatch.setattr(budget, "measured_rate", pretend)
    return measured


def forbid_timing(monkeypatch):
    from helpers.training import budget

    def refuse(history):
        raise AssertionError("a resumed run must keep its epochs, not time the machine again")

    monkeypatch.setattr(budget, "measured_rate", refuse)


def test_a_time_budget_trains_the_epochs_that_fit_and_a_resumed_run_keeps_them(tiny_landscapes, ci_runs, tmp_path, monkeypatch,
                                                                               pretend_budget_seconds):
    from helpers.training.gan import train_gan

    train, val = tiny_landscapes  # 36 images: 2 steps of 16 a epoch
    _, vae, _ = ci_runs
    measured = pretend_machine_speed(monkeypatch, 1.7)  # images/s: one minute holds 102 images, 3 epochs of 32
    pretend_budget_seconds(steps=32 / 1.7)  # and the steps themselves run at the probe's rate
    config = preset("ci", "gan", eval_every=0, epochs=10, minutes=1.0)
    part = train_gan(config, train, val, vae.best_path, out_dir=tmp_path, progress=False, lpips_model=None, max_steps=2)
    assert len(measured) == 1 and measured[0] > 0 and not part.finished
    recorded = json.loads((part.run_dir / "config.json").read_text())
    assert recorded["gan"]["epochs"] == 3 and recorded["budget"]["epochs_asked"] == 10
    assert recorded["budget"]["measured_images_per_second"] == 1.7
    forbid_timing(monkeypatch)
    rest = train_gan(config, train, val, vae.best_path, out_dir=tmp_path, progress=False, lpips_model=None,
                     resume=part.run_dir)
    assert rest.finished
    assert max(record["step"] for record in rest.history if "step" in record) == 3 * 2


@pytest.mark.parametrize("probe_rate, steps_rate, epochs", [(3.2, 1.6, 3), (1.7, 3.2, 6)])
def test_the_gans_budget_refits_its_epochs_to_what_its_own_steps_take(tiny_landscapes, ci_runs, tmp_path, monkeypatch,
                                                                       pretend_budget_seconds, probe_rate, steps_rate, epochs):
    from helpers.training.budget import BudgetClock
    from helpers.training.gan import train_gan

    train, val = tiny_landscapes  # 36 images: 2 steps of 16 a epoch; epoch 1 ends in phase 3
    _, vae, _ = ci_runs
    pretend_machine_speed(monkeypatch, probe_rate)  # the probe fits 6 epochs (3.2 images/s) or 3 (1.7)
    pretend_budget_seconds(steps=32 / steps_rate)
    config = preset("ci", "gan", eval_every=0, epochs=10, minutes=1.0)
    result = train_gan(config, train, val, vae.best_path, out_dir=tmp_path, progress=False, lpips_model=None)
    assert result.finished
    assert max(record["step"] for record in result.history if "step" in record) == epochs * 2
    recorded = json.loads((result.run_dir / "config.json").read_text())
    budget = recorded["budget"]
    assert recorded["gan"]["epochs"] == budget["epochs_refitted"] == epochs
    assert budget["epochs_fitted"] == (6 if probe_rate == 3.2 else 3)
    assert budget["refitted_after_epoch"] == BudgetClock.REFIT_AFTER and budget["refit_images_per_second"] == steps_rate
    assert budget["seconds_used"] <= 60 and f"so {epochs} epochs" in (result.run_dir / "log.txt").read_text()
    refits = [record["epochs"] for record in result.history if "epochs" in record]
    assert refits == [epochs]


def test_the_gans_budget_counts_its_set_up_and_evaluations(tiny_landscapes, ci_runs, tmp_path, monkeypatch,
                                                           pretend_budget_seconds):
    from helpers.training.gan import train_gan

    train, val = tiny_landscapes  # 36 images: 2 steps of 16 a epoch; epoch 1 ends in phase 3
    _, vae, _ = ci_runs
    pretend_machine_speed(monkeypatch, 3.2)  # steps at 3.2 images/s: 6 epochs of 32 images in the minute
    # and the steps do run at 3.2 images/s, but the probe takes 3 s, the set-up after it 3 s, and each epoch's grid
    # and checkpoint 5 s:
    pretend_budget_seconds(steps=10.0, evaluation=5.0, overhead=3.0)
    config = preset("ci", "gan", eval_every=0, epochs=10, minutes=1.0)
    result = train_gan(config, train, val, vae.best_path, out_dir=tmp_path, progress=False, lpips_model=None)
    # The 57 s left after the probe hold 5 epochs of steps. After 3 epochs 3 + 3 + 15 + 15 + 10 = 46 s are used;
    # 14 are left, and a 4th epoch with its evaluation and the last evaluation (10 + 5 + 5) would not fit, so the
    # run ends at 3: 51 s, 54 with the final checkpoints. Counting steps alone, it would have trained 6 epochs in
    # 60 s of steps and 99 s in all.
    assert result.finished and max(record["step"] for record in result.history if "step" in record) == 3 * 2
    budget = json.loads((result.run_dir / "config.json").read_text())["budget"]
    assert budget["probe_seconds"] == 3.0 and budget["epochs_fitted"] == 5
    assert budget["epochs_refitted"] == 3 and budget["seconds_used"] == 46.0 and budget["stage_seconds"] == 54.0
    assert "budget: 0.9 of 1 minutes used" in (result.run_dir / "log.txt").read_text()


def test_a_resumed_gan_run_spends_only_the_seconds_its_budget_has_left(tiny_landscapes, ci_runs, tmp_path, monkeypatch,
                                                                       pretend_budget_seconds):
    from helpers.training.budget import BudgetClock
    from helpers.training.gan import train_gan

    train, val = tiny_landscapes  # 36 images: 2 steps of 16 a epoch; epoch 1 ends in phase 3
    _, vae, _ = ci_runs
    monkeypatch.setattr(BudgetClock, "REFIT_AFTER", 1)  # forecast from the first timed epoch on
    pretend_machine_speed(monkeypatch, 1.7)
    pretend_budget_seconds(steps=10.0)  # 3.2 images/s: one minute holds 6 epochs of 32
    config = preset("ci", "gan", eval_every=0, epochs=10, minutes=1.0)
    part = train_gan(config, train, val, vae.best_path, out_dir=tmp_path, progress=False, lpips_model=None, max_steps=2)
    assert json.loads((part.run_dir / "config.json").read_text())["gan"]["epochs"] == 6  # 10 s used, 50 s left: 5 more
    rest = train_gan(config, train, val, vae.best_path, out_dir=tmp_path, progress=False, lpips_model=None,
                     resume=part.run_dir)
    # Had the resumed run forgotten its first 10 s, it would have found room for a 7th epoch.
    assert rest.finished and max(record["step"] for record in rest.history if "step" in record) == 6 * 2


def pretend_clock(monkeypatch):
    """``after(seconds, booking, ...)``: the budget's clock moves ``seconds`` on, then ``booking(...)`` is called."""
    from helpers.training import budget

    time = [0.0]
    monkeypatch.setattr(budget, "now", lambda: time[0])

    def after(seconds, booking, *args, **kwargs):
        time[0] += seconds
        booking(*args, **kwargs)

    return after


def test_the_budget_clock_counts_every_second_and_forecasts_steps_from_the_timed_laps(monkeypatch):
    from helpers.training.budget import BudgetClock

    after = pretend_clock(monkeypatch)
    clock = BudgetClock(minutes=2.0, seconds_used=5.0)  # resumed: 5 s were spent before
    after(3, clock.book_overhead)  # this sitting's set-up
    after(10, clock.book_steps, images=100, timed=False)  # a warm-up epoch: says nothing about phase 3's rate
    after(2, clock.book_evaluation)
    for _ in range(BudgetClock.REFIT_AFTER - 1):
        after(10, clock.book_steps, images=50, timed=True)
        after(2, clock.book_evaluation)
    assert clock.seconds_used == 8.0 + 12.0 * BudgetClock.REFIT_AFTER
    assert clock.epochs_that_fit(epochs_done=3, images_per_epoch=50, most=100) is None  # too few timed laps yet
    after(10, clock.book_steps, images=50, timed=True)
    assert clock.images_per_second == 5.0 and clock.seconds_used == 54.0
    # 120 - 54 = 66 s, less the last evaluation (2 s): 64 s hold 5 epochs of 10 s of steps and a 2 s evaluation
    assert clock.epochs_that_fit(epochs_done=4, images_per_epoch=50, most=100) == 9
    assert clock.epochs_that_fit(epochs_done=4, images_per_epoch=10, most=6) == 6  # never past ``most``
    for _ in range(5):
        after(2, clock.book_evaluation)
        after(10, clock.book_steps, images=50, timed=True)
    assert clock.seconds_used == 114.0  # the 9th epoch's steps: its evaluation takes the last 2 s of the 120
    assert clock.epochs_that_fit(epochs_done=9, images_per_epoch=50, most=100) == 9
    after(2, clock.book_evaluation)
    after(10, clock.book_steps, images=50, timed=True)  # 126 s: over the budget, so the run stops where it is
    assert clock.epochs_that_fit(epochs_done=10, images_per_epoch=50, most=100) == 10


def test_the_budget_clock_keeps_its_longest_evaluation_for_the_last_epoch(monkeypatch):
    from helpers.training.budget import BudgetClock

    after = pretend_clock(monkeypatch)
    clock = BudgetClock(minutes=1.6)
    for evaluation in (2, 2, 2, 8):  # the 4th epoch's evaluation is a KID check
        after(10, clock.book_steps, images=50, timed=True)
        after(evaluation, clock.book_evaluation)
    after(10, clock.book_steps, images=50, timed=True)
    assert clock.seconds_used == 64.0
    # 96 - 64 = 32 s left. The last epoch's evaluation scores, so it is counted as the longest seen (8 s): the
    # other 24 s hold one more epoch of 10 s of steps and a mean evaluation of 3.5 s, not the two that 32 s would.
    assert clock.epochs_that_fit(epochs_done=5, images_per_epoch=50, most=100) == 6


def test_the_vaes_time_budget_trains_the_epochs_that_fit_and_a_resumed_run_keeps_them(tiny_landscapes, tmp_path,
                                                                                       monkeypatch, pretend_budget_seconds):
    from helpers.training.vae import train_vae

    train, val = tiny_landscapes  # 36 images: 2 steps of 16 a epoch
    assert preset("quick", "vae").minutes > 0 and preset("quick", "vae", epochs=3).minutes == 0
    measured = pretend_machine_speed(monkeypatch, 1.2)  # images/s: one minute holds 72 images, 2 epochs of 32
    pretend_budget_seconds(steps=32 / 1.2)  # and the steps themselves run at the probe's rate
    config = preset("ci", "vae", epochs=10, minutes=1.0)
    result = train_vae(config, model_config_for_size(64, "ci"), train, val, out_dir=tmp_path, progress=False)
    assert len(measured) == 1 and measured[0] > 0
    assert [record["epoch"] for record in result.history] == [1, 2]
    recorded = json.loads((result.run_dir / "config.json").read_text())
    assert recorded["vae"]["epochs"] == 2 and recorded["budget"]["epochs_asked"] == 10
    assert "budget: 1.2 images/s" in (result.run_dir / "log.txt").read_text()
    forbid_timing(monkeypatch)
    again = train_vae(config, model_config_for_size(64, "ci"), train, val, out_dir=tmp_path, progress=False,
                      resume=result.run_dir)
    assert [record["epoch"] for record in again.history] == [1, 2]


def test_the_vaes_budget_refits_its_epochs_to_what_its_own_epochs_take(tiny_landscapes, tmp_path, monkeypatch,
                                                                        pretend_budget_seconds):
    from helpers.training.vae import train_vae

    train, val = tiny_landscapes  # 36 images: 2 steps of 16 a epoch
    pretend_machine_speed(monkeypatch, 100.0)  # the probe: all 10 epochs fit in the minute
    pretend_budget_seconds(steps=10.0, evaluation=5.0, overhead=2.0)  # but the epochs take 10 s of steps and 5 of checks
    config = preset("ci", "vae", epochs=10, minutes=1.0)
    result = train_vae(config, model_config_for_size(64, "ci"), train, val, out_dir=tmp_path, progress=False)
    # after epoch 3's steps 2 + 2 + 15 + 15 + 10 = 44 s are used: a 4th epoch, its check and the last check
    # (10 + 5 + 5) would end past the minute
    assert [record["epoch"] for record in result.history] == [1, 2, 3]
    recorded = json.loads((result.run_dir / "config.json").read_text())
    assert recorded["vae"]["epochs"] == 3 and recorded["budget"]["epochs_fitted"] == 10
    assert recorded["budget"]["epochs_refitted"] == 3 and recorded["budget"]["stage_seconds"] == 51.0
    assert "so 3 epochs" in (result.run_dir / "log.txt").read_text()
    assert (tmp_path / "vae_final.pth").is_file() and (result.run_dir / "reconstructions-0003.png").is_file()


def test_the_probe_rate_drops_the_warm_up_record_and_takes_the_median():
    from helpers.training.budget import measured_rate

    records = [{"images_per_second": rate} for rate in (5.0, 50.0, 60.0, 200.0)] + [{"kid": 0.1}]
    assert measured_rate(records) == 60.0  # not the mean (103), not swayed by the slow first record
    with pytest.raises(RuntimeError, match="at least 2"):
        measured_rate(records[:1])


def test_keeping_freed_memory_stops_the_page_faults_of_reallocating_a_feature_map():
    """In a fresh process (the setting lasts for the process): a 64 MB tensor (a feature map of the 128 px D; glibc
    adapts its mmap threshold up to 32 MB at most) freed and made again first-touches fresh pages each time, until
    keep_freed_memory() (once the heap has grown to hold it: on a 2-core Zen 5, 40 runs needed 2, 3 or 4 rounds of
    4 tensors, and a CI machine at least 4, so the test gives it 10 and checks the last 3)."""
    import subprocess
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("glibc's mallopt: Linux only")
    script = (
        "import resource, torch\n"
        "from helpers.training.memory import keep_freed_memory\n"
        "def faults():\n"
        "    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "    for _ in range(4):\n"
        "        torch.ones(64, 64, 64, 64)\n"
        "    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before\n"
        "faults()\n"
        "before = faults()\n"
        "kept = keep_freed_memory()\n"
        "print(before, kept, *[faults() for _ in range(10)])\n"
    )
    before, kept, *rounds = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                           check=True).stdout.split()
    assert kept == "True"
    assert int(before) > 4 * 15_000  # 16,384 pages of 4 KiB per 64 MB tensor
    assert [int(count) < 100 for count in rounds[-3:]] == [True] * 3, rounds
