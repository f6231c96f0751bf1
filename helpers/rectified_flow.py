"""Rectified flow (flow matching): how the diffusion model is trained and how it samples.

A clean image x0 and Gaussian noise eps are joined by a straight line,

    x_t = (1 - t) x0 + t eps,    t in [0, 1]   (x_0 is the image, x_1 pure noise),

and the network learns the velocity along it, v = dx_t/dt = eps - x0, with a plain mean squared
error (Liu et al. 2022, "Flow straight and fast"; Lipman et al. 2022, "Flow matching"; the
formulation of Stable Diffusion 3, Esser et al. 2024). Sampling starts at pure noise (t = 1) and
walks back to t = 0 with Euler steps x <- x + (t_next - t) v(x, t).

Why this formulation rather than DDPM's noise prediction (what the original project used):

* the loss is one line, and there is no noise schedule (betas, alphas, their cumulative
  products) to tabulate, get right, and keep in sync between training and sampling;
* the paths are straight lines, so a few Euler steps (8-16) already land close; DDPM needs
  hundreds of steps, or a DDIM sampler to cut them;
* times are drawn logit-normal (SD3, section 3.1): most training at middle t, where the velocity
  is hardest to predict, instead of uniformly.

Classifier-free guidance (Ho & Salimans 2022) mixes the conditional and the unconditional
prediction, v = v_uncond + s (v_cond - v_uncond): s = 1 is the plain conditional model, s = 0
ignores VA, s > 1 pushes further along what VA changes (the original used s = 5).
"""

import torch

DEFAULT_STEPS = 16
DEFAULT_GUIDANCE = 2.0


def noisy_images(images: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """x_t = (1 - t) x0 + t eps, with t (B,) broadcast over the pixels."""
    t = t.view(-1, 1, 1, 1)
    return (1 - t) * images + t * noise


def velocity_target(images: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """v = eps - x0, the derivative of x_t along its straight path."""
    return noise - images


def logit_normal_times(count: int, mean: float = 0.0, std: float = 1.0, generator=None, device="cpu") -> torch.Tensor:
    """t = sigmoid(n), n ~ N(mean, std): (count,) times in (0, 1) (Esser et al. 2024, eq. 19)."""
    return torch.sigmoid(mean + std * torch.randn(count, generator=generator, device=device))


def flow_matching_loss(model, images, va, noise, t, drop_va=None) -> torch.Tensor:
    """E || v(x_t, t, va) - (eps - x0) ||^2, averaged over pixels and the batch."""
    predicted = model(noisy_images(images, noise, t), t, va, drop_va)
    return (predicted.float() - velocity_target(images, noise)).pow(2).mean()


def guided_velocity(model, x: torch.Tensor, t: torch.Tensor, va: torch.Tensor, guidance: float) -> torch.Tensor:
    """v_uncond + guidance * (v_cond - v_uncond). Scale 1 needs only the conditional pass and
    scale 0 only the unconditional one; otherwise both run as one doubled batch."""
    if guidance == 1:
        return model(x, t, va)
    if guidance == 0:
        return model(x, t, None)
    drop = torch.cat([torch.zeros(len(x), dtype=torch.bool), torch.ones(len(x), dtype=torch.bool)]).to(x.device)
    conditional, unconditional = model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([va, va]), drop).chunk(2)
    return unconditional + guidance * (conditional - unconditional)


def sample(model, noise: torch.Tensor, va: torch.Tensor, steps: int = DEFAULT_STEPS, guidance: float = DEFAULT_GUIDANCE,
           method: str = "euler", trajectory: list = None) -> torch.Tensor:
    """Images (B, 3, S, S) in about [-1, 1] from noise (B, 3, S, S) at t = 1, with ``steps``
    equal steps to t = 0. ``method``: "euler", or "heun" (Karras et al. 2022, Alg. 1: a second
    evaluation at the step's end, averaged; about twice the cost per step). Deterministic: the
    same noise, VA, steps and guidance give the same images. ``trajectory``: a list that receives
    (t, x_t, predicted x0 = x_t - t v) before every step."""
    if method not in ("euler", "heun"):
        raise ValueError(f"method must be 'euler' or 'heun', not {method!r}")
    if steps < 1:
        raise ValueError(f"steps must be at least 1, not {steps}")
    times = torch.linspace(1.0, 0.0, steps + 1, device=noise.device)
    x = noise
    for t, t_next in zip(times[:-1], times[1:]):
        velocity = guided_velocity(model, x, t.expand(len(x)), va, guidance)
        if trajectory is not None:
            trajectory.append((t.item(), x, x - t * velocity))
        x_next = x + (t_next - t) * velocity
        if method == "heun" and t_next > 0:
            velocity_next = guided_velocity(model, x_next, t_next.expand(len(x)), va, guidance)
            x_next = x + (t_next - t) * 0.5 * (velocity + velocity_next)
        x = x_next
    return x
