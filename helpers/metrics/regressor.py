"""An independent valence-arousal regressor: the judge for how well a generator obeys its VA input.

Scoring generated images with the GAN's own discriminator head would let the generator grade its
own homework (the two were trained together and can share blind spots). This is a separate small
CNN trained only on real labelled images. Its error on held-out real images is the *ceiling*: the
regressor cannot tell VA apart better than that, so a generator's VA error is read against it.

Network: four stride-2 3x3 convolutions (BatchNorm, ReLU), global average pooling, a linear
layer to 2 outputs and a sigmoid, i.e. ``rating_to_unit`` (valence, arousal) in [0, 1]; MSE loss.
Inputs are resized to 64x64 (pinned: ``F.interpolate`` bilinear, antialias=True, then rounded to
uint8) and scaled to [-1, 1]. The only augmentation is a horizontal flip: colour jitter or crops
would change the very cues (brightness, saturation, horizon) that carry the emotion.
"""

import math
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from helpers.va import check_ratings, rating_to_unit, unit_to_rating

CHECKPOINT_VERSION = 1


@dataclass
class RegressorConfig:
    image_size: int = 64
    widths: tuple[int, ...] = (16, 32, 64, 128)
    epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 2e-3
    seed: int = 0


class VARegressorNet(nn.Module):
    def __init__(self, widths: tuple[int, ...]):
        super().__init__()
        layers, channels = [], 3
        for width in widths:
            layers += [nn.Conv2d(channels, width, 3, stride=2, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
            channels = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(channels, 2)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """float (N, 3, H, W) in [-1, 1] -> (N, 2): (valence, arousal) in [0, 1]."""
        return torch.sigmoid(self.head(self.features(images).mean(dim=(2, 3))))


def resize_uint8(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 (N, H, W, 3) -> uint8 (N, size, size, 3); bilinear with antialias (pinned), rounded."""
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"Expected uint8 images shaped (N, H, W, 3); got {images.dtype} {images.shape}.")
    if images.shape[1:3] == (size, size):
        return images
    resized = np.empty((len(images), size, size, 3), dtype=np.uint8)
    for start in range(0, len(images), 256):
        x = torch.from_numpy(np.ascontiguousarray(images[start : start + 256])).permute(0, 3, 1, 2).float()
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        resized[start : start + len(x)] = x.round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
    return resized


def _to_input(images_uint8: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images_uint8)).permute(0, 3, 1, 2).float() / 127.5 - 1.0


class VARegressor:
    """A trained ``VARegressorNet`` with its config; predicts 1-9 ratings from uint8 images."""

    def __init__(self, net: VARegressorNet, config: RegressorConfig, train_seconds: float = float("nan")):
        self.net = net.eval()
        self.config = config
        self.train_seconds = train_seconds

    @torch.no_grad()
    def predict(self, images: np.ndarray, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """uint8 (N, H, W, 3), any size -> (valence, arousal), float64 arrays on 1-9."""
        device = next(self.net.parameters()).device
        small = resize_uint8(images, self.config.image_size)
        outputs = [
            self.net(_to_input(small[start : start + batch_size]).to(device)).cpu()
            for start in range(0, len(small), batch_size)
        ]
        ratings = unit_to_rating(torch.cat(outputs).double().numpy())
        return ratings[:, 0], ratings[:, 1]

    def save(self, path) -> None:
        torch.save(
            {
                "version": CHECKPOINT_VERSION,
                "config": asdict(self.config),
                "state_dict": self.net.state_dict(),
                "train_seconds": self.train_seconds,
            },
            path,
        )

    @classmethod
    def load(cls, path, device: str | torch.device = "cpu") -> "VARegressor":
        checkpoint = torch.load(path, map_location=device, weights_only=True)
        if checkpoint.get("version") != CHECKPOINT_VERSION or "state_dict" not in checkpoint:
            raise ValueError(
                f"{path} is not a VA regressor checkpoint of version {CHECKPOINT_VERSION} "
                "(expected keys version, config, state_dict); retrain with train_va_regressor and save it."
            )
        config = RegressorConfig(**{**checkpoint["config"], "widths": tuple(checkpoint["config"]["widths"])})
        net = VARegressorNet(config.widths).to(device)
        net.load_state_dict(checkpoint["state_dict"])
        return cls(net, config, float(checkpoint.get("train_seconds", float("nan"))))


def train_va_regressor(
    images: np.ndarray,
    valence: np.ndarray,
    arousal: np.ndarray,
    epochs: int = 10,
    seed: int = 0,
    progress: bool = True,
    *,
    batch_size: int = 64,
    learning_rate: float = 2e-3,
    image_size: int = 64,
    widths: tuple[int, ...] = (16, 32, 64, 128),
    device: str | torch.device = "cpu",
) -> VARegressor:
    """Train a VA regressor on real uint8 (N, H, W, 3) images with 1-9 valence/arousal labels.

    Adam with cosine learning-rate decay, MSE on ``rating_to_unit`` targets, random horizontal
    flips; ``seed`` fixes the
    initialisation, the batch order and the flips.
    """
    valence = check_ratings("valence", valence, len(images))
    arousal = check_ratings("arousal", arousal, len(images))
    config = RegressorConfig(image_size, tuple(widths), epochs, batch_size, learning_rate, seed)
    started = time.perf_counter()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    net = VARegressorNet(config.widths).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=learning_rate)
    # Cosine decay to 0 over all steps: the last epochs settle instead of ending on a noisy step.
    steps = epochs * math.ceil(len(images) / batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(steps, 1))
    small = resize_uint8(images, image_size)
    targets = torch.from_numpy(np.stack([rating_to_unit(valence), rating_to_unit(arousal)], axis=1)).float()

    epoch_range = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        epoch_range = tqdm(epoch_range, desc="VA regressor", unit="epoch")
    net.train()
    for _ in epoch_range:
        order = torch.randperm(len(small), generator=generator)
        total_loss = 0.0
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            if len(rows) < 2:  # BatchNorm needs two samples to estimate a variance.
                continue
            batch = _to_input(small[rows.numpy()])
            flip = torch.rand(len(rows), generator=generator) < 0.5
            batch[flip] = batch[flip].flip(dims=[3])
            loss = F.mse_loss(net(batch.to(device)), targets[rows].to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total_loss += loss.item() * len(rows)  # .item() syncs with the device once per batch
        if progress:
            epoch_range.set_postfix(mse=total_loss / len(order))
    return VARegressor(net, config, train_seconds=time.perf_counter() - started)
