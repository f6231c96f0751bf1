"""Losses, and the GAN loss as one object with three named steps (after StyleGAN2-ADA):

* ``d_main``: hinge loss on reals and fakes + the VA head's regression loss on reals (+ the LeCam
  term, with a weight);
* ``d_r1``:   the lazy R1 penalty on reals (every ``r1_interval`` steps, scaled up to match);
* ``g_main``: hinge generator loss + VA loss on fakes + VA-sensitivity loss (the original's "diversity loss") (+ the
  dot-repeat penalty) + reconstruction (MSE + LPIPS) on the encoder's latents, each with the schedule's weight.

Each step computes its loss, calls ``backward()`` and returns its numbers; the training loop
owns the optimisers.
"""

import torch
import torch.nn.functional as F


def d_hinge_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """max(0, 1 - D(x)) + max(0, 1 + D(G(z))) (Lim & Ye 2017; Miyato et al. 2018)."""
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()


def g_hinge_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    return -fake_scores.mean()


def va_loss(predicted: torch.Tensor, target: torch.Tensor, keep: torch.Tensor = None,
            spread: torch.Tensor = None) -> torch.Tensor:
    """Mean squared error of (valence, arousal) in [0, 1], over the samples in ``keep``; with
    ``spread`` (2,), each dimension's error is divided by spread**2 (the labels' variance), so a
    head that always answers the mean scores about 1 whatever the labels' range."""
    error = (predicted.float() - target.float()).pow(2)
    if spread is not None:
        error = error / spread.float().pow(2)
    error = error.mean(dim=1)
    if keep is None:
        return error.mean()
    return (error * keep).sum() / keep.sum().clamp(min=1)


def r1_penalty(real_scores: torch.Tensor, reals: torch.Tensor) -> torch.Tensor:
    """||grad_x D(x)||^2 on reals (Mescheder et al., ICML 2018); ``reals`` must require grad."""
    (gradient,) = torch.autograd.grad(real_scores.sum(), reals, create_graph=True)
    return gradient.pow(2).sum(dim=(1, 2, 3)).mean()


class LeCamAnchors:
    """The LeCam regulariser (Tseng et al., CVPR 2021, "Regularizing GANs under limited data"):
    ||D(x) - a_fake||^2 on reals + ||D(G(z)) - a_real||^2 on fakes, where a_real and a_fake are moving
    averages (decay 0.99, the paper's) of D's mean score on reals and on fakes. It pulls each side's
    scores towards where the other side's have been, so D cannot drive them apart without bound on a
    small training set; the paper shows it complements augmentation such as ADA.

    The anchors stay on D's device (no host sync per step) and go into the run state for a resume."""

    decay = 0.99

    def __init__(self):
        self.real, self.fake = 0.0, 0.0

    def penalty(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        """The term for this batch against the anchors so far; then the anchors move towards this batch."""
        term = (real_scores - self.fake).pow(2).mean() + (fake_scores - self.real).pow(2).mean()
        self.real = self.decay * self.real + (1 - self.decay) * real_scores.detach().mean()
        self.fake = self.decay * self.fake + (1 - self.decay) * fake_scores.detach().mean()
        return term

    def midpoint(self):
        """The score between the two anchors: where real and generated images part, whatever shift D's scores took."""
        return 0.5 * (self.real + self.fake)

    def state_dict(self) -> dict:
        return {"real": float(self.real), "fake": float(self.fake)}

    def load_state_dict(self, state: dict) -> None:
        self.real, self.fake = state["real"], state["fake"]


def va_sensitivity_loss(first: torch.Tensor, second: torch.Tensor, first_va: torch.Tensor,
                        second_va: torch.Tensor, margin: float = 0.4) -> torch.Tensor:
    """Pairs made from the same z with different VA must differ in proportion to their VA distance.

    The original project called this a "diversity loss"; it asks for sensitivity to VA, not for
    variety across seeds (which notebook 04's diversity metric measures), so it is named for that.

    The image distance is the mean absolute difference of 16x16 average-pooled images (the
    colour layout, not texture); a pair is penalised when it is below ``margin`` times the
    VA distance. This is what stops "every VA gives the same image", the pure VAE's failure.
    """
    image_distance = (F.adaptive_avg_pool2d(first, 16) - F.adaptive_avg_pool2d(second, 16)).abs().mean(dim=(1, 2, 3))
    va_distance = (first_va - second_va).norm(dim=1)
    return F.relu(margin * va_distance - image_distance.float()).mean()


def dot_repeat_loss(images: torch.Tensor, contrast: float = 0.0) -> torch.Tensor:
    """How much the fine bright detail (stars, snow) of different images sits on the same pixels: the mean, over
    ordered pairs of different images, of the pixel-wise product of their detail maps. Each map is the brightness
    above its 3x3 neighbourhood's mean by more than ``contrast`` (0: all fine detail, texture too; 0.3 on [-1, 1] is
    about metrics.dot_positions' 40 levels of 255: stars and snow only), less that map's own 7x7 mean, so regional
    texture (grass below, sky above) cancels and only pixel-scale placement counts. Dots placed independently of each
    other score about 0 however many there are; the same dots in every image, or all dots on one phase of the 2-pixel
    grid, score above 0 (the "texture sticking" of Karras et al. 2021, StyleGAN3, measured by metrics.dot_positions).

    ``images`` (N, 3, H, W) must come from N different inputs: two images of one latent may share their dots.
    0 for fewer than two images."""
    brightness = images.float().mean(dim=1, keepdim=True)
    dots = F.relu(brightness - F.avg_pool2d(brightness, 3, 1, 1, count_include_pad=False) - contrast)
    detail = (dots - F.avg_pool2d(dots, 7, 1, 3, count_include_pad=False)).flatten(1)
    count = detail.shape[0]
    if count < 2:
        return detail.new_zeros(())  # no pairs to compare
    # sum over b != c of <d_b, d_c> = |sum_b d_b|^2 - sum_b |d_b|^2: one pass instead of N^2 products
    pairs = detail.sum(0).pow(2).sum() - detail.pow(2).sum()
    return pairs / (count * (count - 1))


def reconstruction_loss(reconstruction: torch.Tensor, target: torch.Tensor, lpips_model=None,
                        lpips_weight: float = 0.0) -> tuple:
    """(MSE, LPIPS) of a reconstruction; LPIPS is computed only when it has a weight."""
    mse = F.mse_loss(reconstruction.float(), target.float())
    if lpips_model is None or lpips_weight <= 0:
        return mse, reconstruction.new_zeros((), dtype=torch.float32)
    return mse, lpips_model(reconstruction.float(), target.float()).mean()


class GANLoss:
    """The three named steps of GAN training; see the module docstring."""

    def __init__(self, generator, discriminator, encoder=None, augment=None, lpips_model=None,
                 r1_gamma: float = 5.0, r1_interval: int = 16, va_weight: float = 0.5,
                 va_sensitivity_weight: float = 0.3, va_sensitivity_margin: float = 0.4, noise=None,
                 g_va_weight: float = None, va_spread: torch.Tensor = None, lecam_weight: float = 0.0,
                 dot_repeat_contrast: float = 0.0):
        self.generator, self.discriminator, self.encoder = generator, discriminator, encoder
        self.augment, self.lpips_model = augment, lpips_model
        self.r1_gamma, self.r1_interval = r1_gamma, r1_interval
        self.va_weight, self.va_sensitivity_weight, self.va_sensitivity_margin = va_weight, va_sensitivity_weight, va_sensitivity_margin
        self.noise = noise  # a torch.Generator for the augmentations, seeded per step by the loop
        self.g_va_weight = va_weight if g_va_weight is None else g_va_weight  # G's pull towards D's VA head
        self.va_spread = va_spread  # (2,) label standard deviations: VA errors in units of it (va_loss)
        self.lecam_weight = lecam_weight
        self.lecam = LeCamAnchors() if lecam_weight > 0 else None
        self.dot_repeat_contrast = dot_repeat_contrast  # detail counts above it in the dot-repeat penalty (its weight: the schedule's)

    def _discriminate(self, images: torch.Tensor, va: torch.Tensor):
        """D's (score, predicted VA, 1 for samples whose VA cues no augmentation changed, else 0)."""
        va_changed = torch.zeros(images.shape[0], dtype=torch.bool, device=images.device)
        if self.augment is not None:
            images, va_changed = self.augment(images, self.noise)  # colour and cutout change VA
        score, predicted_va = self.discriminator(images, va)
        return score.float(), predicted_va, (~va_changed).float()

    def d_main(self, reals, real_va, fakes, fake_va) -> dict:
        """Hinge on [reals; fakes] in one pass + the VA head on reals."""
        batch = reals.shape[0]
        score, predicted_va, keep = self._discriminate(torch.cat([reals, fakes.detach()]), torch.cat([real_va, fake_va]))
        adversarial = d_hinge_loss(score[:batch], score[batch:])
        va = va_loss(predicted_va[:batch], real_va, keep[:batch], self.va_spread)
        total = adversarial + self.va_weight * va
        stats = {}
        if self.lecam is not None:
            lecam = self.lecam.penalty(score[:batch], score[batch:])
            total = total + self.lecam_weight * lecam
            stats["lecam_penalty"] = lecam.detach()
        total.backward()
        if self.augment is not None:
            # With LeCam, ADA's overfitting sign is taken about the anchors' midpoint (augment.observe). Measured: D's
            # scores on both sides drifted to +0.6-0.9, the raw sign read that as overfitting and held p at its cap.
            self.augment.observe(score[:batch], batch, self.lecam.midpoint() if self.lecam is not None else 0.0)
        return {"d_loss": adversarial.detach(), "d_va_loss": va.detach(), **stats,
                "d_real_score": score[:batch].detach().mean(), "d_fake_score": score[batch:].detach().mean()}

    def d_r1(self, reals, real_va) -> dict:
        """Lazy R1: gamma/2 * ||grad||^2 every r1_interval steps, times the interval (Karras et al. 2020)."""
        reals = reals.detach().requires_grad_(True)
        images = reals if self.augment is None else self.augment(reals, self.noise)[0]
        score, _ = self.discriminator(images, real_va)
        penalty = r1_penalty(score.float(), reals)
        (0.5 * self.r1_gamma * self.r1_interval * penalty).backward()
        return {"r1_penalty": penalty.detach()}

    def g_main(self, fakes, fake_va, pair_split: int, reals, real_va, weights) -> dict:
        """Generator losses for one batch of fakes, weighted by the phase schedule.

        ``fakes[:pair_split]`` and ``fakes[pair_split:2 * pair_split]`` share their z (see
        ``va_sensitivity_loss``).
        """
        total = reals.new_zeros((), dtype=torch.float32)
        stats = {}
        if weights.adversarial > 0:
            score, predicted_va, keep = self._discriminate(fakes, fake_va)
            adversarial = g_hinge_loss(score)
            va = va_loss(predicted_va, fake_va, keep, self.va_spread)
            first, second = fakes[:pair_split], fakes[pair_split:2 * pair_split]
            sensitivity = va_sensitivity_loss(first, second, fake_va[:pair_split], fake_va[pair_split:2 * pair_split], self.va_sensitivity_margin)
            # Logged with or without its weight: how much the fakes' fine detail sticks to pixels (reals score ~0).
            unique = torch.cat([first, fakes[2 * pair_split:]])  # one image per z
            repeat = dot_repeat_loss(unique if weights.dot_repeat > 0 else unique.detach(), self.dot_repeat_contrast)
            total = total + weights.adversarial * (adversarial + self.g_va_weight * va + self.va_sensitivity_weight * sensitivity
                                                   + weights.dot_repeat * repeat)
            stats.update(g_loss=adversarial.detach(), g_va_loss=va.detach(), va_sensitivity_loss=sensitivity.detach(),
                         dot_repeat=repeat.detach())
        if weights.reconstruction > 0 or (weights.lpips > 0 and self.lpips_model is not None):
            with torch.no_grad():
                latents, _ = self.encoder(reals)
            reconstruction = self.generator(latents, real_va)
            mse, perceptual = reconstruction_loss(reconstruction, reals, self.lpips_model, weights.lpips)
            total = total + weights.reconstruction * mse + weights.lpips * perceptual
            stats.update(recon_mse=mse.detach(), lpips=perceptual.detach())
        total.backward()
        stats["g_total"] = total.detach()
        return stats
