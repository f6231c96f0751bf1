"""LPIPS (Zhang et al., CVPR 2018) with an offline-friendly loader.

The ``lpips`` package ships only its linear heads; the AlexNet backbone comes from
torchvision's model zoo, which downloads ``alexnet-owt-7be5be79.pth`` into torch's hub cache
on first use. On a machine without internet that download fails; ``load_lpips`` turns the
failure into one message that says where to put the file.
"""

from pathlib import Path

import torch

ALEXNET_FILE = "alexnet-owt-7be5be79.pth"


class PerceptualWeightsMissing(RuntimeError):
    """LPIPS's AlexNet weights are not in torch's hub cache and could not be downloaded."""


def alexnet_weights_path() -> Path:
    """Where torchvision looks for (and downloads) the AlexNet weights LPIPS needs."""
    return Path(torch.hub.get_dir()) / "checkpoints" / ALEXNET_FILE


def missing_weights_message() -> str:
    return (
        f"LPIPS needs torchvision's AlexNet weights ({ALEXNET_FILE}) and could not download them. "
        f"On a machine with internet, run `python -c \"import torchvision; "
        f"torchvision.models.alexnet(weights='IMAGENET1K_V1')\"`, or copy the file to "
        f"{alexnet_weights_path()} (TORCH_HOME changes that folder)."
    )


def load_lpips(random_backbone: bool = False) -> torch.nn.Module:
    """An LPIPS-AlexNet module in eval mode with frozen weights.

    ``random_backbone=True`` uses an untrained AlexNet (no download): only for tests.
    Raises ``PerceptualWeightsMissing`` with instructions when the weights cannot be had.
    """
    import warnings

    try:
        import lpips
    except ImportError as error:
        raise PerceptualWeightsMissing("the lpips package is not installed: pip install lpips") from error

    try:
        with warnings.catch_warnings():  # lpips calls torchvision's deprecated `pretrained=` API
            warnings.simplefilter("ignore", UserWarning)
            model = lpips.LPIPS(net="alex", pretrained=True, pnet_rand=random_backbone, verbose=False)
    except (OSError, RuntimeError) as error:  # URLError is an OSError; a broken file is a RuntimeError
        if random_backbone:
            raise
        raise PerceptualWeightsMissing(missing_weights_message()) from error
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


def lpips_available() -> bool:
    """True when the AlexNet weights are already in the hub cache (no network needed)."""
    return alexnet_weights_path().is_file()
