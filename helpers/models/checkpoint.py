"""Checkpoints are data: a state_dict, the model config, the kind of model and the package
version, saved with ``torch.save`` and read back with ``torch.load(weights_only=True)``.
No pickled code, so a checkpoint from another version or a stranger cannot run anything.

``load_model`` rebuilds the model from the checkpoint alone; a checkpoint of another kind
or shape fails with one sentence that names the difference.
"""

import os
from pathlib import Path

import torch

import helpers
from helpers.config import FIRST_VERSION_MODEL, DiffusionModelConfig, ModelConfig, from_dict, to_dict
from helpers.models.discriminator import Discriminator
from helpers.models.encoder import VAE, Encoder
from helpers.models.generator import Generator
from helpers.models.unet import UNet

MODEL_CLASSES = {"generator": Generator, "vae": VAE, "encoder": Encoder, "discriminator": Discriminator, "diffusion": UNet}


class CheckpointError(ValueError):
    """A checkpoint that cannot be used here; the message says why and what to pass instead."""


def atomic_save(obj, path) -> Path:
    """Save to a temporary file, then rename: a crash never leaves a half-written checkpoint."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    torch.save(obj, temporary)
    os.replace(temporary, path)
    return path


def save_model(model, path, kind: str, extra: dict = None) -> Path:
    return atomic_save(
        {
            "kind": kind,
            "version": helpers.__version__,
            "model_config": to_dict(model.config),
            "state_dict": model.state_dict(),
            "extra": extra or {},
        },
        path,
    )


def export_generator(source, out_path, extra: dict = None) -> Path:
    """A generator checkpoint with its weights stored in fp16 (half the size; loading casts them
    back to fp32), for shipping: ``weights/reference/generator.pth``."""
    generator = load_generator(source)
    if not isinstance(generator, Generator):
        raise CheckpointError(f"{source} is not a GAN generator checkpoint; export-reference ships the GAN generator.")
    half = {key: value.half() if value.is_floating_point() else value for key, value in generator.state_dict().items()}
    return atomic_save({"kind": "generator", "version": helpers.__version__, "model_config": to_dict(generator.config),
                        "state_dict": half, "extra": {"source": str(source), "fp16": True, **(extra or {})}}, out_path)


def read_checkpoint(path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # pickle, zip and torch errors all mean: not a usable checkpoint
        raise CheckpointError(f"{path} is not a checkpoint this package can read ({type(error).__name__}: {error}).") from error
    if not isinstance(data, dict) or "kind" not in data or "model_config" not in data:
        raise CheckpointError(f"{path} is not a va-landscapes checkpoint (no kind/model_config); was it saved by another project?")
    return data


def _with_first_version_settings(settings: dict) -> dict:
    """Checkpoints written before a setting existed were made with the first version's design."""
    first = {key: value for key, value in FIRST_VERSION_MODEL.items() if key != "d_channels"}
    return {**first, "encoder_channels": settings.get("d_channels"), **settings}


def config_differences(expected: ModelConfig, found: ModelConfig) -> list:
    return [
        f"{name}={getattr(found, name)!r} (expected {getattr(expected, name)!r})"
        for name in to_dict(expected)
        if getattr(expected, name) != getattr(found, name)
    ]


def _model_config(kind: str, settings: dict):
    if kind == "diffusion":
        return from_dict(DiffusionModelConfig, settings).check()
    return from_dict(ModelConfig, _with_first_version_settings(settings)).check()


def load_model(path, kind: str, expected_config=None, device="cpu"):
    """Rebuild a model of ``kind`` from its checkpoint; (model, checkpoint dict)."""
    data = read_checkpoint(path)
    if data["kind"] != kind:
        raise CheckpointError(f"{path} holds a {data['kind']} checkpoint, but a {kind} is needed here.")
    try:
        config = _model_config(kind, data["model_config"])
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{path}: its model settings are not understood ({error}).") from error
    if expected_config is not None:
        differences = config_differences(expected_config, config)
        if differences:
            raise CheckpointError(f"{path} does not fit this model: it was trained with {', '.join(differences)}.")
    model = MODEL_CLASSES[kind](config)
    try:
        model.load_state_dict(data["state_dict"])
    except RuntimeError as error:
        raise CheckpointError(f"{path}: its weights do not match a {kind} built from its own config ({str(error).splitlines()[0]}).") from error
    return model.to(device), data


def load_generator(path, device="cpu"):
    """What ``helpers.generate.generate`` takes, by the checkpoint's kind: the GAN generator of a
    generator checkpoint (use progressive_gen_ema_best.pth), a VAE's decoder, or a diffusion model
    (diffusion_ema.pth)."""
    data = read_checkpoint(path)
    if data["kind"] == "vae":
        vae, _ = load_model(path, "vae", device=device)
        return vae.decoder.eval()
    if data["kind"] == "diffusion":
        model, _ = load_model(path, "diffusion", device=device)
        return model.eval()
    if data["kind"] != "generator":
        raise CheckpointError(f"{path} holds a {data['kind']} checkpoint, which generates nothing; pass a generator "
                              "(progressive_gen_ema_best.pth), VAE or diffusion (diffusion_ema.pth) checkpoint.")
    generator, _ = load_model(path, "generator", device=device)
    # Channels-last weights, which every feature map then follows (Generator._layout). On a 2-core Zen 3 (fp32), NCHW
    # and channels-last alternating in one process: one image and the slider's callback 2-3% faster (slider_latency.py
    # --layouts), a batch of 64 16% (benchmarks/README.md, twentieth session).
    return generator.to(memory_format=torch.channels_last).eval()
